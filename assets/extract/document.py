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
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from assets.crawl.detect import REASON_FINAL_ACCOUNTS, detect_doc_type
from assets.extract.cells import clean_text, parse_amount, to_halfwidth
from assets.extract.classify import Candidate, assign_types, content_profile, resolved_template, score_table
from assets.extract.grid import (
    Piece,
    Problem,
    build_table,
    resolve_open_cells,
    row_has_amount,
    strip_page_furniture,
)
from assets.extract.layout import (
    Line,
    Title,
    align_columns,
    find_titles,
    overlap_share,
    page_chars,
    page_events,
    page_lines,
    refill_cells,
)
from assets.extract.pdf_text import (
    PageText,
    UnreadableDocument,
    budget_level,
    check_text_layer,
    empty_table_note,
    find_department,
    find_unit,
    find_year,
    read_pages,
    title_lines,
)
from assets.extract.templates import Template, match_title, title_key
from assets.extract.text_tables import build_text_table
from assets.extract.two_sided import build_two_sided
from assets.extract.vector_rules import install as install_vector_rules
from assets.records import DOC_FINAL_ACCOUNTS, TABLE_GPB_EXPENDITURE, ExtractedTable, ExtractionResult

log = logging.getLogger(__name__)

#: bump when extraction changes so cached results are recomputed
EXTRACTOR_VERSION = "9"
#: a PDF without template tables: often the narrative (说明) half of a document set (assets/extract/document_sets.py)
REASON_NO_TABLE = (
    "no budget table found (no page carries a template table title): narrative only, or the tables "
    "are another PDF of the same department and year"
)
#: below this camelot accuracy a page is retried with another flavor
MIN_ACCURACY = 80.0


@dataclass
class _OpenTable:
    tpl: Template | None  # the title's type (None: a title no template knows); the final type is scored later
    title: str
    page: PageText
    pieces: list[Piece] = field(default_factory=list)
    text: str = ""  # the printed text from the title to the next title of its page
    texts: list[str] = field(default_factory=list)  # the same for each page the title is printed again


def _page_titles(page: PageText, lines: list[Line]) -> list[Title]:
    """Title lines of a page (as printed, spaces removed) with the template each names, top-down.

    Anywhere on the page: 江苏's single PDFs start a table under the end of the previous one, and
    pdfium reads some pages' title last (the lines are ordered by their y, not pdfium's text order)."""
    return find_titles(lines)


def _text_lines(page: PageText) -> list[Line]:
    """A page's lines without positions (pdfium's order, one line each): for callers without the PDF."""
    return [Line(ln, -i * 10.0, -i * 10.0 - 8.0, 0.0, 0.0) for i, ln in enumerate(page.lines)]


def _is_toc(page: PageText) -> bool:
    head = "".join(title_lines(page, 3))
    if "目录" in head.replace(" ", ""):
        return True
    if find_unit(page.text):  # a table page (单位：万元), even one holding three short tables
        return False
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


def _better(got: list[Piece], have: list[Piece]) -> bool:
    return bool(got) and (
        not have or _best(got) > _best(have) or (_glued(have) and not _glued(got) and _best(got) >= _best(have) - 5)
    )


def _retried(have: list[Piece], got: list[Piece]) -> list[Piece]:
    """A page's tables after a retry with another engine: each poorly read table is replaced by the
    retry's table at the same place when that one reads better; the others are kept (a page holding
    several tables keeps its good ruled parses).  Without positions, the better page wins whole."""
    if not have:
        return _dedup(got)
    if any(p.bbox is None for p in have + got):
        return got if _better(got, have) else have
    out = []
    for h in have:
        if not _needs_retry([h]):
            out.append(h)
            continue
        same = [g for g in got if overlap_share(g, h) >= 0.5]
        out.extend(same if _better(same, [h]) else [h])
    # a table the first engine did not find at all
    out.extend(g for g in got if not any(overlap_share(g, h) > 0 for h in have))
    return _dedup(out)


def _dedup(pieces: list[Piece]) -> list[Piece]:
    """One piece per place: a text-alignment parser may return a table twice, once with the lines above it."""
    keep: list[Piece] = []
    for p in sorted(pieces, key=lambda p: -(p.accuracy or 0)):
        if not any(overlap_share(p, k) >= 0.5 for k in keep):
            keep.append(p)
    return sorted(keep, key=lambda p: (p.page, -(p.bbox[3] if p.bbox else 0)))


