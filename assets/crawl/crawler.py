"""Crawl one source: list pages → article pages → PDF attachments → raw store.

:func:`crawl_source` returns one :class:`~assets.records.ManifestEntry` per
document link (PDFs and other attachments, deduplicated by absolute URL),
failures included.  A broken link or a bad file is recorded and the crawl
goes on; list/article HTML pages are fetched every time but are not manifest
rows.  ``on_entry`` receives each entry as soon as its document is fetched (the
manifest is written as the crawl goes, so a crawl killed part-way keeps what it
fetched).

Problems of the source itself (an unreachable or robots-blocked start page, a
missing folder, ``max_pages`` or ``max_documents`` reached) are listed in
:attr:`CrawlStats.problems`: the run reports them and its exit code says so.

Scope (assets/crawl/scope.py): links go to the allowed sites (host and port)
only, a ``file://`` mirror reads nothing outside its root, and every document
is checked against the region it names: a document of another region, or of a
national body (国家… / 中央… / 中共中央…), is ``skipped`` with that reason.
PDFs are read in a worker process under the PDF limits (assets/extract/worker.py).
"""

from __future__ import annotations

import heapq
import logging
import os
import pickle
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from assets.crawl.detect import (
    LABEL_OWNER_PASSWORD,
    REASON_FINAL_ACCOUNTS,
    REASON_NOT_BUDGET,
    check_pdf,
    detect,
    detect_region,
    national_body,
    strip_extension,
)
from assets.crawl.fetcher import Fetcher, FetchResult
from assets.crawl.htmlpage import Page, extension, file_name, link_kind, normalize_url, parse_page
from assets.crawl.raw_store import RawStore
from assets.crawl.scope import file_path, folder_url, inside, mirror_root, site_of
from assets.crawl.sources import SourceConfig
from assets.extract.worker import Limits, read_head_limited
from assets.records import (
    DOC_BUDGET,
    DOC_FINAL_ACCOUNTS,
    STATUS_FAILED,
    STATUS_FETCHED,
    STATUS_REJECTED,
    STATUS_SKIPPED,
    STATUS_UNCHANGED,
    ManifestEntry,
)

log = logging.getLogger(__name__)

REASON_ROBOTS = "disallowed by robots.txt"


@dataclass
class PreviousFetch:
    """What the warehouse manifest knows about the last fetch of a URL."""

    sha256: str | None
    etag: str | None = None
    last_modified: str | None = None


#: version of what :func:`cached_head` keeps (bump when read_pdf_head reads differently)
HEAD_CACHE_VERSION = 1


def _head_path(store: RawStore, sha: str | None) -> Path | None:
    if not sha or len(sha) != 64:
        return None
    return store.root.parent / "heads" / sha[:2] / f"{sha}.v{HEAD_CACHE_VERSION}.pickle"


def cached_head(store: RawStore, sha: str | None, limits: Limits):
    """The first pages of a stored document as a previous crawl read them (by content hash), or None.

    Every night the crawl sees every document again (unchanged ones answer 304 or hash the same); parsing
    their first pages again took a worker process each (about 30 ms), the bulk of a crawl that found nothing
    new. The head is what the PDF's bytes hold, so it is read once per content; what is *decided* from it
    (year, department, region, national body) is decided again each time, with the current rules."""
    path = _head_path(store, sha)
    if path is None or not path.exists():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - a damaged cache entry is read again
        return None


def store_head(store: RawStore, sha: str | None, head) -> None:
    path = _head_path(store, sha)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(pickle.dumps(head))
    tmp.replace(path)


def previous_from_entries(entries: Iterable[ManifestEntry]) -> dict[str, PreviousFetch]:
    """``previous`` for the next crawl from earlier manifest rows (later rows win; rows without a body are ignored)."""
    out: dict[str, PreviousFetch] = {}
    for e in entries:
        if e.sha256:
            out[e.url] = PreviousFetch(e.sha256, e.etag, e.last_modified)
    return out


