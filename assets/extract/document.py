"""Extract every table of one 部门预算 PDF.

``extract_document(path, sha256)`` is the stage's pure entry point: it reads
the page text, rejects documents without a usable text layer, finds the table
titles, runs camelot (lattice, then hybrid for pages lattice cannot read),
joins tables that break across pages, maps headers to canonical fields and
returns an :class:`ExtractionResult` whose rows carry their page and index.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from assets.extract.cells import clean_text, header_text, to_halfwidth
from assets.extract.grid import Piece, build_rows, strip_page_furniture
from assets.extract.pdf_text import (
    PageText,
    UnreadableDocument,
    check_text_layer,
    empty_table_note,
    find_department,
    find_unit,
    find_year,
    read_pages,
    title_lines,
)
from assets.extract.templates import Template, is_title_line, match_title
from assets.extract.text_tables import build_text_table
from assets.extract.two_sided import build_two_sided
from assets.crawl.detect import REASON_FINAL_ACCOUNTS, detect_doc_type
from assets.records import DOC_FINAL_ACCOUNTS, ExtractedTable, ExtractionResult

log = logging.getLogger(__name__)

#: bump when extraction changes so cached results are recomputed
EXTRACTOR_VERSION = "6"
#: a PDF without template tables: often the narrative (说明) half of a document set (assets/extract/document_sets.py)
REASON_NO_TABLE = ("no budget table found (no page carries a template table title): narrative only, or the tables "
                   "are another PDF of the same department and year")
#: below this camelot accuracy a page is retried with another flavor
MIN_ACCURACY = 80.0


@dataclass
class _OpenTable:
    tpl: Template
    title: str
    page: PageText
    pieces: list[Piece] = field(default_factory=list)


def _page_titles(page: PageText) -> list[tuple[str, Template | None]]:
    """Title lines of a page (as printed, spaces removed) with the template each names.

    Titles stand in the first lines; on a table page (one with a 单位：万元 line) whose head names no
    template, a template title further down counts too: pdfium reads some 江苏 pages' title last."""
    found = []
    for raw in page.lines[:6]:
        line = clean_text(raw)
        if is_title_line(line):
            found.append((line, match_title(line)))
    if not any(t for _, t in found) and find_unit(page.text):
        for raw in page.lines[6:]:
            line = clean_text(raw)
            tpl = match_title(line)
            if tpl or _OTHER_TABLE_TITLE.search(header_text(line)) and is_title_line(line):
                found.append((line, tpl))
    return found


#: titles of published tables no template knows (recorded as unrecognised, with their page)
_OTHER_TABLE_TITLE = re.compile(r"(预算|采购|经费|收支|支出|收入).*表(\(.*\))?$")


def _is_toc(page: PageText) -> bool:
    head = "".join(title_lines(page, 3))
    if "目录" in head.replace(" ", ""):
        return True
    matches = sum(1 for ln in page.lines if match_title(clean_text(to_halfwidth(ln))))
    if matches >= 3:
        return True
    # a contents page continued: numbered table titles ("十二、政府采购支出预算表") next to "第三部分 …"
    lines = [clean_text(to_halfwidth(ln)) for ln in page.lines]
    numbered = sum(1 for ln in lines if _NUMBERED_TITLE.match(ln))
    parts = sum(1 for ln in lines if _PART_HEADING.match(ln))
    return numbered >= 3 or (numbered >= 2 and parts >= 1)


_NUMBERED_TITLE = re.compile(r"^[一二三四五六七八九十]+、.{2,40}表$")
_PART_HEADING = re.compile(r"^第[一二三四五六七八九十]+部分")


#: slower line detection, then a text-alignment parser, for pages the fast path cannot read
FALLBACKS = (("lattice", "combined"), ("hybrid", None))


def _needs_retry(pieces: list[Piece] | None) -> bool:
    return not pieces or min(p.accuracy or 0 for p in pieces) < MIN_ACCURACY or _glued(pieces)


#: a label and an amount in one cell ("八、社会保障和就业支出\n1,374.63"): a column rule the vector engine missed
_GLUED = re.compile(r"[\u4e00-\u9fff）)]\s*\n\s*-?[\d,]+\.\d{2}\s*$")


def _glued(pieces: list[Piece]) -> bool:
    return any(_GLUED.search(c) for p in pieces for row in p.cells for c in row)


def _ncols(piece: Piece) -> int:
    return max((len(r) for r in piece.cells), default=0)


def _best(pieces: list[Piece]) -> float:
    return max(p.accuracy or 0 for p in pieces)


