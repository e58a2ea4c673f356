"""Crawl stage against a local portal: pagination, encodings, attachments, incremental re-crawl."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from assets.crawl.crawler import CrawlStats, PreviousFetch, crawl_source, previous_from_entries
from assets.crawl.detect import REASON_FINAL_ACCOUNTS
from assets.crawl.fetcher import DEFAULT_USER_AGENT, Fetcher, FetchPolicy
from assets.crawl.raw_store import RawStore
from assets.crawl.sources import SourceConfig
from assets.records import (
    DOC_BUDGET,
    DOC_FINAL_ACCOUNTS,
    STATUS_FAILED,
    STATUS_FETCHED,
    STATUS_SKIPPED,
    STATUS_UNCHANGED,
)
from tests.support.crawl import LocalPortal, budget_pdf, make_pdf

PDF_YICHUAN = budget_pdf()  # 2024年洛阳市伊川县政务服务中心部门预算 / 部门名称：伊川县政务服务中心
PDF_EDU = budget_pdf("伊川县教育局")
PDF_WATER = budget_pdf("伊川县水利局")
PDF_FINAL = budget_pdf("伊川县民政局", year=2023, kind="部门决算")
PDF_DIRECT = budget_pdf("伊川县财政局")
PDF_NO_FACTS = make_pdf([["部门预算编制说明", "本部门收支情况如下。"]])

CN_NAME = "伊川县政务服务中心2024年部门预算.pdf"
WATER_NAME = "伊川县水利局2024年部门预算.pdf"


def _page(title: str, body: str, charset_meta: str | None = "utf-8") -> str:
    meta = (
        f'<meta charset="{charset_meta}">'
        if charset_meta == "utf-8"
        else (f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">' if charset_meta else "")
    )
    return f"<!DOCTYPE html><html><head>{meta}<title>{title}_伊川县人民政府</title></head><body>{body}</body></html>"


def build_portal(portal: LocalPortal) -> dict[str, str]:
    """Three list pages (utf-8, gb2312 meta, undeclared GBK), four articles, news, noise."""
    off_host = f"http://localhost:{portal.port}/offhost/伊川县2024年部门预算.pdf"
    nav = '<div class="nav"><a href="/index.html">首页</a> <a href="/zwgk/">政务公开</a></div>'
    portal.add("/index.html", _page("伊川县人民政府", nav + '<a href="/xwzx/202403/t20240301_9.html">工作动态</a>'))
    portal.add("/zwgk/", _page("政务公开", nav))
    # list page 1: UTF-8, <meta charset>
    portal.add(
        "/zwgk/bmys/index.html",
        _page(
            "部门预算",
            nav + '<ul><li><a href="202403/t20240315_1.html">伊川县政务服务中心2024年部门预算公开</a></li>'
            '<li><a href="./202403/t20240316_2.html">伊川县教育局2024年部门预算</a></li>'
            '<li><a href="/xwzx/202403/t20240301_9.html">伊川县召开2024年预算工作会议</a></li></ul>'
            '<div class="page"><a href="index.html">首页</a> <a href="index_1.html">下一页</a></div>',
        ),
    )
    # list page 2: GBK declared by http-equiv meta gb2312
    portal.add(
        "/zwgk/bmys/index_1.html",
        _page(
            "部门预算",
            '<ul><li><a href="202404/t20240401_3.html">伊川县民政局2023年部门决算公开</a></li></ul>'
            '<div class="page"><a href="index.html">上一页</a> <a href="index_2.html">下一页</a></div>',
            charset_meta="gb2312",
        ).encode("gbk"),
        content_type="text/html",
    )
    # list page 3: GBK, not declared anywhere; a PDF linked straight from the list, off-host and .doc noise
    portal.add(
        "/zwgk/bmys/index_2.html",
        _page(
            "部门预算",
            '<ul><li><a href="202404/t20240402_4.html">伊川县水利局2024年部门预算</a></li>'
            '<li><a href="/uploads/2024/P020240320000001.pdf">伊川县财政局2024年部门预算</a></li>'
            f'<li><a href="{off_host}">外站链接</a></li>'
            '<li><a href="/uploads/2024/预算公开说明.doc">预算公开说明（Word版）</a></li></ul>'
            '<div class="page"><a href="index_1.html">上一页</a></div>',
            charset_meta=None,
        ).encode("gbk"),
        content_type="text/html",
    )
    # article 1: UTF-8, percent-encoded Chinese file name
    portal.add(
        "/zwgk/bmys/202403/t20240315_1.html",
        _page(
            "伊川县政务服务中心2024年部门预算公开",
            "<h1>伊川县政务服务中心2024年部门预算公开</h1><p>现将我单位2024年部门预算公开如下。</p>"
            f'<p>附件：<a href="/uploads/2024/{quote(CN_NAME)}">{CN_NAME}</a></p>',
        ),
    )
    portal.add(f"/uploads/2024/{CN_NAME}", PDF_YICHUAN)
    # article 2: opaque attachment name, link text "附件1"
    portal.add(
        "/zwgk/bmys/202403/t20240316_2.html",
        _page(
            "伊川县教育局2024年部门预算",
            '<h1>伊川县教育局2024年部门预算</h1><a href="../../../uploads/2024/P020240315123456.pdf">附件1</a>'
            '<a href="/uploads/2024/P020240315123456.pdf">点击下载</a>',
        ),
    )
    portal.add("/uploads/2024/P020240315123456.pdf", PDF_EDU)
    # article 3: GBK with the charset in the Content-Type header only; a 决算 PDF and an .xls
    portal.add(
        "/zwgk/bmys/202404/t20240401_3.html",
        _page(
            "伊川县民政局2023年部门决算公开",
            '<h1>伊川县民政局2023年部门决算公开</h1><a href="/uploads/2024/P020240401000003.pdf">附件</a>'
            '<a href="/uploads/2024/P020240401000004.xls">附件2：决算公开表</a>',
            charset_meta=None,
        ).encode("gbk"),
        content_type="text/html; charset=GBK",
    )
    portal.add("/uploads/2024/P020240401000003.pdf", PDF_FINAL)
    # article 4: undeclared GBK, raw (not percent-encoded) Chinese href, a broken link, a PDF without year/department
    portal.add(
        "/zwgk/bmys/202404/t20240402_4.html",
        _page(
            "伊川县水利局2024年部门预算",
            f'<h1>伊川县水利局2024年部门预算</h1><a href="/uploads/2024/{WATER_NAME}">{WATER_NAME}</a>'
            '<a href="/uploads/2024/missing.pdf">部门预算（旧链接）</a>'
            '<a href="/uploads/2024/P020240402000009.pdf">附件2</a>',
            charset_meta=None,
        ).encode("gbk"),
        content_type="text/html",
    )
    portal.add(f"/uploads/2024/{WATER_NAME}", PDF_WATER)
    portal.add("/uploads/2024/P020240402000009.pdf", PDF_NO_FACTS)
    portal.add("/uploads/2024/P020240320000001.pdf", PDF_DIRECT)
    portal.add("/uploads/2024/预算公开说明.doc", b"\xd0\xcf\x11\xe0 word", content_type="application/msword")
    portal.add("/uploads/2024/P020240401000004.xls", b"\xd0\xcf\x11\xe0 excel", content_type="application/vnd.ms-excel")
    # news without attachments; the off-host PDF also exists (it must never be requested)
    portal.add(
        "/xwzx/202403/t20240301_9.html",
        _page("伊川县召开2024年预算工作会议", "<h1>伊川县召开2024年预算工作会议</h1><p>会议要求…</p>"),
    )
    portal.add("/offhost/伊川县2024年部门预算.pdf", PDF_YICHUAN)
    return {"start": portal.url("/zwgk/bmys/index.html"), "off_host": off_host}


def _policy(**kw) -> FetchPolicy:
    base = dict(timeout=5.0, retries=1, backoff_base=0.01, min_interval=0.0, max_per_host=4, workers=4)
    base.update(kw)
    return FetchPolicy(**base)


@pytest.fixture()
def portal():
    with LocalPortal() as p:
        yield p


def _by_url(entries):
    out = {e.url: e for e in entries}
    assert len(out) == len(entries), "one entry per URL"
    return out


def _u(portal: LocalPortal, path: str) -> str:
    return portal.url(quote(path))


def test_portal_crawl_and_incremental_recrawl(portal: LocalPortal, tmp_path: Path) -> None:
    urls = build_portal(portal)
    store = RawStore(tmp_path / "raw")
    source = SourceConfig(region_code="410329", region_name="伊川县", start_urls=[urls["start"]], respect_robots=False)
    stats = CrawlStats()
    with Fetcher(_policy()) as fetcher:
        entries = crawl_source(source, fetcher=fetcher, store=store, previous={}, stats=stats)
    by = _by_url(entries)

    # pagination: all three list pages, each once
    for p in ("/zwgk/bmys/index.html", "/zwgk/bmys/index_1.html", "/zwgk/bmys/index_2.html"):
        assert len(portal.requests(p)) == 1, p
    assert all(r.headers.get("User-Agent") == DEFAULT_USER_AGENT for r in portal.log)

    yichuan = by[_u(portal, f"/uploads/2024/{CN_NAME}")]
    assert (yichuan.status, yichuan.doc_type, yichuan.year, yichuan.department) == (
        STATUS_FETCHED,
        DOC_BUDGET,
        2024,
        "伊川县政务服务中心",
    )
    assert yichuan.reason is None and yichuan.page_count == 2 and yichuan.http_status == 200
    assert yichuan.region_code == "410329" and yichuan.is_new and yichuan.bytes == len(PDF_YICHUAN)
    assert yichuan.title == CN_NAME.removesuffix(".pdf")
    stored = store.path(yichuan.sha256)
    assert stored == tmp_path / "raw" / yichuan.sha256[:2] / f"{yichuan.sha256}.pdf"
    assert stored.read_bytes() == PDF_YICHUAN

    # opaque name, "附件1" anchor (deduplicated with the "点击下载" link): the content tells what it is
    edu = by[portal.url("/uploads/2024/P020240315123456.pdf")]
    assert (edu.status, edu.year, edu.department, edu.title) == (
        STATUS_FETCHED,
        2024,
        "伊川县教育局",
        "伊川县教育局2024年部门预算",
    )
    assert len(portal.requests("/uploads/2024/P020240315123456.pdf")) == 1

    # raw Chinese href on an undeclared GBK page
    water = by[_u(portal, f"/uploads/2024/{WATER_NAME}")]
    assert (water.status, water.department, water.year) == (STATUS_FETCHED, "伊川县水利局", 2024)
    direct = by[portal.url("/uploads/2024/P020240320000001.pdf")]
    assert (direct.status, direct.department, direct.title) == (
        STATUS_FETCHED,
        "伊川县财政局",
        "伊川县财政局2024年部门预算",
    )

    # 决算 (header-charset GBK article): recognised from the content, kept in the store
    final = by[portal.url("/uploads/2024/P020240401000003.pdf")]
    assert (final.status, final.doc_type, final.reason) == (STATUS_SKIPPED, DOC_FINAL_ACCOUNTS, REASON_FINAL_ACCOUNTS)
    assert final.year == 2023 and final.department == "伊川县民政局" and store.exists(final.sha256)
    assert "民政局" in (final.title or "")

    # flagged, never guessed: the article title says 2024 / 水利局, but the content has no year and no department
    # → the article title still supplies them; a PDF with nothing anywhere would be flagged (see test below)
    nofacts = by[portal.url("/uploads/2024/P020240402000009.pdf")]
    assert nofacts.status == STATUS_FETCHED and nofacts.doc_type == DOC_BUDGET
    assert (nofacts.year, nofacts.department) == (2024, "伊川县水利局")

    # noise
    doc = by[_u(portal, "/uploads/2024/预算公开说明.doc")]
    assert (doc.status, doc.reason, doc.sha256) == (STATUS_SKIPPED, "not a PDF (.doc)", None)
    xls = by[portal.url("/uploads/2024/P020240401000004.xls")]
    assert (xls.status, xls.reason) == (STATUS_SKIPPED, "not a PDF (.xls)")
    assert not portal.requests(_u(portal, "/uploads/2024/预算公开说明.doc")[len(portal.base) :])
    assert not portal.requests("/uploads/2024/P020240401000004.xls")
    off = by[urls["off_host"].replace("/伊川县2024年部门预算.pdf", "/" + quote("伊川县2024年部门预算.pdf"))]
    assert off.status == STATUS_SKIPPED and off.reason.startswith(
        f"link off the allowed hosts (localhost:{portal.port})"
    )
    assert not [r for r in portal.log if r.path.startswith("/offhost/")]
    broken = by[portal.url("/uploads/2024/missing.pdf")]
    assert (broken.status, broken.reason, broken.http_status, broken.sha256) == (STATUS_FAILED, "HTTP 404", 404, None)
    assert len(portal.requests("/xwzx/202403/t20240301_9.html")) == 1  # news page read once, nothing recorded
    assert len(entries) == 10
    assert stats.pages_fetched >= 7 and not [u for u in stats.pages_failed if "bmys" in u]

    # --- second crawl: conditional requests, no PDF body transferred ---------------------------
    portal.clear_log()
    previous = previous_from_entries(entries)
    with Fetcher(_policy()) as fetcher:
        again = crawl_source(source, fetcher=fetcher, store=store, previous=previous)
    by2 = _by_url(again)
    pdf_gets = [r for r in portal.log if r.path.lower().endswith(".pdf")]
    assert pdf_gets and all(r.status in (304, 404) for r in pdf_gets), [(r.path, r.status) for r in pdf_gets]
    assert sum(r.body_bytes for r in pdf_gets if r.status != 404) == 0
    assert all("If-None-Match" in r.headers for r in pdf_gets if r.status == 304)
    for url, e in by.items():
        if e.sha256:
            e2 = by2[url]
            assert e2.status == STATUS_UNCHANGED and e2.sha256 == e.sha256 and not e2.is_new, url
            assert (e2.year, e2.department, e2.doc_type) == (e.year, e.department, e.doc_type)
    assert by2[portal.url("/uploads/2024/missing.pdf")].status == STATUS_FAILED
    assert all(r.path.endswith((".html", "/")) or r.path.lower().endswith(".pdf") for r in portal.log)

    # --- the file changes at the same URL: new version, the old one stays ----------------------
    changed = budget_pdf("伊川县教育局", year=2025)
    portal.add("/uploads/2024/P020240315123456.pdf", changed)
    with Fetcher(_policy()) as fetcher:
        third = _by_url(crawl_source(source, fetcher=fetcher, store=store, previous=previous_from_entries(again)))
    new = third[portal.url("/uploads/2024/P020240315123456.pdf")]
    assert new.status == STATUS_FETCHED and new.is_new and new.year == 2025 and new.sha256 != edu.sha256
    assert store.path(edu.sha256).read_bytes() == PDF_EDU
    assert store.path(new.sha256).read_bytes() == changed


def test_same_body_without_validators_is_unchanged(portal: LocalPortal, tmp_path: Path) -> None:
    """A server without ETag/Last-Modified: the body comes again, same sha256 → unchanged."""
    portal.add("/list/index.html", _page("部门预算", '<a href="/f/a.pdf">伊川县政务服务中心2024年部门预算</a>'))
    portal.add("/f/a.pdf", PDF_YICHUAN, etag=False)
    store = RawStore(tmp_path)
    source = SourceConfig("410329", "伊川县", [portal.url("/list/index.html")], respect_robots=False)
    with Fetcher(_policy()) as f:
        (first,) = crawl_source(source, fetcher=f, store=store, previous={})
        (second,) = crawl_source(source, fetcher=f, store=store, previous={first.url: PreviousFetch(first.sha256)})
    assert first.status == STATUS_FETCHED and first.is_new
    assert second.status == STATUS_UNCHANGED and second.sha256 == first.sha256 and not second.is_new


def test_pdf_without_year_or_department_is_flagged(portal: LocalPortal, tmp_path: Path) -> None:
    portal.add("/list/index.html", _page("信息公开", '<a href="/f/P020240101000001.pdf">附件</a>'))
    portal.add("/f/P020240101000001.pdf", PDF_NO_FACTS)
    source = SourceConfig("410329", "伊川县", [portal.url("/list/index.html")], respect_robots=False)
    with Fetcher(_policy()) as f:
        (e,) = crawl_source(source, fetcher=f, store=RawStore(tmp_path), previous={})
    assert (e.status, e.doc_type, e.year, e.department) == (STATUS_FETCHED, DOC_BUDGET, None, None)
    assert e.reason == "year not detected; department not detected"


def test_max_pages_bounds_the_crawl(portal: LocalPortal, tmp_path: Path) -> None:
    for i in range(30):
        name = "index.html" if i == 0 else f"index_{i}.html"
        portal.add(f"/list/{name}", _page("列表", f'<a href="index_{i + 1}.html">下一页</a>'))
    source = SourceConfig("410329", "伊川县", [portal.url("/list/index.html")], respect_robots=False, max_pages=5)
    stats = CrawlStats()
    with Fetcher(_policy()) as f:
        assert crawl_source(source, fetcher=f, store=RawStore(tmp_path), previous={}, stats=stats) == []
    assert stats.pages_fetched == 5 and len(portal.log) == 5


def test_trs_javascript_pager(portal: LocalPortal, tmp_path: Path) -> None:
    """TRS portals write their pager with createPageHTML(n, 0, "index", "html")."""
    script = '<script>createPageHTML(3, 0, "index", "html");</script>'
    portal.add("/ch/index.html", _page("列表", '<a href="./a1.html">一</a>' + script))
    portal.add("/ch/index_1.html", _page("列表", '<a href="./a2.pdf">伊川县教育局2024年部门预算</a>' + script))
    portal.add("/ch/index_2.html", _page("列表", '<a href="./a3.pdf">伊川县水利局2024年部门预算</a>' + script))
    portal.add("/ch/a1.html", _page("文章", '<a href="/f/x.pdf">伊川县政务服务中心2024年部门预算</a>'))
    portal.add("/ch/a2.pdf", PDF_EDU)
    portal.add("/ch/a3.pdf", PDF_WATER)
    portal.add("/f/x.pdf", PDF_YICHUAN)
    source = SourceConfig("410329", "伊川县", [portal.url("/ch/index.html")], respect_robots=False)
    with Fetcher(_policy()) as f:
        entries = crawl_source(source, fetcher=f, store=RawStore(tmp_path), previous={})
    assert sorted(e.department for e in entries) == ["伊川县政务服务中心", "伊川县教育局", "伊川县水利局"]
    assert {e.status for e in entries} == {STATUS_FETCHED}


def test_file_mirror_and_folder_sources(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "bmys" / "202403").mkdir(parents=True)
    (mirror / "uploads").mkdir()
    (mirror / "bmys" / "index.html").write_bytes(
        _page(
            "部门预算",
            '<a href="202403/t1.html">伊川县教育局2024年部门预算</a><a href="index_1.html">下一页</a>',
            "gb2312",
        ).encode("gbk")
    )
    (mirror / "bmys" / "index_1.html").write_bytes(
        _page("部门预算", '<a href="../uploads/决算.pdf">伊川县民政局2023年部门决算</a>').encode()
    )
    (mirror / "bmys" / "202403" / "t1.html").write_bytes(
        _page(
            "伊川县教育局2024年部门预算",
            f'<a href="../../uploads/{quote("教育局预算.pdf")}">附件</a><a href="../../uploads/gone.pdf">附件2</a>',
        ).encode()
    )
    (mirror / "uploads" / "教育局预算.pdf").write_bytes(PDF_EDU)
    (mirror / "uploads" / "决算.pdf").write_bytes(PDF_FINAL)
    store = RawStore(tmp_path / "raw")
    # the mirror's root is its site folder: the pages link to ../uploads (default root: the start page's folder)
    source = SourceConfig(
        "410329", "伊川县", [(mirror / "bmys" / "index.html").as_uri()], respect_robots=True, mirror_root=str(mirror)
    )
    with Fetcher(_policy()) as f:
        entries = crawl_source(source, fetcher=f, store=store, previous={})
        by = {Path(e.url).name: e for e in entries}
        assert by[quote("教育局预算.pdf")].status == STATUS_FETCHED
        assert by[quote("教育局预算.pdf")].department == "伊川县教育局"
        assert by[quote("决算.pdf")].reason == REASON_FINAL_ACCOUNTS
        assert (by["gone.pdf"].status, by["gone.pdf"].reason) == (STATUS_FAILED, "HTTP 404")
        again = crawl_source(source, fetcher=f, store=store, previous=previous_from_entries(entries))
        assert {e.status for e in again if e.sha256} == {STATUS_UNCHANGED}

        # a folder of PDFs, recursively; other files ignored
        folder = tmp_path / "pdfs"
        (folder / "2024年部门预算").mkdir(parents=True)
        (folder / "2024年部门预算" / "P0001.pdf").write_bytes(PDF_YICHUAN)
        (folder / "水利局.PDF").write_bytes(PDF_WATER)
        (folder / "readme.txt").write_text("x")
        (folder / "bad.pdf").write_bytes(PDF_YICHUAN[:500])
        fsource = SourceConfig("410329", "伊川县", [], folder=str(folder))
        fentries = crawl_source(fsource, fetcher=f, store=store, previous={})
        fby = {Path(e.url).name: e for e in fentries}
        assert set(fby) == {"P0001.pdf", "bad.pdf", quote("水利局.PDF")}
        assert fby["P0001.pdf"].department == "伊川县政务服务中心" and fby["P0001.pdf"].status == STATUS_FETCHED
        assert fby["bad.pdf"].status == "rejected" and fby["bad.pdf"].reason.startswith("corrupt PDF")
        refetch = crawl_source(fsource, fetcher=f, store=store, previous=previous_from_entries(fentries))
        assert {e.status for e in refetch} == {STATUS_UNCHANGED}

        missing = crawl_source(
            SourceConfig("410329", "伊川县", [], folder=str(tmp_path / "nope")), fetcher=f, store=store, previous={}
        )
        assert len(missing) == 1 and missing[0].status == STATUS_FAILED and "folder not found" in missing[0].reason


def test_download_script_without_pdf_extension(portal: LocalPortal, tmp_path: Path) -> None:
    """A link to download.jsp?id=7 is fetched as a page; its body is a PDF, so it becomes a document."""
    portal.add(
        "/list/index.html", _page("部门预算", '<a href="/module/download.jsp?id=7">伊川县教育局2024年部门预算</a>')
    )
    portal.add("/module/download.jsp", PDF_NO_FACTS, content_type="application/octet-stream")
    source = SourceConfig("410329", "伊川县", [portal.url("/list/index.html")], respect_robots=False)
    with Fetcher(_policy()) as f:
        (e,) = crawl_source(source, fetcher=f, store=RawStore(tmp_path), previous={})
    assert (e.url, e.status, e.title) == (
        portal.url("/module/download.jsp?id=7"),
        STATUS_FETCHED,
        "伊川县教育局2024年部门预算",
    )
    assert (e.year, e.department) == (2024, "伊川县教育局")
    assert len(portal.requests("/module/download.jsp?id=7")) == 1


def test_a_document_seen_again_is_not_parsed_again(tmp_path, monkeypatch):
    """The crawl reads a document's first pages once per content (a worker process each time was most of a
    quiet night's crawl); what it decides from them is decided again, and the entries are the same."""
    import assets.crawl.crawler as crawler

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "2024年伊川县教育局部门预算.pdf").write_bytes(budget_pdf("伊川县教育局"))
    (folder / "伊川县统计局.pdf").write_bytes(budget_pdf("伊川县统计局", year=2023))
    source = SourceConfig("410329", "伊川县", [], folder=str(folder))
    store = RawStore(tmp_path / "raw")
    parsed = []
    real = crawler.read_head_limited
    monkeypatch.setattr(crawler, "read_head_limited", lambda path, limits: parsed.append(path) or real(path, limits))
    with Fetcher(_policy()) as f:
        first = crawl_source(source, fetcher=f, store=store, previous={})
        assert len(parsed) == 2
        again = crawl_source(source, fetcher=f, store=store, previous=previous_from_entries(first))
    assert len(parsed) == 2  # nothing parsed the second time
    key = lambda e: (e.url, e.sha256, e.year, e.department, e.doc_type, e.page_count)  # noqa: E731
    assert sorted(map(key, again)) == sorted(map(key, first))
    assert {e.status for e in again} == {STATUS_UNCHANGED}
    assert {(e.year, e.department) for e in first} == {(2024, "伊川县教育局"), (2023, "伊川县统计局")}
    # a lower page limit applies to a cached head too
    from assets.extract.worker import Limits

    with Fetcher(_policy()) as f:
        capped = crawl_source(source, fetcher=f, store=store, previous={}, limits=Limits(max_pages=1))
    assert all(e.status == "rejected" and e.reason.startswith("too many pages") for e in capped)