@dataclass
class CrawlStats:
    """Optional by-product of a crawl (for logs, asset metadata, the benchmark)."""

    pages_fetched: int = 0
    pages_failed: dict[str, str] = field(default_factory=dict)  # url → reason
    pages_skipped_limit: int = 0  # pages left in the queue when max_pages was reached
    documents: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    bytes_downloaded: int = 0
    documents_skipped_limit: int = 0  # attachments not fetched when max_documents was reached
    #: problems of the source itself (start page unreachable or blocked, folder missing, a cap reached)
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False  # stopped on request (Ctrl-C) before the end


@dataclass
class _DocLink:
    url: str
    anchor: str = ""
    article_title: str | None = None
    page_url: str | None = None
    kind: str = "pdf"  # pdf | attachment
    on_host: bool = True
    from_folder: bool = False  # a file of a ``folder:`` source
    path: Path | None = None  # the local file of a folder source (its url is folder:<region>/<relative path>)


_GENERIC_ANCHOR = re.compile(
    r"^(附件\s*\d*[:：]?|下载|点击下载|点击查看|查看|在线预览|预览|原文|pdf|PDF|全文|详见附件|附件下载)?$"
)


def _meaningful(anchor: str | None, url: str) -> bool:
    if not anchor:
        return False
    a = anchor.strip()
    if _GENERIC_ANCHOR.match(a):
        return False
    # an opaque file name as link text (P020240315123456.pdf) says nothing
    return bool(re.search(r"[\u4e00-\u9fff]", a)) or not (a == file_name(url) or re.search(r"\.\w{2,4}$", a))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _SourceCrawl:
    def __init__(
        self,
        source: SourceConfig,
        fetcher: Fetcher,
        store: RawStore,
        previous: dict[str, PreviousFetch],
        stats: CrawlStats,
        limits: Limits | None = None,
        should_stop: Callable[[], bool] | None = None,
    ):
        self.source = source
        self.fetcher = fetcher
        self.store = store
        self.previous = previous
        self.stats = stats
        self.limits = limits or Limits()
        # one PDF parsed at a time (the fetches stay parallel): a crawl never holds more than one memory cap
        self.pdf_slot = threading.Lock()
        self.should_stop = should_stop or (lambda: False)
        self.sites = source.sites()
        # robots.txt is honoured unless the source or the fetch policy switches it off (a local mirror)
        self.respect_robots = source.respect_robots and fetcher.policy.respect_robots
        self.roots = [mirror_root(u, source.mirror_root) for u in source.start_urls if urlsplit(u).scheme == "file"]
        self.docs: dict[str, _DocLink] = {}
        self.prefetched: dict[str, FetchResult] = {}
        self.prefixes = [self._dir_of(normalize_url(u)) for u in source.start_urls]

    # -- scope ----------------------------------------------------------------
    @staticmethod
    def _dir_of(url: str) -> str:
        return url.rsplit("/", 1)[0] + "/"

    def on_host(self, url: str) -> bool:
        """An allowed site (host and port), or a file inside the root of this source's file:// mirror."""
        if urlsplit(url).scheme == "file":
            return any(inside(file_path(url), root) for root in self.roots)
        return site_of(url) in self.sites

    def _add_doc(self, link: _DocLink) -> None:
        known = self.docs.get(link.url)
        if known is None:
            self.docs[link.url] = link
            return
        if not _meaningful(known.anchor, known.url) and _meaningful(link.anchor, link.url):
            known.anchor = link.anchor
        if not known.article_title and link.article_title:
            known.article_title = link.article_title

    # -- pages ------------------------------------------------------------------
    def crawl_pages(self) -> None:
        heap: list[tuple[int, int, int, str]] = []
        seq = 0
        queued: set[str] = set()
        context: dict[str, tuple[str, str | None]] = {}  # page URL → (anchor text, title of the linking page)

        def push(url: str, depth: int, anchor: str = "", from_title: str | None = None) -> None:
            nonlocal seq
            if url in queued:
                return
            queued.add(url)
            context[url] = (anchor, from_title)
            outside = 0 if any(url.startswith(p) for p in self.prefixes) else 1
            heapq.heappush(heap, (depth, outside, seq, url))
            seq += 1

        starts = {normalize_url(u) for u in self.source.start_urls}
        for url in self.source.start_urls:
            push(normalize_url(url), 0)
        visited: set[str] = set()
        while heap:
            if self.should_stop():
                self.stats.interrupted = True
                break
            if self.stats.pages_fetched >= self.source.max_pages:
                self._record_page_limit({u for *_, u in heap} - visited)
                break
            depth, _, _, url = heapq.heappop(heap)
            if url in visited:
                continue
            visited.add(url)
            if urlsplit(url).scheme == "file" and not self.on_host(url):
                self.stats.problems.append(f"start page {url} is outside the mirror root")
                continue
            res = self.fetcher.fetch(url, allowed_hosts=self.sites, respect_robots=self.respect_robots)
            self.stats.pages_fetched += 1
            if res.error or res.content is None:
                self._record_failed_page(url, res, url in starts)
                continue
            self.stats.bytes_downloaded += len(res.content)
            final = normalize_url(res.final_url)
            visited.add(final)
            if res.content[:1024].lstrip().startswith(b"%PDF"):
                # a download script (no .pdf in the URL) or a start URL that is a PDF
                anchor, from_title = context.get(url, ("", None))
                self.prefetched[url] = res
                self._add_doc(_DocLink(url=url, anchor=anchor, article_title=from_title, page_url=None, kind="pdf"))
                continue
            self._follow_links(parse_page(res.content, final, res.content_type), final, depth, visited, push)

    def _record_page_limit(self, left_urls: set[str]) -> None:
        """max_pages reached with pages left to crawl: the source is truncated, said in its problems."""
        left = len(left_urls)
        if left:
            self.stats.pages_skipped_limit = left
            self.stats.problems.append(
                f"truncated: max_pages={self.source.max_pages} reached, {left} page(s) not crawled"
            )
            log.warning(
                "%s: max_pages=%d reached, %d pages not crawled", self.source.region_name, self.source.max_pages, left
            )

    def _record_failed_page(self, url: str, res: FetchResult, is_start: bool) -> None:
        """A page that could not be fetched; a start page's failure is a problem of the source."""
        self.stats.pages_failed[url] = res.error or f"HTTP {res.status}"
        log.warning("page %s: %s", url, res.error)
        if is_start:
            what = "blocked" if res.disallowed else "unreachable"
            self.stats.problems.append(f"start page {url} {what}: {res.error or f'HTTP {res.status}'}")

    def _follow_links(self, page: Page, final: str, depth: int, visited: set[str], push: Callable[..., None]) -> None:
        """A listing page's links: documents are recorded, pages on the host queued (its pagination at the
        same depth, other pages one deeper, up to max_depth)."""
        pagination = set(page.pagination)
        for link in page.links:
            kind = link_kind(link.url)
            if kind in ("pdf", "attachment"):
                self._add_doc(
                    _DocLink(
                        url=link.url,
                        anchor=link.text,
                        article_title=page.title,
                        page_url=final,
                        kind=kind,
                        on_host=self.on_host(link.url),
                    )
                )
            elif kind == "page" and self.on_host(link.url) and link.url not in visited:
                if link.url in pagination:
                    push(link.url, depth)
                elif depth + 1 <= self.source.max_depth:
                    push(link.url, depth + 1, link.text, page.title)
        for p in page.pagination:
            if self.on_host(p) and p not in visited:
                push(p, depth)

    def folder_docs(self) -> None:
        root = Path(self.source.folder or "")
        if not root.is_dir():
            raise FileNotFoundError(f"folder not found: {root}")
        for path in sorted(root.rglob("*")):
            # the folder's files as its owner put them there (a symbolic link to an archive is theirs to make);
            # only a file:// mirror's links are confined to its root (scope.inside)
            if path.is_file() and path.suffix.lower() == ".pdf":
                rel_parent = path.parent.relative_to(root)
                title = " / ".join(rel_parent.parts) or None
                self._add_doc(
                    _DocLink(
                        url=folder_url(self.source.region_code, root, path),
                        anchor=path.stem,
                        article_title=title,
                        kind="pdf",
                        from_folder=True,
                        path=path,
                    )
                )

    # -- documents --------------------------------------------------------------
    def process(self, link: _DocLink) -> ManifestEntry:
        try:
            return self._process(link)
        except Exception as exc:  # noqa: BLE001 - one bad document never stops the crawl
            log.exception("document %s", link.url)
            return self._entry(link, status=STATUS_FAILED, reason=f"internal error: {type(exc).__name__}: {exc}")

    def _entry(self, link: _DocLink, **kw: object) -> ManifestEntry:
        title = (
            strip_extension(link.anchor)
            if _meaningful(link.anchor, link.url)
            else (link.article_title or link.anchor or None)
        )
        entry = ManifestEntry(url=link.url, region_code=self.source.region_code, fetched_at=_now(), title=title)
        for k, v in kw.items():
            setattr(entry, k, v)
        return entry

    def _describe(
        self,
        entry: ManifestEntry,
        link: _DocLink,
        data: bytes | None,
        content_type: str | None,
        path: Path | None = None,
    ) -> None:
        """Fill doc_type/year/department/page_count and the status/reason the content implies."""
        name = file_name(link.url)
        rejection = check_pdf(data or b"", content_type) if data is not None else None
        head = None
        if data is not None and rejection is None and path is not None:
            head = cached_head(self.store, entry.sha256, self.limits)
            if head is None:
                # the first pages are parsed in a worker process under the PDF limits (a bomb is rejected)
                with self.pdf_slot:
                    head, rejection = read_head_limited(path, self.limits)
                if head is not None:
                    store_head(self.store, entry.sha256, head)
            elif head.page_count > self.limits.max_pages:
                head, rejection = None, self.limits.pages_reason(head.page_count)
        det = detect(
            head,
            anchor=link.anchor,
            file_name=name,
            article_title=link.article_title,
            region_name=self.source.region_name,
        )
        entry.doc_type, entry.year, entry.department, entry.page_count = (
            det.doc_type,
            det.year,
            det.department,
            det.page_count,
        )
        region = national = None
        if head is not None:
            national = national_body(head.first_page, "\n".join(head.pages))
            # every source kind keeps its own region's documents (a folder or a portal may hold others')
            region = detect_region(head.first_page, link.anchor, name, "\n".join(head.pages[1:]))
        if rejection:
            entry.status, entry.reason = STATUS_REJECTED, rejection
        elif national is not None:
            entry.status, entry.year = STATUS_SKIPPED, None  # no partition of this source processes it
            entry.reason = (
                f"document of a national body ({national}), not of a local department of "
                f"{self.source.region_name} ({self.source.region_code})"
            )
        elif region is not None and region.code != self.source.region_code:
            entry.status, entry.year = STATUS_SKIPPED, None
            entry.reason = (
                f"document of {region.full_name} ({region.code}), not of this source's region "
                f"{self.source.region_name} ({self.source.region_code})"
            )
        elif det.doc_type == DOC_FINAL_ACCOUNTS:
            entry.status, entry.reason = STATUS_SKIPPED, REASON_FINAL_ACCOUNTS
        elif det.doc_type != DOC_BUDGET:
            entry.status, entry.reason = STATUS_SKIPPED, REASON_NOT_BUDGET
        else:
            entry.status = STATUS_FETCHED
            flags = det.flags() + ([LABEL_OWNER_PASSWORD] if head is not None and head.owner_password else [])
            entry.reason = "; ".join(flags) or None

    def _process(self, link: _DocLink) -> ManifestEntry:
        if not link.on_host:
            parts = urlsplit(link.url)
            if parts.scheme == "file":
                return self._entry(link, status=STATUS_SKIPPED, reason="link outside the mirror root: not read")
            return self._entry(
                link,
                status=STATUS_SKIPPED,
                reason=f"link off the allowed hosts ({parts.netloc or link.url}): not requested",
            )
        if link.kind != "pdf":
            ext = extension(link.url) or "unknown type"
            entry = self._entry(link)
            det = detect(
                None,
                anchor=link.anchor,
                file_name=file_name(link.url),
                article_title=link.article_title,
                region_name=self.source.region_name,
            )
            entry.doc_type, entry.year, entry.department = det.doc_type, det.year, det.department
            entry.status, entry.reason = STATUS_SKIPPED, f"not a PDF ({ext})"
            return entry

        prev = self.previous.get(link.url)
        usable_prev = prev if prev and prev.sha256 and self.store.exists(prev.sha256) else None
        res = self.prefetched.pop(link.url, None)
        if res is None:
            res = self.fetcher.fetch(
                link.path.resolve().as_uri() if link.path is not None else link.url,
                etag=usable_prev.etag if usable_prev else None,
                last_modified=usable_prev.last_modified if usable_prev else None,
                allowed_hosts=self.sites,
                respect_robots=self.respect_robots,
            )
        entry = self._entry(
            link, http_status=res.status, content_type=res.content_type, etag=res.etag, last_modified=res.last_modified
        )
        if res.disallowed:
            entry.status, entry.reason = STATUS_SKIPPED, REASON_ROBOTS
            return entry
        if res.error:
            entry.status, entry.reason = STATUS_FAILED, res.error
            return entry
        if res.not_modified:
            if usable_prev is None:  # 304 without a conditional request of ours
                entry.status, entry.reason = STATUS_FAILED, "HTTP 304 without a stored previous version"
                return entry
            data = self.store.read(usable_prev.sha256)  # type: ignore[arg-type]
            entry.sha256, entry.is_new, entry.bytes = usable_prev.sha256, False, len(data)
            entry.etag = entry.etag or usable_prev.etag
            entry.last_modified = entry.last_modified or usable_prev.last_modified
            self._describe(
                entry, link, data, entry.content_type or "application/pdf", self.store.path(usable_prev.sha256)
            )  # type: ignore[arg-type]
            entry.status = STATUS_UNCHANGED
            return entry
        data = res.content or b""
        self.stats.bytes_downloaded += len(data)
        sha, path, is_new = self.store.put(data)
        entry.sha256, entry.is_new, entry.bytes = sha, is_new, len(data)
        self._describe(entry, link, data, res.content_type, path)
        if prev and prev.sha256 == sha:
            entry.status = STATUS_UNCHANGED
        return entry