def _camelot_tables(path: Path, pages: list[int], flavor: str, engine: str | None = None) -> dict[int, list[Piece]]:
    """camelot tables of some pages, as :class:`Piece` s; ``flavor`` records "lattice/vector" etc."""
    import camelot

    if not pages:
        return {}
    install_vector_rules()
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
        bbox = getattr(t, "_bbox", None)
        rows_y = [(float(a), float(b)) for a, b in t.rows] if len(getattr(t, "rows", ())) == len(cells) else None
        ncols = max((len(r) for r in cells), default=0)
        cols_x = [(float(a), float(b)) for a, b in t.cols] if len(getattr(t, "cols", ())) == ncols else None
        spans = None
        if flavor == "lattice" and rows_y and cols_x:
            spans = [[(bool(c.hspan and not c.left), bool(c.vspan and not c.top)) for c in row] for row in t.cells]
        out.setdefault(page, []).append(
            Piece(
                page=page,
                cells=cells,
                table_index=len(out.get(page, [])),
                flavor=label,
                accuracy=float(report.get("accuracy") or 0.0),
                bbox=tuple(float(v) for v in bbox) if bbox is not None else None,
                rows_y=rows_y,
                cols_x=cols_x,
                spans=spans,
            )
        )
    return out


def _finish(
    open_table: _OpenTable,
    tpl: Template,
    result: ExtractionResult,
    problems: list[Problem],
    evidence: list[str] | None = None,
) -> None:
    page = open_table.page
    pieces = [strip_page_furniture(p) for p in open_table.pieces]
    pieces = resolve_open_cells([p for p in pieces if p.cells])
    text = open_table.text or page.text
    unit = find_unit(text) or find_unit(page.text) or "万元"
    department = find_department(text) or find_department(page.text)
    note = empty_table_note(text) or next((n for n in map(empty_table_note, open_table.texts) if n), None)
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
    if evidence:
        table.reading["type"] = evidence
    # a page break right under the header (or within it): the header rows go on top of the next part
    while (
        len(pieces) > 1
        and _ncols(pieces[0]) == _ncols(pieces[1])
        and not any(row_has_amount(r) for r in pieces[0].cells)
    ):
        pieces = [replace(pieces[1], cells=pieces[0].cells + pieces[1].cells, rows_y=None)] + pieces[2:]
    if pieces:
        if tpl.kind == "two_sided":
            table.rows, table.columns, probs = build_two_sided(pieces)
            probs = [Problem("info", None, p) for p in probs]
        elif tpl.kind == "text":
            table.rows, table.columns, table.extra, probs = build_text_table(pieces, tpl)
            probs = [Problem("info", None, p) for p in probs]
        else:
            built = build_table(pieces, tpl, result.fiscal_year)
            table.rows, probs = built.rows, built.problems
            table.columns = [built.field_of[j] for j in sorted(built.field_of)]
            table.reading.update(built.extra)
        for p in probs:
            detail = p.detail if p.detail.startswith(tpl.name) else f"{tpl.name}: {p.detail}"
            # a table the warehouse does not keep loses nothing: its problems are information
            problems.append(_problem(p.severity if tpl.fact_table else "info", p.page, tpl.key, detail))
    # published without data: no amount other than zero (a 合计 row of blanks or 0.00), no record
    if tpl.kind == "text":
        table.empty = not table.rows
    elif not any(_has_amount(r.values) for r in table.rows):
        raw_amounts = any(_nonzero(c) for p in pieces for r in p.cells for c in r)
        if raw_amounts and not table.note and tpl.kind == "grid" and tpl.fact_table:
            problems.append(
                _problem(
                    "hard",
                    table.pages[0],
                    tpl.key,
                    f"{tpl.name}: prints amounts (page {table.pages[0]}) but none was read",
                )
            )
        table.empty = True
        table.rows = []
    result.tables.append(table)


def _problem(severity: str, page: int | None, table_type: str | None, detail: str) -> dict:
    """A reading problem as recorded on the result (``unrecognised``): hard when data would be lost."""
    return {"problem": detail, "severity": severity, "page": page, "table_type": table_type}


