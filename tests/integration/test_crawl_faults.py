"""A faulty portal: every case ends with a specific status and reason, the run goes on, nothing stored is lost."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from assets.crawl.crawler import crawl_source, previous_from_entries
from assets.crawl.fetcher import Fetcher, FetchPolicy
from assets.crawl.raw_store import RawStore
from assets.crawl.sources import SourceConfig
from assets.records import STATUS_FAILED, STATUS_FETCHED, STATUS_REJECTED, STATUS_SKIPPED, STATUS_UNCHANGED
from tests.support.crawl import LocalPortal, budget_pdf

GOOD = budget_pdf()
OTHER = budget_pdf("伊川县教育局")
ERROR_PAGE = b"<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Service busy</h1></body></html>"
MAX_BYTES = 200_000

CASES = {
    # path: (anchor)
    "/docs/flaky.pdf": "服务中心部门预算（500后成功）",
    "/docs/hang.pdf": "挂起",
    "/docs/reset.pdf": "连接重置",
    "/docs/reset_once.pdf": "连接重置一次",
    "/docs/truncated.pdf": "截断",
    "/docs/error.pdf": "错误页",
    "/docs/loop.pdf": "重定向循环",
    "/docs/moved.pdf": "重定向",
    "/docs/huge.pdf": "超大（分块）",
    "/docs/huge_announced.pdf": "超大（声明长度）",
    "/private/secret.pdf": "robots 禁止",
    "/docs/good.pdf": "伊川县政务服务中心2024年部门预算",
}


def _policy(**kw) -> FetchPolicy:
    base = dict(
        timeout=0.5, retries=2, backoff_base=0.01, min_interval=0.0, max_bytes=MAX_BYTES, max_per_host=4, workers=4
    )
    base.update(kw)
    return FetchPolicy(**base)


def build_faulty(portal: LocalPortal) -> str:
    links = "".join(f'<li><a href="{p}">{a}</a></li>' for p, a in CASES.items())
    start = portal.add(
        "/list/index.html", f'<html><head><meta charset="utf-8"></head><body><ul>{links}</ul></body></html>'
    )
    portal.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    portal.fail_then("/docs/flaky.pdf", failures=2, body=GOOD)
    portal.hang("/docs/hang.pdf", seconds=3)
    portal.reset_mid_body("/docs/reset.pdf", OTHER)
    portal.reset_mid_body("/docs/reset_once.pdf", OTHER, resets=1)
    portal.add("/docs/truncated.pdf", OTHER[: len(OTHER) // 2])
    portal.add("/docs/error.pdf", ERROR_PAGE, content_type="application/pdf")
    portal.redirect("/docs/loop.pdf", "/docs/loop2.pdf")
    portal.redirect("/docs/loop2.pdf", "/docs/loop.pdf")
    portal.redirect("/docs/moved.pdf", "/files/moved-here.pdf", status=301)
    portal.add("/files/moved-here.pdf", OTHER)
    portal.endless("/docs/huge.pdf")
    portal.endless("/docs/huge_announced.pdf", announce_length=50_000_000)
    portal.add("/private/secret.pdf", GOOD)
    portal.add("/docs/good.pdf", GOOD)
    return start


@pytest.fixture()
def portal():
    with LocalPortal() as p:
        yield p


def test_faulty_portal(portal: LocalPortal, tmp_path: Path) -> None:
    start = build_faulty(portal)
    store = RawStore(tmp_path / "raw")
    kept_sha, kept_path, _ = store.put(b"%PDF-1.4 stored before the crawl\n%%EOF\n")
    source = SourceConfig("410329", "伊川县", [start])
    t0 = time.monotonic()
    with Fetcher(_policy()) as fetcher:
        entries = crawl_source(source, fetcher=fetcher, store=store, previous={})
    elapsed = time.monotonic() - t0
    by = {e.url.removeprefix(portal.base): e for e in entries}
    assert set(by) == set(CASES)

    def outcome(path):
        e = by[path]
        return e.status, e.reason

    # 500, 500, then 200: retried and fetched
    assert outcome("/docs/flaky.pdf")[0] == STATUS_FETCHED
    assert [r.status for r in portal.requests("/docs/flaky.pdf")] == [500, 500, 200]
    # silent server: 1 + 2 retries, each past the 0.5 s timeout
    assert outcome("/docs/hang.pdf") == (STATUS_FAILED, "timeout after 0.5 s")
    assert elapsed >= 3 * 0.5
    # connection reset mid-body: retried; always → failed, once → fetched
    status, reason = outcome("/docs/reset.pdf")
    assert status == STATUS_FAILED and reason.startswith("connection reset")
    assert by["/docs/reset.pdf"].sha256 is None
    assert outcome("/docs/reset_once.pdf") == (STATUS_FETCHED, None)
    # truncated PDF: rejected, raw bytes kept
    status, reason = outcome("/docs/truncated.pdf")
    assert status == STATUS_REJECTED and reason.startswith("corrupt PDF: ")
    assert store.path(by["/docs/truncated.pdf"].sha256).read_bytes() == OTHER[: len(OTHER) // 2]
    # an HTML error page served as application/pdf: rejected, kept as .html
    assert outcome("/docs/error.pdf") == (STATUS_REJECTED, "not a PDF: HTML page served as application/pdf")
    err = store.path(by["/docs/error.pdf"].sha256)
    assert err.suffix == ".html" and err.read_bytes() == ERROR_PAGE
    # redirects: a loop fails, a move is followed
    assert outcome("/docs/loop.pdf") == (STATUS_FAILED, "redirect loop")
    assert len(portal.requests("/docs/loop.pdf")) == 1 and len(portal.requests("/docs/loop2.pdf")) == 1
    moved = by["/docs/moved.pdf"]
    assert moved.status == STATUS_FETCHED and moved.department == "伊川县教育局"
    # oversized: aborted while streaming, or refused from Content-Length
    assert outcome("/docs/huge.pdf") == (STATUS_FAILED, f"file too large: > {MAX_BYTES} bytes")
    assert outcome("/docs/huge_announced.pdf") == (STATUS_FAILED, f"file too large: > {MAX_BYTES} bytes")
    assert len(portal.requests("/docs/huge.pdf")) == 1  # not retried
    # robots.txt: fetched once, the disallowed PDF never requested
    assert outcome("/private/secret.pdf") == (STATUS_SKIPPED, "disallowed by robots.txt")
    assert not portal.requests("/private/secret.pdf")
    assert len(portal.requests("/robots.txt")) == 1
    # the run went on
    assert outcome("/docs/good.pdf") == (STATUS_FETCHED, None)
    assert by["/docs/good.pdf"].department == "伊川县政务服务中心"
    # nothing already stored is lost
    assert kept_path.read_bytes() == b"%PDF-1.4 stored before the crawl\n%%EOF\n" and store.exists(kept_sha)
    assert elapsed < 15

    # a later failure of a stored document loses nothing; the faults stay faults
    portal.clear_log()
    portal.add("/docs/good.pdf", ERROR_PAGE, content_type="application/pdf", etag=False)
    with Fetcher(_policy(retries=1)) as fetcher:
        again = {
            e.url.removeprefix(portal.base): e
            for e in crawl_source(source, fetcher=fetcher, store=store, previous=previous_from_entries(entries))
        }
    assert again["/docs/good.pdf"].status == STATUS_REJECTED
    assert store.path(by["/docs/good.pdf"].sha256).read_bytes() == GOOD
    assert again["/docs/moved.pdf"].status == STATUS_UNCHANGED
    assert again["/docs/loop.pdf"].reason == "redirect loop"


def test_robots_off_for_a_local_mirror(portal: LocalPortal, tmp_path: Path) -> None:
    start = build_faulty(portal)
    source = SourceConfig("410329", "伊川县", [start], respect_robots=False)
    with Fetcher(_policy(retries=1)) as fetcher:
        entries = crawl_source(source, fetcher=fetcher, store=RawStore(tmp_path), previous={})
    secret = next(e for e in entries if e.url.endswith("/private/secret.pdf"))
    assert secret.status == STATUS_FETCHED
    assert not portal.requests("/robots.txt")


def test_redirect_cap_and_off_host_redirect(portal: LocalPortal, tmp_path: Path) -> None:
    for i in range(5):
        portal.redirect(f"/r/{i}.pdf", f"/r/{i + 1}.pdf")
    portal.add("/r/5.pdf", GOOD)
    portal.redirect("/away.pdf", f"http://localhost:{portal.port}/docs/good.pdf")
    portal.add("/docs/good.pdf", GOOD)
    with Fetcher(_policy(max_redirects=3, respect_robots=False)) as fetcher:
        capped = fetcher.fetch(portal.url("/r/0.pdf"))
        assert capped.error == "too many redirects (> 3)"
        away = fetcher.fetch(portal.url("/away.pdf"), allowed_hosts={f"127.0.0.1:{portal.port}"})
        assert away.error == f"redirect off the allowed hosts: localhost:{portal.port}"
        ok = fetcher.fetch(portal.url("/r/2.pdf"))
        assert ok.error is None and ok.content == GOOD and ok.final_url.endswith("/r/5.pdf")
    assert not portal.requests("/docs/good.pdf")


def test_rate_limit_and_per_host_concurrency(portal: LocalPortal, tmp_path: Path) -> None:
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(h: BaseHTTPRequestHandler) -> int:
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.05)
        with lock:
            active["now"] -= 1
        body = GOOD
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        return 200

    links = "".join(f'<a href="/d/{i}.pdf">伊川县政务服务中心2024年部门预算{i}</a>' for i in range(8))
    start = portal.add("/list/index.html", f"<html><body>{links}</body></html>")
    for i in range(8):
        portal.handle(f"/d/{i}.pdf", slow)
    source = SourceConfig("410329", "伊川县", [start], respect_robots=False)
    with Fetcher(_policy(max_per_host=2, workers=6)) as fetcher:
        entries = crawl_source(source, fetcher=fetcher, store=RawStore(tmp_path), previous={})
    assert len(entries) == 8 and {e.status for e in entries} == {STATUS_FETCHED}
    assert active["max"] <= 2
    assert sum(e.is_new for e in entries) == 1  # same body everywhere: stored once

    portal.clear_log()
    with Fetcher(_policy(min_interval=0.05, workers=4)) as fetcher:
        crawl_source(source, fetcher=fetcher, store=RawStore(tmp_path), previous={})
    starts = sorted(r.started for r in portal.log)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # 9 requests, ≥ 0.05 s apart when sent (arrival times jitter a little on a loaded machine)
    assert len(starts) == 9 and starts[-1] - starts[0] >= 0.3 and min(gaps) >= 0.02, gaps