def crawl_source(
    source: SourceConfig,
    *,
    fetcher: Fetcher,
    store: RawStore,
    previous: dict[str, PreviousFetch] | None = None,
    stats: CrawlStats | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
    on_entry: Callable[[ManifestEntry], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[ManifestEntry]:
    """Crawl one source; one manifest entry per document link, in discovery order.

    ``on_entry`` is called with each entry as soon as it is made (from the crawl's threads, one call at a
    time); ``should_stop`` is checked between pages and between documents: when it returns true the crawl
    ends after the documents in progress (``stats.interrupted``)."""
    stats = stats if stats is not None else CrawlStats()
    crawl = _SourceCrawl(source, fetcher, store, previous or {}, stats, limits, should_stop)
    emit_lock = threading.Lock()

    def emit(entry: ManifestEntry) -> ManifestEntry:
        if on_entry is not None:
            with emit_lock:
                on_entry(entry)
        return entry

    extra: list[ManifestEntry] = []
    if source.folder:
        try:
            crawl.folder_docs()
        except OSError as exc:
            log.error("%s: %s", source.region_name, exc)
            stats.problems.append(str(exc))
            entry = ManifestEntry(
                url=f"folder:{source.region_code}/",
                region_code=source.region_code,
                fetched_at=_now(),
                status=STATUS_FAILED,
                reason=str(exc),
            )
            extra.append(emit(entry))
    if source.start_urls:
        crawl.crawl_pages()
    links = list(crawl.docs.values())
    if len(links) > source.max_documents:
        stats.documents_skipped_limit = len(links) - source.max_documents
        stats.problems.append(
            f"truncated: max_documents={source.max_documents} reached, "
            f"{stats.documents_skipped_limit} attachment(s) not fetched"
        )
        log.warning(
            "%s: max_documents=%d reached, %d attachments not fetched",
            source.region_name,
            source.max_documents,
            stats.documents_skipped_limit,
        )
        links = links[: source.max_documents]
    stop = should_stop or (lambda: False)

    def one(link: _DocLink) -> ManifestEntry | None:
        if stop():
            stats.interrupted = True
            return None
        return emit(crawl.process(link))

    n = max(1, workers if workers is not None else fetcher.policy.workers)
    if n == 1 or len(links) <= 1:
        done = [one(link) for link in links]
    else:
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="crawl") as pool:
            done = list(pool.map(one, links))
    entries = extra + [e for e in done if e is not None]
    stats.documents += len(entries)
    for e in entries:
        stats.by_status[e.status] = stats.by_status.get(e.status, 0) + 1
    return entries