def _nonzero(cell: str) -> bool:
    for ln in str(cell).split("\n"):
        t = clean_text(ln)
        if ("." in t or "," in t) and t not in ("0.00", "0.0"):
            try:
                a = parse_amount(t)
            except Exception:  # noqa: BLE001 - not an amount
                continue
            if a:
                return True
    return False


def _has_amount(values: dict) -> bool:
    """A non-zero amount among the values."""
    return any(isinstance(v, Decimal) and v != 0 for v in values.values())


def table_pages(
    pages: list[PageText], lines: dict[int, list[Line]] | None = None
) -> tuple[dict[int, list[Title]], list[int]]:
    """The titles of each page (table of contents excepted) and the pages handed to camelot:
    every page from the first titled one on (tables run over untitled continuation pages).
    ``lines``: each page's positioned lines (:func:`assets.extract.layout.page_lines`)."""
    titled: dict[int, list[Title]] = {}
    for page in pages:
        if _is_toc(page):
            continue
        titles = _page_titles(page, lines[page.number] if lines is not None else _text_lines(page))
        if titles:
            titled[page.number] = titles
    if not titled:
        return titled, []
    first = min(titled)
    return titled, [p.number for p in pages if p.number >= first]


def _same_shape(a: Piece, b: Piece) -> bool:
    return _ncols(a) == _ncols(b)


def _region_text(lines: list[Line] | None, title: Title, titles: list[Title], page: PageText) -> str:
    """The printed text from a title down to the next title of its page: where its table's 单位, 部门
    and "此表无数据" note stand (not another table's, nor text outside the page box)."""
    if lines is None:
        return page.text
    below = [t.top for t in titles if t.top < title.bottom]
    floor = max(below) if below else float("-inf")
    return "\n".join(ln.text for ln in lines if floor < (ln.top + ln.bottom) / 2 <= title.top + 1)


def _assemble(
    candidates: list[int],
    titled: dict[int, list[Title]],
    grids: dict[int, list[Piece]],
    by_number: dict[int, PageText],
    lines: dict[int, list[Line]] | None,
    result: ExtractionResult,
    narrative: list[str],
) -> list[_OpenTable]:
    """Titles and tables top-down over the pages: each table goes to the title above it on its page; a
    table above the first title of a page continues the table open from the page before (a table that
    breaks across pages, its columns aligned by x position when camelot found other rules there); the
    same title printed again on the next page continues the table too.  A second table under one title
    is the same table when it has the same columns, else an untitled table, recorded.  Returns the
    titled tables, in order, for :func:`_build_tables`."""
    current: _OpenTable | None = None
    opened: list[_OpenTable] = []

    def close() -> None:
        nonlocal current
        if current is not None:
            opened.append(current)
        current = None

    def untitled(piece: Piece, after: str | None) -> None:
        result.unrecognised.append(
            {
                "title": None,
                "page": piece.page,
                "table_index": piece.table_index,
                "rows": len(piece.cells),
                "after": after,
            }
        )

    for n in candidates:
        page = by_number[n]
        titles = titled.get(n, [])
        events = page_events(grids.get(n, []), titles)
        if not events:
            close()
            narrative.append(page.text)
            continue
        titled_here = False
        for ev in events:
            if isinstance(ev, Title):
                region = _region_text(lines.get(n) if lines else None, ev, titles, page)
                if (
                    current is not None
                    and current.pieces
                    and current.pieces[-1].page < n
                    and title_key(ev.text) == title_key(current.title)
                ):
                    current.texts.append(region)  # the title printed again: the table goes on
                    titled_here = False
                    continue
                close()
                current = _OpenTable(ev.tpl, ev.text, page, text=region)
                titled_here = True
                continue
            piece = ev
            if current is None:
                untitled(piece, None)
            elif not current.pieces:
                current.pieces.append(piece)
            elif _same_shape(piece, current.pieces[0]):
                current.pieces.append(piece)  # the same table, split by camelot or broken across pages
            elif titled_here or piece.page == current.pieces[-1].page:
                untitled(piece, current.title)  # a table of another shape under the same title
            elif _ncols(piece) <= _ncols(current.pieces[0]) and (aligned := align_columns(piece, current.pieces[0])):
                current.pieces.append(aligned)
            elif _ncols(piece) > _ncols(current.pieces[0]) and all(align_columns(p, piece) for p in current.pieces):
                # the part before the break had fewer rules (a header row of merged cells alone at the foot
                # of the page): put it on the continuation's finer columns
                current.pieces = [align_columns(p, piece) for p in current.pieces] + [piece]
            else:
                close()
                untitled(piece, None)
    close()
    return opened


