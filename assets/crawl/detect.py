"""What a fetched document is, decided from its content (pure functions).

Inputs are the text of the PDF's first pages, the anchor text of the link,
the title of the article page that linked it and the file name.  The PDF's
own title page is trusted first, then the anchor, the file name, the article
title and finally pages 2–3.

* :func:`detect_doc_type` — budget (部门预算) / final_accounts (决算) / other;
* :func:`detect_year` — fiscal year; ambiguous → None (never guessed);
* :func:`detect_department` — 部门名称 from a header line or the title;
* :func:`read_pdf_head` / :func:`check_pdf` — page count, first pages' text,
  and why a body is not a usable PDF.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw

from assets.normalize.regions import find_region_in_text
from assets.records import DOC_BUDGET, DOC_FINAL_ACCOUNTS, DOC_OTHER

# pdfium is not thread-safe: one document at a time in this process
PDFIUM_LOCK = threading.Lock()

REASON_FINAL_ACCOUNTS = "决算 (final accounts) document: kept in raw store, not loaded as a budget"
REASON_NOT_BUDGET = "not a budget document: no 部门预算 in the title page, link text, file name or article title"
REASON_YEAR = "year not detected"
REASON_DEPARTMENT = "department not detected"
REASON_ENCRYPTED = "encrypted (password required)"
#: label of a PDF protected by an owner password only (permissions): it opens and is read without a password
LABEL_OWNER_PASSWORD = "owner password only (permissions restricted): read without a password"


class PdfError(Exception):
    """The body is not a readable PDF; the message is the recorded reason."""


# ---------------------------------------------------------------------------
# PDF


@dataclass
class PdfHead:
    page_count: int
    pages: list[str] = field(default_factory=list)  # text of the first pages
    owner_password: bool = False  # encrypted with an owner password only: opened and read without one

    @property
    def first_page(self) -> str:
        return self.pages[0] if self.pages else ""


def _looks_html(head: bytes) -> bool:
    h = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return h.startswith(
        (b"<!doctype", b"<html", b"<head", b"<body", b"<meta", b"<title", b"<script", b"<!--", b"<?xml")
    ) or (b"<html" in h[:1024] or b"<body" in h[:1024])


def check_pdf(data: bytes, content_type: str | None = None) -> str | None:
    """The reason ``data`` is not a usable PDF, or None (cheap checks, no parsing)."""
    ctype = (content_type or "").split(";")[0].strip() or "an unknown type"
    if not data:
        return f"not a PDF: empty body served as {ctype}"
    if not data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(b"%PDF"):
        if _looks_html(data[:2048]):
            return f"not a PDF: HTML page served as {ctype}"
        return f"not a PDF: body does not start with %PDF (served as {ctype})"
    if b"%%EOF" not in data[-4096:]:
        return f"corrupt PDF: truncated (no %%EOF marker at the end of {len(data)} bytes)"
    return None


def open_pdf(source: bytes | str | Path) -> pdfium.PdfDocument:
    """A pdfium document; :class:`PdfError` with the reason to record when it cannot be opened
    (``encrypted (password required)`` when a user password is needed)."""
    try:
        return pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_raw.FPDF_ERR_PASSWORD:
            raise PdfError(REASON_ENCRYPTED) from None
        raise PdfError(f"corrupt PDF: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - anything else pdfium raises on a damaged file
        raise PdfError(f"corrupt PDF: {exc}") from None


def is_owner_password_only(pdf: pdfium.PdfDocument) -> bool:
    """Opened without a password but encrypted: only an owner password (permissions) protects it."""
    return pdfium_raw.FPDF_GetSecurityHandlerRevision(pdf.raw) >= 0


def read_pdf_head(data: bytes | str | Path, max_pages: int = 3) -> PdfHead:
    """Page count and the text of the first ``max_pages`` pages (pdfium), from the bytes or a path.

    Parses the PDF in this process: the pipeline calls it through
    :func:`assets.extract.worker.read_head_limited` (a worker process with a memory cap and a time limit)."""
    with PDFIUM_LOCK:
        pdf = open_pdf(data)
        try:
            count = len(pdf)
            if count == 0:
                raise PdfError("corrupt PDF: no pages")
            texts: list[str] = []
            for i in range(min(count, max_pages)):
                try:
                    page = pdf[i]
                    tp = page.get_textpage()
                    texts.append(tp.get_text_range() or "")
                    tp.close()
                    page.close()
                except Exception as exc:  # noqa: BLE001
                    raise PdfError(f"corrupt PDF: page {i + 1} unreadable: {exc}") from None
            return PdfHead(count, texts, owner_password=is_owner_password_only(pdf))
        finally:
            pdf.close()


# ---------------------------------------------------------------------------
# text helpers

_WS = re.compile(r"[\s\u3000\xa0]+")


def compact(text: str | None) -> str:
    """Text without any whitespace, full-width colon/parentheses kept."""
    return _WS.sub("", text or "")


def lines(text: str | None) -> list[str]:
    return [ln.strip() for ln in re.split(r"[\r\n]+", text or "") if ln.strip()]


def strip_extension(name: str) -> str:
    return re.sub(r"\.(pdf|docx?|xlsx?|wps|et|ofd|zip|rar)$", "", name.strip(), flags=re.I)


# ---------------------------------------------------------------------------
# doc type

_FINAL = re.compile(r"决算")
_BUDGET = re.compile(
    r"(部门|单位|机关|本级|区级|县级|市级|乡级|镇级|乡镇|街道|政府|部门（单位）|部门\(单位\))预算"
    r"|预算(公开|信息|报告|草案|编制|说明|情况说明|表)"
    r"|(\d|[〇零○一二三四五六七八九]|年|度)预算"
)


def classify_text(text: str | None) -> str | None:
    """budget / final_accounts from one text, or None when it says neither."""
    t = compact(text).replace("预决算", "").replace("预、决算", "")
    if not t:
        return None
    if _FINAL.search(t):
        return DOC_FINAL_ACCOUNTS
    if _BUDGET.search(t):
        return DOC_BUDGET
    return None


def detect_doc_type(
    first_page: str | None = None,
    anchor: str | None = None,
    file_name: str | None = None,
    article_title: str | None = None,
    later_pages: str | None = None,
) -> str:
    """The document's own title page first; 决算 anywhere in a title-level text wins."""
    head = "\n".join(lines(first_page)[:15])
    for text in (head, anchor, strip_extension(file_name or ""), article_title, later_pages):
        kind = classify_text(text)
        if kind:
            return kind
    return DOC_OTHER


