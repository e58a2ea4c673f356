"""Page text of a PDF and the facts read from it before any table is parsed:
the text layer's health (scanned pages, glyph ids without a Unicode map),
table titles, 单位 (unit) and 部门名称 (department) lines, fiscal year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium

from assets.extract.cells import clean_text, to_halfwidth


class UnreadableDocument(Exception):
    """The PDF cannot be extracted; the message is the recorded reason."""


@dataclass
class PageText:
    number: int  # 1-based
    text: str
    width: float
    height: float
    image_count: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def landscape(self) -> bool:
        return self.width > self.height


def read_pages(path: str | Path) -> list[PageText]:
    """Text of every page (pdfium: fast, no layout analysis)."""
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(f"corrupt PDF: {exc}") from exc
    pages: list[PageText] = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            width, height = page.get_size()
            textpage = page.get_textpage()
            text = textpage.get_text_range() or ""
            images = sum(1 for obj in page.get_objects(max_depth=2) if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE)
            lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
            pages.append(PageText(i + 1, text, width, height, images, lines))
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return pages


_UNMAPPED = re.compile(r"[\ufffd\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_text_layer(pages: list[PageText]) -> None:
    """Reject documents whose text cannot be trusted.

    * image-only (scanned) pages: no text but images → OCR is a later step;
    * fonts without a Unicode map: text comes out as glyph ids, i.e. pdfminer's
      ``(cid:123)`` or private-use / replacement characters in pdfium.
    """
    if not pages:
        raise UnreadableDocument("corrupt PDF: no pages")
    scanned = [p.number for p in pages if len(clean_text(p.text)) < 5 and p.image_count > 0]
    if scanned and len(scanned) * 2 >= len(pages):
        raise UnreadableDocument(
            f"image-only (scanned) pages without a text layer: pages {_ranges(scanned)} of {len(pages)}; "
            "OCR is not supported yet"
        )
    text = "".join(p.text for p in pages)
    compact = clean_text(text)
    if "(cid:" in text or (compact and len(_UNMAPPED.findall(compact)) > 0.2 * len(compact)) or _glyph_junk(compact):
        raise UnreadableDocument(
            "fonts without a Unicode map: text extracts as (cid:…) glyph ids, not characters; OCR is not supported yet"
        )
    if not compact:
        raise UnreadableDocument("no text layer on any page")


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_JUNK = re.compile(r"[\x00-\x1f\x7f-\u024f\u2020-\u2122\ufb01\ufb02\u02c6-\u02dc]")


def _glyph_junk(compact: str) -> bool:
    """Glyph ids read as characters: hardly any Chinese, mostly control and Latin-1 symbols.

    A font whose /ToUnicode map is missing extracts its glyph numbers as
    arbitrary code points ("\x05\x06ÄÅÇ"), while digits (often from another font)
    come out right; a Chinese budget without Chinese text is unreadable.
    """
    letters = [ch for ch in compact if not (ch.isdigit() or ch in ".,-()%:;/")]
    if len(letters) < 20:
        return False
    cjk = sum(1 for ch in letters if _CJK.match(ch))
    junk = sum(1 for ch in letters if _JUNK.match(ch))
    return cjk < 0.2 * len(letters) and junk > 0.3 * len(letters)


def _ranges(numbers: list[int]) -> str:
    out, start, prev = [], None, None
    for n in numbers + [None]:
        if start is None:
            start = prev = n
        elif n is not None and n == prev + 1:
            prev = n
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = n
    return ", ".join(out)


_UNIT_RE = re.compile(r"单位[:：]\s*(万元|元|千元|亿元)")
_DEPT_RE = re.compile(r"(?:部门名称|编制部门|预算主管部门|编制单位|单位名称|部门)[:：]\s*(\S[^\s单]*)")
_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")


def find_unit(text: str) -> str | None:
    m = _UNIT_RE.search(to_halfwidth(text).replace(" ", ""))
    return m.group(1) if m else None


_MONEY_UNIT = re.compile(r"^(?:万元|元|千元|亿元)")


def find_department(text: str) -> str | None:
    """The department (or unit) a table page names: 部门名称：X / 编制部门：X / 单位名称：X, or a unit budget's
    "单位：X（本级）" (not "单位：万元", the money unit)."""
    for line in text.splitlines():
        t = to_halfwidth(line).replace(" ", "").replace("\u3000", "")
        m = re.search(r"(?:部门名称|编制部门|预算主管部门|编制单位|部门|单位名称)[:：](.+)", t)
        if m is None:
            m = re.search(r"(?:^|[^金额])单位[:：](?!万元|元|千元|亿元)(.+)", t)
        if m:
            name = re.split(r"(?:金额)?单位[:：]|金额单位", m.group(1))[0].strip()
            name = re.sub(r"^部门\(单位\)名称", "", name)
            if name and not _MONEY_UNIT.match(name):
                return name
    return None


def find_year(text: str) -> int | None:
    m = _YEAR_RE.search(to_halfwidth(text))
    return int(m.group(1)) if m else None


def title_lines(page: PageText, max_lines: int = 6) -> list[str]:
    """The first lines of a page, spaces removed and half-width: where titles stand."""
    return [clean_text(to_halfwidth(ln)) for ln in page.lines[:max_lines]]


_EMPTY_MARK = r"(?:此表无数据|本表无数据|故此表为空|此表为空表|无此项|为空表)"
_EMPTY_WORDS = re.compile(_EMPTY_MARK)
_NOTE_RE = re.compile(r"(?:备注|注|说明)[:：][^。]*?" + _EMPTY_MARK + r"[^。]*。?")
_BARE_NOTE_RE = re.compile(r"[^。:：]*" + _EMPTY_MARK + r"[^。]*。?")


def empty_table_note(text: str) -> str | None:
    """The note a department prints under a table it has no data for, as printed
    (spaces removed): "备注：…无政府性基金预算拨款安排的支出，故此表无数据。"."""
    compact = clean_text(text)
    if not _EMPTY_WORDS.search(compact) and not _EMPTY_WORDS.search(to_halfwidth(compact)):
        return None
    m = _NOTE_RE.search(compact) or _BARE_NOTE_RE.search(compact)
    if m:
        return m.group(0)
    half = clean_text(to_halfwidth(text))  # full-width-free wording ("故此表无数据" in odd encodings)
    m = _BARE_NOTE_RE.search(half)
    return m.group(0) if m else None


_UNIT_BUDGET = re.compile(r"单位预算(?:公开|表|情况|说明|$)")
_DEPT_BUDGET = re.compile(r"部门预算")
_SUPERVISOR = re.compile(r"主管部门[:：]\s*([^\s，。,；;]{2,40})")
_OWN_LEVEL = re.compile(r"[(（]本级[)）]$")


def budget_level(texts: list[str], department: str | None) -> tuple[str, str | None, str]:
    """Which budget a document is, by its own words: ``unit`` (单位预算: one unit's own budget, filed under
    its department) or ``department`` (部门预算, consolidated over the department's units), the parent
    department of a unit budget (its 主管部门, else its name without （本级）), and the evidence.
    ``texts``: the first pages' text (cover, contents, headings)."""
    head = re.sub(r"\s+", "", to_halfwidth("\n".join(texts)))
    units = len(_UNIT_BUDGET.findall(head))
    depts = len(_DEPT_BUDGET.findall(head))
    if units > depts:
        m = _SUPERVISOR.search(head)
        parent = m.group(1) if m else None
        if parent is None and department and _OWN_LEVEL.search(to_halfwidth(department)):
            parent = _OWN_LEVEL.sub("", to_halfwidth(department))
        return "unit", parent, f"the document calls itself 单位预算 ({units}×, 部门预算 {depts}×)"
    return "department", None, f"the document calls itself 部门预算 ({depts}×, 单位预算 {units}×)"