def _candidate(open_table: _OpenTable) -> Candidate:
    """The type evidence of a titled table: its title, its header's words and what its rows hold."""
    cells = [r for p in open_table.pieces[:3] for r in strip_page_furniture(p).cells]
    header = " ".join(clean_text(c) for r in cells[:5] for c in r)
    return score_table(open_table.title, header, content_profile(cells))


def _build_tables(opened: list[_OpenTable], result: ExtractionResult, problems: list[dict]) -> None:
    """Each titled table typed by its evidence (:mod:`assets.extract.classify`) and built; a title over
    no table ("附件：…预算表", "详见…绩效目标表") is text, unless a note says the table is published empty; a
    table no type fits, or a second copy of a type that exists once, is recorded with its pages."""
    cands = [_candidate(o) for o in opened]
    assign_types(cands)
    for o, c in zip(opened, cands, strict=False):
        tpl = resolved_template(c)
        if not o.pieces and not empty_table_note(o.text or o.page.text):
            continue
        if tpl is None:
            if o.pieces:
                result.unrecognised.append(
                    {
                        "title": o.title,
                        "page": o.page.number,
                        "pages": sorted({p.page for p in o.pieces}),
                        "tables": len(o.pieces),
                        "scores": dict(c.ranked()[:3]),
                    }
                )
            continue
        if tpl.kind == "record":
            result.unrecognised.append(
                {
                    "title": o.title,
                    "page": o.page.number,
                    "type": tpl.key,
                    "pages": sorted({p.page for p in o.pieces}),
                    "tables": len(o.pieces),
                }
            )
            continue
        _finish(o, tpl, result, problems, c.evidence.get(tpl.key))


def extract_document(path: str | Path, sha256: str) -> ExtractionResult:
    """Extract all template tables of a PDF (see module doc)."""
    path = Path(path)
    pages: list[PageText] = []
    try:
        pages = read_pages(path)
        check_text_layer(pages)
    except UnreadableDocument as exc:
        return ExtractionResult(
            document_sha256=sha256, page_count=len(pages), tables=[], status="rejected", reason=str(exc)
        )

    result = ExtractionResult(document_sha256=sha256, page_count=len(pages), tables=[])
    first_text = "\n".join(p.text for p in pages[:2])
    result.title = document_title(pages[0].lines)
    if detect_doc_type(first_page=pages[0].text) == DOC_FINAL_ACCOUNTS:
        result.status, result.reason = "skipped", REASON_FINAL_ACCOUNTS
        result.fiscal_year = find_year(result.title or "")
        return result
    result.fiscal_year = find_year(result.title or "") or find_year(first_text)
    result.department = find_department(first_text)

    chars = page_chars(path)
    lines = page_lines(path, chars=chars)
    titled, candidates = table_pages(pages, lines)
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
        retry = [n for n in titled if any(t.tpl for t in titled[n]) and _needs_retry(grids.get(n))]
        if not retry:
            break
        try:
            others = _camelot_tables(path, retry, flavor, engine)
        except Exception as exc:  # recorded in the log, the previous result is kept
            log.warning("%s retry failed on %s: %s", flavor, path, exc)
            continue
        for n in retry:
            got = others.get(n)
            if got and (flavor == "lattice" or not empty_table_note(pages[n - 1].text)):
                grids[n] = _retried(grids.get(n) or [], got)

    # every ruled cell read again from the glyph boxes (camelot places text by its font box)
    grids = {n: [refill_cells(p, chars.get(n, [])) for p in ps] for n, ps in grids.items()}
    problems: list[dict] = []
    narrative: list[str] = [p.text for p in pages if p.number < first_table_page]
    opened = _assemble(candidates, titled, grids, {p.number: p for p in pages}, lines, result, narrative)
    _build_tables(opened, result, problems)
    result.narrative = "\n".join(narrative)
    _join_basic_by_function(result, problems)
    result.unrecognised.extend(problems)
    if not result.department:  # the name most tables print (one 部门名称 line may wrap: "江苏省人大" / "常委会办公厅")
        names = Counter(t.department for t in result.tables if t.department)
        result.department = names.most_common(1)[0][0] if names else None
    result.budget_level, result.parent_department, result.level_evidence = budget_level(
        [p.text for p in pages[:4]], result.department
    )
    result.units = _units(result)
    if not result.tables:  # titles over no readable table: the 说明 of a set whose tables are another PDF
        result.status, result.reason = "rejected", REASON_NO_TABLE
    return result