# ---------------------------------------------------------------------------
# fiscal year

_CN_DIGIT = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_YEAR_PATTERNS = [
    # 2024年 / 2024 年度
    re.compile(r"(?<![\d.])(?P<y4>20\d{2})\s*年"),
    # 二〇二四年
    re.compile(r"(?P<cn>[〇零○Ｏ一二三四五六七八九]{4})\s*年"),
    # 2024部门预算 / yc_2024_budget (not inside a longer number such as P020240315123456)
    re.compile(r"(?<![\dA-Za-z.])(?P<y4>20\d{2})(?![\d.])(?!\s*年)"),
    # 25年预算 (file names): two digits only right before 预算/决算
    re.compile(r"(?<![\d.])(?P<y2>\d{2})\s*年度?(?=(部门|单位|区级|县级|市级|本级)?(预算|决算))"),
]
_MONTH_AFTER = re.compile(r"^\s*(年\s*)?\d{1,2}\s*月|^\s*年\s*[一二三四五六七八九十]{1,2}\s*月")
_KEYWORD = re.compile(r"预算|决算")
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass
class _YearHit:
    year: int
    start: int
    end: int


def _year_hits(text: str) -> list[_YearHit]:
    hits: list[_YearHit] = []
    taken: list[tuple[int, int]] = []
    for pat in _YEAR_PATTERNS:
        for m in pat.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if m.groupdict().get("y4"):
                year = int(m.group("y4"))
            elif m.groupdict().get("cn"):
                year = int("".join(str(_CN_DIGIT[c]) for c in m.group("cn")))
            else:
                year = 2000 + int(m.group("y2"))
            if not (MIN_YEAR <= year < MAX_YEAR):
                continue
            # a date (2023年12月) is when the document was written, not its fiscal year
            tail = text[m.end() - (1 if text[m.end() - 1 : m.end()] == "年" else 0) : m.end() + 8]
            if _MONTH_AFTER.match(tail):
                continue
            taken.append((m.start(), m.end()))
            hits.append(_YearHit(year, m.start(), m.end()))
    hits.sort(key=lambda h: h.start)
    return hits


def year_from_text(text: str | None) -> int | None:
    """The fiscal year one text names; None when absent or ambiguous.

    Several different years: the one(s) directly followed by 预算/决算 (no other
    year in between, within 40 characters) decide; still several → None.
    """
    t = compact(text)
    if not t:
        return None
    hits = _year_hits(t)
    if not hits:
        return None
    years = {h.year for h in hits}
    if len(years) == 1:
        return years.pop()
    attached: set[int] = set()
    for i, h in enumerate(hits):
        limit = hits[i + 1].start if i + 1 < len(hits) else len(t)
        m = _KEYWORD.search(t, h.end, min(limit, h.end + 40))
        if m:
            attached.add(h.year)
    if len(attached) == 1:
        return attached.pop()
    return None


