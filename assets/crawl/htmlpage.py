"""HTML list and article pages of county portals: decoding and links.

Portals serve UTF-8 or GBK/GB2312, declared in a ``<meta charset>``, in a
``<meta http-equiv="Content-Type">``, in the HTTP Content-Type header, or
nowhere.  Declarations are often wrong (a server-wide ``charset=utf-8`` on
GBK pages, a copied ``gb2312`` meta on UTF-8 pages), so each candidate is
tried strictly, in order: BOM, utf-8, header, meta, gb18030.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urljoin, urlsplit, urlunsplit

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_\-:.]+)""", re.I)

#: labels portals use → the codec that decodes them (gb18030 ⊃ gbk ⊃ gb2312)
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "utf8": "utf-8",
}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return _codec(m.group(1)) if m else None


def charset_from_meta(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:8192])
    return _codec(m.group(1).decode("ascii", "replace")) if m else None


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Text of an HTML page and the codec that decoded it."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    # Valid UTF-8 with multi-byte sequences is practically never GBK text, whereas
    # gb18030 "decodes" nearly any byte string: so strict UTF-8 goes first,
    # whatever a (often wrong, server-wide) declaration says.
    candidates: list[str] = ["utf-8"]
    for c in (charset_from_content_type(content_type), charset_from_meta(data), "gb18030"):
        if c and c not in candidates:
            candidates.append(c)
    for c in candidates:
        try:
            return data.decode(c), c
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(candidates[0], errors="replace"), candidates[0]


# ---------------------------------------------------------------------------
# links


@dataclass
class Link:
    url: str  # absolute, normalised, without fragment
    text: str  # anchor text (or title attribute), whitespace collapsed
    tag: str = "a"


@dataclass
class Page:
    url: str
    title: str | None
    links: list[Link] = field(default_factory=list)
    pagination: list[str] = field(default_factory=list)  # list pages of the same channel
    text: str = ""


_WS = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _WS.sub(" ", text.replace("\u3000", " ").replace("\xa0", " ")).strip()