def _join_basic_by_function(result: ExtractionResult, problems: list[dict]) -> None:
    """基本支出 by 功能分类 printed as a table of its own while the 一般公共预算支出表 prints only 合计 and 项目
    (专项业务经费): the basic amounts are joined into the function table by code (a code the basic table does
    not list has none); a basic row whose code the function table lacks is a hard problem."""
    gpb, basic = result.table(TABLE_GPB_EXPENDITURE), result.table("gpb_basic_by_function")
    if gpb is None or basic is None or basic.empty or "basic_total" in gpb.columns:
        return
    field_name = "basic_total" if "basic_total" in basic.columns else "total"
    amounts = {
        str(r.values.get("function_code")): r.values.get(field_name)
        for r in basic.rows
        if r.values.get("function_code") and isinstance(r.values.get(field_name), Decimal)
    }
    total = next((r.values.get(field_name) for r in basic.rows if r.kind == "total"), None)
    codes = set()
    for row in gpb.rows:
        code = str(row.values.get("function_code") or "")
        codes.add(code)
        if code in amounts:
            row.values["basic_total"] = amounts[code]
        elif row.kind == "total" and isinstance(total, Decimal):
            row.values["basic_total"] = total
        elif code:
            row.values["basic_total"] = Decimal("0.00")
    gpb.columns = gpb.columns + ["basic_total"]
    missing = sorted(set(amounts) - codes)
    for code in missing:
        problems.append(
            _problem(
                "hard",
                basic.pages[0],
                TABLE_GPB_EXPENDITURE,
                f"{basic.title}: code {code} has 基本支出 but no row in {gpb.title}",
            )
        )
    gpb.reading["basic_joined"] = (
        f"基本支出 joined by code from {basic.title} (p. {basic.pages[0]}): {len(amounts) - len(missing)} codes"
    )


def _units(result: ExtractionResult) -> list[str]:
    """The budget units a document's tables list (unit rows of its function, revenue and project tables)."""
    seen: dict[str, None] = {}
    for t in result.tables:
        for r in t.rows:
            own = None
            if r.kind == "subtotal" and (r.values.get("unit_code") or r.values.get("unit_name")):
                own = r.values.get("unit_name") or r.values.get("name")
            for name in (r.unit, own):
                if name and isinstance(name, str) and not re.fullmatch(r"[\d\s]+", name):
                    seen.setdefault(clean_text(name))
    return list(seen)[:500]


_AMOUNT_IN_LINE = re.compile(r"\d[\d,]*\.\d{1,2}|\d{1,3}(,\d{3})+")
_ORGANISATION_END = re.compile(r"(厅|院|会|局|委|室|部|处|办|中心|政府|街道|委员会)$")


def document_title(lines: list[str]) -> str | None:
    """The document's title on its first page: the line naming a 预算 (决算), joined with the line above
    when the title wraps ("2018年度江苏省高级" / "人民法院预算公开") or the department stands above the
    year ("江苏省人民检察院" / "2017年部门预算").  A table's title or a row of a table (amounts, "部门：")
    is none: a PDF of tables only has no title of its own (None)."""
    clean = [clean_text(ln) for ln in lines]
    for i, line in enumerate(clean):
        if not _title_candidate(line) or ("预算" not in line and "决算" not in line):
            continue
        above = clean[i - 1] if i > 0 else ""
        if above and _title_candidate(above) and "预算" not in above and "决算" not in above:
            if find_year(above) and not find_year(line):
                return above + line  # wrapped after the year
            if not find_year(above) and find_year(line[:8]) and _ORGANISATION_END.search(above):
                return above + line  # the department above the year
        return line
    return None


def _title_candidate(line: str) -> bool:
    return (
        2 <= len(line) <= 40
        and not _AMOUNT_IN_LINE.search(line)
        and "：" not in to_halfwidth(line)
        and ":" not in to_halfwidth(line)
        and match_title(line) is None
        and "目录" not in line
    )


def year_from_text(text: str) -> int | None:
    m = re.search(r"((?:19|20)\d{2})\s*年", text)
    return int(m.group(1)) if m else None