def detect_year(
    first_page: str | None = None,
    anchor: str | None = None,
    file_name: str | None = None,
    article_title: str | None = None,
    later_pages: str | None = None,
) -> int | None:
    head = "\n".join(lines(first_page)[:15])
    for text in (head, anchor, strip_extension(file_name or ""), article_title, later_pages):
        year = year_from_text(text)
        if year:
            return year
    return None


# ---------------------------------------------------------------------------
# department

_HEADER_LABELS = [
    "部门名称",
    "预算主管部门",
    "主管部门名称",
    "主管部门",
    "编制部门",
    "编制单位",
    "单位名称",
    "预算单位",
    "部门",
]
_HEADER_VALUE = r"\s*[:：]\s*(?P<v>[^\s:：,，;；|]{2,40}?)(?=\s|$|金额单位|单位\s*[:：]|[,，;；|])"
_HEADER_RES = [re.compile(r"(?<![\u4e00-\u9fff])" + re.escape(label) + _HEADER_VALUE, re.M) for label in _HEADER_LABELS]
_HEADER_RES[-1] = re.compile(r"(?<![\u4e00-\u9fff])部门" + _HEADER_VALUE, re.M)

_ORG_SUFFIX = re.compile(
    r"(局|委|办|院|中心|所|站|队|会|部|处|室|馆|社|团|校|园|厅|府|场|台|署|庭|镇|乡|街道|机关|公司|集团|"
    r"人大|政协|监委|纪委|科|组|股|联|盟|党校|报社|医院|小学|中学|大学|学院|办事处|总站|分局|支队|大队)$"
)
_NOT_DEPARTMENT = re.compile(r"^(区级|县级|市级|本级|乡级|镇级|全区|全县|全市|政府|财政|一般公共|附件\d*|目录)$")
_YEAR_TOKEN = re.compile(r"(20\d{2}|[〇零○Ｏ一二三四五六七八九]{4}|\d{2})\s*年度?|(?<!\d)20\d{2}(?!\d)")
_TITLE_KEYWORD = re.compile(r"(部门|单位|部门（单位）|部门\(单位\))?(预算|决算)")
_HIGHER_REGION = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}省)?[\u4e00-\u9fff]{2,4}市(?=[\u4e00-\u9fff]{1,3}(?:县|区|旗))")
_LEADING_NOISE = re.compile(r"^(附件\s*\d*\s*[:：、.\-_]?|关于|公开|[（(]?\d+[)）.、])+")
# archive file names "jiangsu__江苏省政协办公厅__江苏省政协办公厅2019年度部门预算": the last "__" part names it
_ARCHIVE_PREFIX = re.compile(r"^.*__")


def clean_department(name: str | None, region_name: str | None = None) -> str | None:
    """A plausible 部门 name, or None: 2–40 characters ending like an organisation."""
    if not name:
        return None
    name = compact(name).strip("-_—:：·.、,，\"'“”《》【】[]")
    name = _LEADING_NOISE.sub("", name)
    if not name:
        return None
    if region_name:
        region = compact(region_name)
        idx = name.find(region)
        if idx > 0:  # 洛阳市伊川县政务服务中心 with region 伊川县 → 伊川县政务服务中心
            name = name[idx:]
    name = _HIGHER_REGION.sub("", name)
    core = re.sub(r"[（(][^（）()]*[)）]$", "", name)  # 伊川县教育局（本级）
    if not (2 <= len(core) <= 40) or _NOT_DEPARTMENT.match(core):
        return None
    if re.search(r"\d{3,}|[a-zA-Z]{3,}|[:：/\\]", core):
        return None
    if not _ORG_SUFFIX.search(core):
        return None
    return name


def department_from_header(text: str | None, region_name: str | None = None) -> str | None:
    """部门名称：X / 预算主管部门：X / 编制部门：X / 部门：X."""
    if not text:
        return None
    for rx in _HEADER_RES:
        for m in rx.finditer(text):
            name = clean_department(m.group("v"), region_name)
            if name:
                return name
    return None