def normalize_url(url: str) -> str:
    """Absolute URL without fragment, non-ASCII characters percent-encoded (UTF-8).

    ``/附件/预算.pdf`` and ``/%E9%99%84%E4%BB%B6/%E9%A2%84%E7%AE%97.pdf`` are the same URL.
    """
    parts = urlsplit(url.strip())
    netloc = parts.netloc.lower()
    path = quote(parts.path, safe="/%:@!$&'()*+,;=~-._")
    query = quote(parts.query, safe="=&%:@!$'()*+,;/?~-._")
    return urlunsplit((parts.scheme.lower(), netloc, path or "/", query, ""))


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.title_parts: list[str] = []
        self.h_parts: list[str] = []
        self.meta_title: str | None = None
        self.links: list[tuple[str, str, str]] = []  # href, text, tag
        self.text_parts: list[str] = []
        self._in_title = False
        self._in_h = 0
        self._h_done = False
        self._skip = 0  # inside script/style
        self._a_stack: list[tuple[str, list[str], str]] = []
        self.scripts: list[str] = []
        self._script_parts: list[str] | None = None

    def parse_html_declaration(self, i: int) -> int:
        """``<![…``: CDATA and conditional comments as html.parser reads them; anything else (``<![ x``) is
        a bogus comment up to the next ``>``, as browsers read it (html.parser gives up on the rest of the
        page, losing every link after it)."""
        try:
            return super().parse_html_declaration(i)
        except AssertionError:
            j = self.rawdata.find(">", i + 3)
            return -1 if j < 0 else j + 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        elif tag == "title":
            self._in_title = True
        elif tag in ("h1", "h2") and not self._h_done:
            self._in_h += 1
        elif tag == "meta":
            name = a.get("name", "").lower()
            if name in ("articletitle", "title", "og:title") or a.get("property", "").lower() == "og:title":
                if a.get("content") and not self.meta_title:
                    self.meta_title = a["content"]
        elif tag in ("script", "style"):
            self._skip += 1
            if tag == "script":
                self._script_parts = []
        elif tag == "a":
            href = a.get("href", "")
            self._a_stack.append((href, [], a.get("title", "")))
        elif tag in ("iframe", "embed", "frame") and a.get("src"):
            self.links.append((a["src"], a.get("title", ""), tag))
        elif tag == "object" and a.get("data"):
            self.links.append((a["data"], a.get("title", ""), tag))
        elif tag == "area" and a.get("href"):
            self.links.append((a["href"], a.get("alt", "") or a.get("title", ""), "a"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in ("h1", "h2") and self._in_h:
            self._in_h -= 1
            if not self._in_h and _clean("".join(self.h_parts)):
                self._h_done = True
        elif tag in ("script", "style") and self._skip:
            self._skip -= 1
            if tag == "script" and self._script_parts is not None:
                self.scripts.append("".join(self._script_parts))
                self._script_parts = None
        elif tag == "a" and self._a_stack:
            href, parts, title_attr = self._a_stack.pop()
            text = _clean("".join(parts)) or _clean(title_attr)
            # list pages cut long titles ("伊川县政务服务中心2024年部门…") and keep the full one in title=""
            full = _clean(title_attr)
            if (
                full
                and len(full) > len(text)
                and (text.endswith(("...", "…", "..")) or full.startswith(text.rstrip(".…")))
            ):
                text = full
            if href:
                self.links.append((href, text, "a"))
            if self._a_stack:  # nested anchors: give the text to the outer one too
                self._a_stack[-1][1].extend(parts)

    def handle_data(self, data: str) -> None:
        if self._skip:
            if self._script_parts is not None:
                self._script_parts.append(data)
            return
        if self._in_title:
            self.title_parts.append(data)
        if self._in_h and not self._h_done:
            self.h_parts.append(data)
        if self._a_stack:
            self._a_stack[-1][1].append(data)
        self.text_parts.append(data)


# TRS WCM portals build their pager in JavaScript: createPageHTML(total, current, "index", "html")
_CREATE_PAGE_HTML = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w\-]+)['\"]\s*,\s*['\"](\w+)['\"]"
)
_PAGER_TEXT = re.compile(r"^(下一页|下页|上一页|上页|尾页|末页|最后一页|next|nextpage|prev(ious)?)$", re.I)
# ambiguous on their own (首页 is also the portal's home page): only within the list's directory
_WEAK_PAGER_TEXT = re.compile(r"^(首页|第?\d{1,4}页?|\[\d{1,4}\]|[›»>]+|last|first)$", re.I)
_PAGED_NAME = re.compile(r"(^|/)(index|default|list)(_\d+)?\.s?html?$", re.I)
_PAGE_QUERY_KEYS = {"page", "pageno", "pagenum", "pageindex", "curpage", "currpage", "pn", "p"}


def is_pagination(link: Link, page_url: str) -> bool:
    """A link to another page of the same list (index_1.html, 下一页, ?page=2)."""
    text = link.text.replace(" ", "")
    if _PAGER_TEXT.match(text):
        return True
    lp, pp = urlsplit(link.url), urlsplit(page_url)
    if lp.netloc != pp.netloc:
        return False
    same_dir = lp.path.rsplit("/", 1)[0] == pp.path.rsplit("/", 1)[0]
    if same_dir and _WEAK_PAGER_TEXT.match(text) and link_kind(link.url) == "page":
        return True
    if same_dir and _PAGED_NAME.search(lp.path) and _PAGED_NAME.search(pp.path or "/index.html"):
        return True
    if lp.path == pp.path and lp.query != pp.query:
        keys = {k.lower() for k, _ in parse_qsl(lp.query)}
        if keys & _PAGE_QUERY_KEYS:
            return True
    return False


