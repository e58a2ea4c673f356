"""Hostile portals and sources, on servers started here on 127.0.0.1: a trickling server, 10,000 links, other
ports of the same host, a file:// mirror linking out of its root, documents of another region or of a national
body, a malformed list page, a crawl killed part-way, concurrent manifest writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from assets.crawl.crawler import CrawlStats, crawl_source
from assets.crawl.fetcher import Fetcher, FetchPolicy
from assets.crawl.htmlpage import parse_page
from assets.crawl.raw_store import RawStore
from assets.crawl.sources import SourceConfig
from assets.records import STATUS_FAILED, STATUS_FETCHED, STATUS_SKIPPED
from tests.support.crawl import LocalPortal, budget_pdf, make_pdf, trickle_headers

REPO = Path(__file__).resolve().parents[2]
GOOD = budget_pdf()


def _policy(**kw) -> FetchPolicy:
    base = dict(
        timeout=2.0, retries=2, backoff_base=0.01, min_interval=0.0, max_per_host=4, workers=4, respect_robots=False
    )
    base.update(kw)
    return FetchPolicy(**base)


@pytest.fixture()
def portal():
    with LocalPortal() as p:
        yield p


def _crawl(source: SourceConfig, tmp_path: Path, **policy) -> tuple[dict, CrawlStats]:
    stats = CrawlStats()
    with Fetcher(_policy(**policy)) as fetcher:
        entries = crawl_source(source, fetcher=fetcher, store=RawStore(tmp_path / "raw"), previous={}, stats=stats)
    return {e.url: e for e in entries}, stats


def test_trickled_headers_end_at_the_request_deadline(portal, tmp_path):
    """One header line every 0.5 s never trips the 2 s read timeout; the 3 s deadline ends it, not retried."""
    url = trickle_headers(portal, "/docs/slow.pdf", GOOD, interval=0.5, lines=90)
    started = time.monotonic()
    with Fetcher(_policy(max_duration=3.0)) as fetcher:
        res = fetcher.fetch(url)
    elapsed = time.monotonic() - started
    assert res.error == "timeout after 3 s (whole request: connect, headers and body)"
    assert res.attempts == 1 and fetcher.requests_sent == 1 and 2.9 <= elapsed < 6


def test_attachments_per_source_are_capped_and_reported(portal, tmp_path):
    links = "".join(f'<a href="/d/{i}.pdf">伊川县政务服务中心2024年部门预算{i}</a>' for i in range(10_000))
    start = portal.add("/list/index.html", f"<html><body>{links}</body></html>")
    for i in range(10_000):
        portal.add(f"/d/{i}.pdf", GOOD)
    by, stats = _crawl(SourceConfig("410329", "伊川县", [start], respect_robots=False, max_documents=40), tmp_path)
    assert len(by) == 40 and {e.status for e in by.values()} == {STATUS_FETCHED}
    assert len(portal.requests()) == 41  # the list page and 40 documents
    assert stats.problems == ["truncated: max_documents=40 reached, 9960 attachment(s) not fetched"]


def test_max_pages_truncation_is_a_source_problem(portal, tmp_path):
    pages = [portal.add(f"/list/index_{i}.html", f'<a href="/list/index_{i + 1}.html">下一页</a>') for i in range(5)]
    _, stats = _crawl(SourceConfig("410329", "伊川县", [pages[0]], respect_robots=False, max_pages=2), tmp_path)
    assert stats.problems == ["truncated: max_pages=2 reached, 1 page(s) not crawled"]


def test_another_port_of_the_same_host_is_another_site(portal, tmp_path):
    with LocalPortal() as other:
        other.add("/x.pdf", GOOD)
        other.add("/y.pdf", GOOD)
        start = portal.add(
            "/list/index.html",
            f'<a href="http://127.0.0.1:{other.port}/x.pdf">伊川县政务服务中心2024年部门预算</a>'
            '<a href="/moved.pdf">伊川县教育局2024年部门预算</a>',
        )
        portal.redirect("/moved.pdf", f"http://127.0.0.1:{other.port}/y.pdf")
        by, _ = _crawl(SourceConfig("410329", "伊川县", [start], respect_robots=False), tmp_path)
        x = by[f"http://127.0.0.1:{other.port}/x.pdf"]
        assert (x.status, x.reason) == (
            STATUS_SKIPPED,
            f"link off the allowed hosts (127.0.0.1:{other.port}): not requested",
        )
        moved = by[portal.url("/moved.pdf")]
        assert (moved.status, moved.reason) == (
            STATUS_FAILED,
            f"redirect off the allowed hosts: 127.0.0.1:{other.port}",
        )
        assert other.requests() == []
        # listed with its port: allowed
        allowed = SourceConfig(
            "410329", "伊川县", [start], respect_robots=False, allowed_hosts=[f"127.0.0.1:{other.port}"]
        )
        by, _ = _crawl(allowed, tmp_path)
        assert by[f"http://127.0.0.1:{other.port}/x.pdf"].status == STATUS_FETCHED
        assert by[portal.url("/moved.pdf")].status == STATUS_FETCHED


def test_a_file_mirror_reads_nothing_outside_its_root(tmp_path):
    secret = tmp_path / "home" / "secret.pdf"
    secret.parent.mkdir()
    secret.write_bytes(budget_pdf("伊川县财政局"))
    site = tmp_path / "mirror" / "site"
    (site / "uploads").mkdir(parents=True)
    (site / "uploads" / "a.pdf").write_bytes(GOOD)
    (site / "index.html").write_text(
        '<a href="uploads/a.pdf">伊川县政务服务中心2024年部门预算</a>'
        '<a href="../../home/secret.pdf">伊川县财政局2024年部门预算</a>'
        f'<a href="{secret.as_uri()}">伊川县财政局预算</a>'
        '<a href="../../home/">上级目录</a>',
        encoding="utf-8",
    )
    source = SourceConfig("410329", "伊川县", [(site / "index.html").as_uri()], respect_robots=False)
    by, stats = _crawl(source, tmp_path)
    assert by[(site / "uploads" / "a.pdf").as_uri()].status == STATUS_FETCHED
    outside = by[secret.as_uri()]
    assert (outside.status, outside.reason, outside.sha256) == (
        STATUS_SKIPPED,
        "link outside the mirror root: not read",
        None,
    )
    assert len(by) == 2 and stats.pages_fetched == 1  # the directory above was not listed either


def test_every_source_kind_checks_the_region_a_document_names(portal, tmp_path):
    xinan = budget_pdf("新安县教育局", region="洛阳市新安县")
    start = portal.add(
        "/list/index.html", '<a href="/a.pdf">伊川县教育局2024年部门预算</a><a href="/b.pdf">部门预算</a>'
    )
    portal.add("/a.pdf", GOOD)
    portal.add("/b.pdf", xinan)
    by, _ = _crawl(SourceConfig("410329", "伊川县", [start], respect_robots=False), tmp_path)
    assert by[portal.url("/a.pdf")].status == STATUS_FETCHED
    other = by[portal.url("/b.pdf")]
    assert (other.status, other.year) == (STATUS_SKIPPED, None)
    assert other.reason == "document of 河南省洛阳市新安县 (410323), not of this source's region 伊川县 (410329)"
    # a typo in the region code: the county's documents are not loaded as region 999999
    by, _ = _crawl(SourceConfig("999999", "伊川县", [start], respect_robots=False), tmp_path)
    assert by[portal.url("/a.pdf")].reason == (
        "document of 河南省洛阳市伊川县 (410329), not of this source's region 伊川县 (999999)"
    )


def test_a_national_body_is_never_a_local_department(portal, tmp_path):
    national = make_pdf([["国家信访局 2024 年度部门预算", "二〇二四年三月"], ["部门名称：国家信访局"]])
    start = portal.add("/list/index.html", '<a href="/xfj.pdf">2024年伊川县信访局部门预算</a>')
    portal.add("/xfj.pdf", national)
    by, _ = _crawl(SourceConfig("410329", "伊川县", [start], respect_robots=False), tmp_path)
    entry = by[portal.url("/xfj.pdf")]
    assert (entry.status, entry.year) == (STATUS_SKIPPED, None)
    assert entry.reason == "document of a national body (国家信访局), not of a local department of 伊川县 (410329)"


REAL_CORPUS = Path(os.environ.get("BUDGET_REAL_CORPUS", REPO.parent / "shared" / "real-corpus" / "renwu-2026"))


@pytest.mark.skipif(not (REAL_CORPUS / "MANIFEST.tsv").exists(), reason="real corpus not available")
def test_real_national_budget_saved_under_city_names_is_skipped(tmp_path):
    """国家信访局's 2026 budget saved as 武汉市 and 哈尔滨市 信访局 (MANIFEST kind ``national``): skipped for each city;
    the city's own budgets of the corpus are not."""
    rows = [ln.split("\t") for ln in (REAL_CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    national = [r for r in rows if r[3] == "national"]
    assert len(national) == 2
    for path, code, name, *_ in national:
        folder = REAL_CORPUS / path.split("/")[0]
        by, _ = _crawl(SourceConfig(code, name, [], folder=str(folder)), tmp_path)
        (entry,) = [e for e in by.values() if e.url.endswith(quote(path.split("/")[1]))]
        assert (entry.status, entry.year) == (STATUS_SKIPPED, None)
        assert entry.reason == f"document of a national body (国家信访局), not of a local department of {name} ({code})"
    # a city's own budget (深圳 is all budgets) is not mistaken for a national body
    ((path, code, name, *_),) = [r for r in rows if r[0].startswith("003_深圳/") and r[3] == "budget"][:1]
    one = tmp_path / "sz"
    one.mkdir()
    (one / "doc.pdf").write_bytes((REAL_CORPUS / path).read_bytes())
    by, _ = _crawl(SourceConfig(code, name, [], folder=str(one)), tmp_path)
    assert [e.status for e in by.values()] == [STATUS_FETCHED]


def test_malformed_marked_section_does_not_drop_the_links_after_it():
    html = (
        '<html><body><![if !IE]><a href="/a.pdf">甲</a><![endif]>'
        '<p><![ bogus section</p><a href="/b.pdf">乙</a><![CDATA[ x ]]><a href="/c.pdf">丙</a></body></html>'
    )
    page = parse_page(html.encode(), "http://127.0.0.1/list/index.html")
    assert [(link.url.rsplit("/", 1)[1], link.text) for link in page.links] == [
        ("a.pdf", "甲"),
        ("b.pdf", "乙"),
        ("c.pdf", "丙"),
    ]


def test_manifest_rows_are_recorded_as_documents_are_fetched(portal, tmp_path):
    """A crawl killed part-way (SIGKILL) keeps the rows of the documents it fetched."""
    links = "".join(f'<a href="/d/{i}.pdf">伊川县政务服务中心2024年部门预算{i}</a>' for i in range(4))
    start = portal.add(
        "/list/index.html", f"<html><body>{links}<a href='/d/hang.pdf'>伊川县教育局2024年部门预算</a></body></html>"
    )
    for i in range(4):
        portal.add(f"/d/{i}.pdf", budget_pdf(f"伊川县单位{i}局"))
    hanging = threading.Event()

    def hang(h):  # the fifth document never comes
        hanging.set()
        portal.stop_event.wait(120)
        return 0

    portal.handle("/d/hang.pdf", hang)
    sources = tmp_path / "s.yaml"
    sources.write_text(
        f'sources:\n  - region_code: "410329"\n    region_name: 伊川县\n    start_urls: ["{start}"]\n', encoding="utf-8"
    )
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "ingest",
            "--sources",
            str(sources),
            "--data-dir",
            str(data),
            "--no-robots",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "DAGSTER_HOME": ""},
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
            hanging.is_set() and all(portal.requests(f"/d/{i}.pdf") for i in range(4))
        ):
            time.sleep(0.2)
        time.sleep(3)  # the four documents are read (worker) and recorded
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    rows = con.execute("SELECT url, status FROM raw.manifest ORDER BY url").fetchall()
    con.close()
    assert rows == [(portal.url(f"/d/{i}.pdf"), STATUS_FETCHED) for i in range(4)]


@pytest.mark.postgres
def test_concurrent_manifest_upserts_on_postgresql(pg_url):
    from assets.load.warehouse import Warehouse

    Warehouse(pg_url).ensure_schema()
    rows = [
        dict(
            url=f"http://127.0.0.1/{i}.pdf",
            region_code="410329",
            sha256=f"{i:064x}",
            status="fetched",
            fetched_at="2024-01-01T00:00:00+00:00",
        )
        for i in range(30)
    ]
    errors: list[BaseException] = []

    def record() -> None:
        wh = Warehouse(pg_url)
        try:
            for _ in range(5):
                wh.record_manifest(rows)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            wh.dispose()

    threads = [threading.Thread(target=record) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    wh = Warehouse(pg_url)
    assert wh.query("SELECT COUNT(*) FROM raw.manifest")[1] == [(30,)]
    wh.dispose()