def department_from_title(text: str | None, region_name: str | None = None) -> str | None:
    """``2024年洛阳市伊川县政务服务中心部门预算`` → 伊川县政务服务中心 (year, region and keyword removed)."""
    t = _ARCHIVE_PREFIX.sub("", strip_extension(compact(text)))
    m = _TITLE_KEYWORD.search(t)
    if not m:
        return None
    prefix = t[: m.start()]
    prefix = _YEAR_TOKEN.sub("", prefix)
    prefix = re.sub(r"[（(【\[]?(公开|信息公开)[)）】\]]?$", "", prefix)
    prefix = prefix.rstrip("的之-_—·")
    return clean_department(prefix, region_name)


def _title_block(first_page: str | None) -> str | None:
    """The title of a title page, joined when it wraps over several lines."""
    ls = lines(first_page)[:15]
    for i, line in enumerate(ls):
        if _TITLE_KEYWORD.search(compact(line)):
            block = line
            j = i
            # "2024年\n洛阳市伊川县政务服务中心\n部门预算": prepend short lines without a colon
            while j > 0 and len(compact(block)) < 40:
                prev = ls[j - 1]
                if re.search(r"[:：]", prev) or len(compact(prev)) > 30:
                    break
                found = department_from_title(block)
                if found is not None:
                    # "2018 年度江苏省高级\n人民法院预算公开": the name wraps; keep the longer name it ends
                    longer = department_from_title(prev + block) if re.search(r"[\u4e00-\u9fff]", prev) else None
                    if not (longer and longer != found and longer.endswith(found)):
                        break
                block = prev + block
                j -= 1
            return block
    return None


def detect_department(
    first_pages: str | None = None,
    anchor: str | None = None,
    file_name: str | None = None,
    article_title: str | None = None,
    region_name: str | None = None,
    first_page: str | None = None,
) -> str | None:
    """Header line of the first pages, then the title page's title, anchor, file name, article title."""
    name = department_from_header(first_pages, region_name)
    if name:
        return name
    block = _title_block(first_page if first_page is not None else first_pages)
    for text in (block, anchor, file_name, article_title):
        name = department_from_title(text, region_name)
        if name:
            return name
    return None


_NATIONAL = re.compile(r"^(中共中央|中央|国家)[\u4e00-\u9fff]")


def is_national_body(name: str | None) -> bool:
    """国家… / 中央… / 中共中央…: a body of the central government or party (国家信访局, 中央储备粮…直属库,
    国家税务总局…税务局), never a local government's department, wherever its office is."""
    return bool(name) and bool(_NATIONAL.match(compact(name)))


def national_body(first_page: str | None, first_pages: str | None = None) -> str | None:
    """The national body a document's own title page or 部门名称 line names, or None.  Only the document's
    text counts: a national budget saved under a city's name (``2026年武汉市信访局部门预算.pdf``) is still
    the national body's."""
    names: list[str] = []
    block = _title_block(first_page)
    if block:
        name = department_from_title(block)
        if name:
            names.append(name)
    for rx in _HEADER_RES:
        names += [m.group("v") for m in rx.finditer(first_pages or first_page or "")]
    for name in names:
        name = _LEADING_NOISE.sub("", _YEAR_TOKEN.sub("", compact(name)))
        if is_national_body(name):
            return name
    return None


def detect_region(
    first_page: str | None = None,
    anchor: str | None = None,
    file_name: str | None = None,
    later_pages: str | None = None,
):
    """The region (``assets.normalize.regions.Region``) a document names: its title page, then the link
    text, the file name, later pages; None when none names one.  ``上海市普陀区…`` → 310107,
    ``江苏省委办公厅…`` → the province 320000 (provincial departments)."""
    head = "\n".join(lines(first_page)[:15])
    for text in (head, anchor, strip_extension(file_name or ""), later_pages):
        region = find_region_in_text(text)
        if region is not None:
            return region
    return None


# ---------------------------------------------------------------------------
# everything at once


@dataclass
class Detection:
    doc_type: str
    year: int | None
    department: str | None
    page_count: int | None = None

    def flags(self) -> list[str]:
        out = []
        if self.year is None:
            out.append(REASON_YEAR)
        if self.department is None:
            out.append(REASON_DEPARTMENT)
        return out


def detect(
    head: PdfHead | None,
    *,
    anchor: str | None = None,
    file_name: str | None = None,
    article_title: str | None = None,
    region_name: str | None = None,
) -> Detection:
    first = head.first_page if head else ""
    later = "\n".join(head.pages[1:]) if head else ""
    all_pages = "\n".join(head.pages) if head else ""
    return Detection(
        doc_type=detect_doc_type(first, anchor, file_name, article_title, later),
        year=detect_year(first, anchor, file_name, article_title, later),
        department=detect_department(all_pages, anchor, file_name, article_title, region_name, first_page=first),
        page_count=head.page_count if head else None,
    )