def parse_page(data: bytes, url: str, content_type: str | None = None) -> Page:
    text, _ = decode_html(data, content_type)
    parser = _LinkParser()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient; never let one page stop a crawl
        pass
    base = urljoin(url, parser.base) if parser.base else url
    title = (
        _clean(parser.meta_title or "")
        or _clean("".join(parser.h_parts))
        or _clean("".join(parser.title_parts))
        or None
    )
    links: list[Link] = []
    seen: set[str] = set()
    for href, anchor, tag in parser.links:
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        try:
            absolute = normalize_url(urljoin(base, href))
        except ValueError:
            continue
        if urlsplit(absolute).scheme not in ("http", "https", "file"):
            continue
        # pdf.js viewers: viewer.html?file=/upload/x.pdf
        for key, value in parse_qsl(urlsplit(absolute).query):
            if key.lower() in ("file", "url", "path") and value.lower().split("?")[0].endswith(".pdf"):
                links.append(Link(normalize_url(urljoin(base, value)), anchor, tag))
        key = absolute + "\x00" + anchor
        if key in seen:
            continue
        seen.add(key)
        links.append(Link(absolute, anchor, tag))

    pagination: list[str] = []
    for script in parser.scripts:
        m = _CREATE_PAGE_HTML.search(script)
        if m:
            total, prefix, ext = int(m.group(1)), m.group(3), m.group(4)
            for i in range(min(total, 1000)):
                name = f"{prefix}.{ext}" if i == 0 else f"{prefix}_{i}.{ext}"
                pagination.append(normalize_url(urljoin(base, name)))
    for link in links:
        if link.tag == "a" and is_pagination(link, url) and link.url not in pagination:
            pagination.append(link.url)
    return Page(url=url, title=title, links=links, pagination=pagination, text=_clean(" ".join(parser.text_parts)))


# ---------------------------------------------------------------------------
# attachments

DOCUMENT_EXTENSIONS = {
    ".pdf",
    ".doc",
    ".docx",
    ".wps",
    ".xls",
    ".xlsx",
    ".et",
    ".csv",
    ".ppt",
    ".pptx",
    ".zip",
    ".rar",
    ".7z",
    ".ofd",
    ".txt",
    ".rtf",
}
PAGE_EXTENSIONS = {
    "",
    ".html",
    ".htm",
    ".shtml",
    ".shtm",
    ".jsp",
    ".jspx",
    ".php",
    ".asp",
    ".aspx",
    ".do",
    ".action",
    ".xhtml",
}
IGNORED_EXTENSIONS = {
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".bmp",
    ".svg",
    ".webp",
    ".ico",
    ".css",
    ".js",
    ".mp4",
    ".mp3",
    ".avi",
    ".flv",
    ".swf",
    ".xml",
    ".json",
}


def decode_component(raw: str) -> str:
    """Percent-decoded URL component: UTF-8, else GBK (older portals encode names in GBK)."""
    data = unquote_to_bytes(raw)
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def file_name(url: str) -> str:
    """Decoded last path segment, or a ``filename=`` query value when the path is a download script."""
    parts = urlsplit(url)
    name = decode_component(parts.path.rsplit("/", 1)[-1])
    for pair in parts.query.split("&"):
        key, _, raw = pair.partition("=")
        if key.lower() in ("filename", "file", "name", "fn", "attachname", "realname"):
            value = decode_component(raw.replace("+", " "))
            if "." in value:
                return value.rsplit("/", 1)[-1]
    return name


def extension(url: str) -> str:
    name = file_name(url).lower()
    if "." not in name:
        return ""
    return "." + name.rsplit(".", 1)[-1]


def link_kind(url: str) -> str:
    """``pdf``, ``attachment`` (another document format), ``page`` or ``ignore``."""
    ext = extension(url)
    if ext == ".pdf":
        return "pdf"
    if ext in DOCUMENT_EXTENSIONS:
        return "attachment"
    if ext in IGNORED_EXTENSIONS:
        return "ignore"
    if ext in PAGE_EXTENSIONS or len(ext) > 6:
        return "page"
    return "ignore"