def _camelot_tables(path: Path, pages: list[int], flavor: str, engine: str | None = None) -> dict[int, list[Piece]]:
    """camelot tables of some pages, as :class:`Piece` s; ``flavor`` records "lattice/vector" etc."""
    import camelot

    if not pages:
        return {}
    kwargs: dict = {}
    if flavor == "lattice":
        kwargs = {"copy_text": ["h", "v"], "split_text": True, "engine": engine or "combined"}
    label = f"{flavor}/{engine}" if engine else flavor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = camelot.read_pdf(
            str(path), pages=",".join(str(p) for p in pages), flavor=flavor, suppress_stdout=True, **kwargs
        )
    out: dict[int, list[Piece]] = {}
    for t in tables:
        report = t.parsing_report
        page = int(report.get("page", t.page))
        cells = [[str(c) for c in row] for row in t.df.values.tolist()]
        out.setdefault(page, []).append(
            Piece(page=page, cells=cells, table_index=len(out.get(page, [])), flavor=label,
                  accuracy=float(report.get("accuracy") or 0.0))
        )
    return out


def _finish(open_table: _OpenTable, result: ExtractionResult, problems: list[str]) -> None:
    tpl, page = open_table.tpl, open_table.page
    pieces = [strip_page_furniture(p) for p in open_table.pieces]
    pieces = [p for p in pieces if p.cells]
    unit = find_unit(page.text) or "万元"
    department = find_department(page.text)
    note = empty_table_note(page.text)
    table = ExtractedTable(
        table_type=tpl.key,
        title=open_table.title,
        pages=sorted({p.page for p in pieces} or {page.number}),
        unit=unit,
        rows=[],
        department=department,
        note=note,
        flavor=pieces[0].flavor if pieces else None,
        accuracy=min((p.accuracy for p in pieces if p.accuracy is not None), default=None),
    )
    if pieces:
        if tpl.kind == "two_sided":
            table.rows, table.columns, probs = build_two_sided(pieces)
        elif tpl.kind == "text":
            table.rows, table.columns, table.extra, probs = build_text_table(pieces, tpl)
        else:
            table.rows, _, field_of, probs = build_rows(pieces, tpl)
            table.columns = [field_of[j] for j in sorted(field_of)]
        problems.extend(f"{tpl.name}: {p}" for p in probs)
    if tpl.key == "three_public" and "three_public_subtotal" in table.columns:
        _three_public_with_meetings(table)
    # published without data: no amount other than zero (a 合计 row of blanks or 0.00), no record
    if tpl.kind == "text":
        table.empty = not table.rows
    elif not any(_has_amount(r.values) for r in table.rows):
        table.empty = True
        table.rows = []
    result.tables.append(table)


def _three_public_with_meetings(table: ExtractedTable) -> None:
    """江苏's table adds 会议费 and 培训费 to the 三公: its 合计 covers all five, the 三公 total is
    “三公”经费/小计.  ``total`` is the 三公 total everywhere, so the 合计 becomes ``total_with_meetings``."""
    for row in table.rows:
        v = row.values
        if "total" in v:
            v["total_with_meetings"] = v.pop("total")
        if "three_public_subtotal" in v:
            v["total"] = v.pop("three_public_subtotal")
    table.columns = ["total" if c == "three_public_subtotal" else "total_with_meetings" if c == "total" else c
                     for c in table.columns]


def _has_amount(values: dict) -> bool:
    """A non-zero amount among the values."""
    return any(isinstance(v, Decimal) and v != 0 for v in values.values())


def table_pages(pages: list[PageText]) -> tuple[dict[int, list[tuple[str, Template | None]]], list[int]]:
    """The title lines of each page (table of contents excepted) and the pages handed to camelot:
    every page from the first titled one on (tables run over untitled continuation pages)."""
    titled: dict[int, list[tuple[str, Template | None]]] = {}
    for page in pages:
        if _is_toc(page):
            continue
        titles = _page_titles(page)
        if titles:
            titled[page.number] = titles
    if not titled:
        return titled, []
    first = min(titled)
    return titled, [p.number for p in pages if p.number >= first]


def extract_document(path: str | Path, sha256: str) -> ExtractionResult:
    """Extract all template tables of a PDF (see module doc)."""
    path = Path(path)
    pages: list[PageText] = []
    try:
        pages = read_pages(path)
        check_text_layer(pages)
    except UnreadableDocument as exc:
        return ExtractionResult(document_sha256=sha256, page_count=len(pages), tables=[], status="rejected",
                                reason=str(exc))

    result = ExtractionResult(document_sha256=sha256, page_count=len(pages), tables=[])
    first_text = "\n".join(p.text for p in pages[:2])
    result.title = next((clean_text(ln) for ln in pages[0].lines if "预算" in ln or "决算" in ln), None)
    if detect_doc_type(first_page=pages[0].text) == DOC_FINAL_ACCOUNTS:
        result.status, result.reason = "skipped", REASON_FINAL_ACCOUNTS
        result.fiscal_year = find_year(result.title or "")
        return result
    result.fiscal_year = find_year(result.title or "") or find_year(first_text)
    result.department = find_department(first_text)

    titled, candidates = table_pages(pages)
    if not titled:
        result.narrative = "\n".join(p.text for p in pages)
        result.status, result.reason = "rejected", REASON_NO_TABLE
        return result
    first_table_page = candidates[0]
    try:
        # the fast path: ruled lines read from the PDF's vector graphics, no page rendering
        grids = _camelot_tables(path, candidates, "lattice", "vector")
    except Exception as exc:  # camelot/pdfium failures on a damaged file
        result.status, result.reason = "rejected", f"table extraction failed: {type(exc).__name__}: {exc}"
        return result
    # pages with a title but no ruled table, or a poor parse: retry with slower, more tolerant paths
    for flavor, engine in FALLBACKS:
        retry = [n for n in titled if any(t for _, t in titled[n] if t) and _needs_retry(grids.get(n))]
        if not retry:
            break
        try:
            others = _camelot_tables(path, retry, flavor, engine)
        except Exception as exc:  # recorded in the log, the previous result is kept
            log.warning("%s retry failed on %s: %s", flavor, path, exc)
            continue
        for n in retry:
            got = others.get(n)
            if got and (not grids.get(n) or _best(got) > _best(grids[n])
                        or (_glued(grids[n]) and not _glued(got) and _best(got) >= _best(grids[n]) - 5)):
                if flavor == "lattice" or not empty_table_note(pages[n - 1].text):
                    grids[n] = got

    problems: list[str] = []
    narrative: list[str] = [p.text for p in pages if p.number < first_table_page]
    current: _OpenTable | None = None
    by_number = {p.number: p for p in pages}
    for n in candidates:
        page = by_number[n]
        pieces = grids.get(n, [])
        titles = titled.get(n, [])
        if titles:
            if current:
                _finish(current, result, problems)
                current = None
            known = [(line, t) for line, t in titles if t]
            for line, t in titles:
                if t is None and pieces:  # a title line over no table ("附件：…预算表") is text
                    result.unrecognised.append({"title": line, "page": n, "tables": len(pieces)})
            if not known:
                continue
            # pair titles and tables top-down; a single title takes every table of its page
            if len(known) == 1:
                # one title: its table, and the pieces of the same shape below it; a table of another
                # shape under it is another (untitled) table, recorded, never mixed in
                same = [p for p in pieces if pieces and _ncols(p) == _ncols(pieces[0])]
                for p in pieces:
                    if p not in same:
                        result.unrecognised.append({"title": None, "page": n, "table_index": p.table_index,
                                                    "rows": len(p.cells), "after": known[0][0]})
                current = _OpenTable(known[0][1], known[0][0], page, same)
            else:
                for i, (line, t) in enumerate(known):
                    part = [pieces[i]] if i < len(pieces) else []
                    ot = _OpenTable(t, line, page, part)
                    if i < len(known) - 1:
                        _finish(ot, result, problems)
                    else:
                        current = ot
        elif current and pieces and current.pieces and len(pieces[0].cells[0]) == len(current.pieces[-1].cells[0]):
            current.pieces.extend(pieces)  # the table breaks across pages
        else:
            if current:
                _finish(current, result, problems)
                current = None
            if not pieces:
                narrative.append(page.text)
    if current:
        _finish(current, result, problems)
    result.narrative = "\n".join(narrative)
    if problems:
        result.unrecognised.extend({"problem": p} for p in problems)
    if not result.department:  # the name most tables print (one 部门名称 line may wrap: "江苏省人大" / "常委会办公厅")
        names = Counter(t.department for t in result.tables if t.department)
        result.department = names.most_common(1)[0][0] if names else None
    if not result.tables:  # titles over no readable table: the 说明 of a set whose tables are another PDF
        result.status, result.reason = "rejected", REASON_NO_TABLE
    return result


def year_from_text(text: str) -> int | None:
    m = re.search(r"((?:19|20)\d{2})\s*年", text)
    return int(m.group(1)) if m else None
