"""Crawl benchmark: a local portal of N small budget PDFs on 127.0.0.1.

    python bench/bench_crawl.py [--docs 520] [--workers 4]

Builds list pages (20 articles each, TRS-style index_N.html pagination),
one article page per document and one PDF per article (one reportlab PDF,
a same-length byte run varied so every sha256 differs), then crawls it twice
with a realistic policy (robots.txt on, no rate limit): the first crawl
downloads and analyses everything, the re-crawl sends conditional requests
and transfers no PDF body.  Prints documents/s for both.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.crawl.crawler import CrawlStats, crawl_source, previous_from_entries  # noqa: E402
from assets.crawl.fetcher import Fetcher, FetchPolicy  # noqa: E402
from assets.crawl.raw_store import RawStore  # noqa: E402
from assets.crawl.sources import SourceConfig  # noqa: E402
from tests.support.crawl import LocalPortal, make_pdf  # noqa: E402

PER_PAGE = 20
MARK = b"BENCHDOC-000000"


def build(portal: LocalPortal, n_docs: int) -> str:
    template = make_pdf(
        [
            ["2024年洛阳市伊川县政务服务中心部门预算", "二〇二四年一月"],
            ["部门名称：伊川县政务服务中心        单位：万元", "部门收支总表", "一般公共预算拨款收入  123.45"],
        ],
        title=MARK.decode(),
    )
    assert template.count(MARK) == 1, "the PDF title must appear once, uncompressed"
    n_pages = (n_docs + PER_PAGE - 1) // PER_PAGE
    for page in range(n_pages):
        items = []
        for k in range(page * PER_PAGE, min(n_docs, (page + 1) * PER_PAGE)):
            items.append(f'<li><a href="2024/t2024_{k}.html">伊川县第{k}单位2024年部门预算公开</a></li>')
            portal.add(
                f"/zwgk/bmys/2024/t2024_{k}.html",
                f'<html><head><meta charset="utf-8"><title>伊川县第{k}单位2024年部门预算公开</title></head>'
                f"<body><h1>伊川县第{k}单位2024年部门预算公开</h1><a "
                f'href="/uploads/P0202403{k:08d}.pdf">附件1</a></body></html>',
            )
            body = template.replace(MARK, f"BENCHDOC-{k:06d}".encode())
            portal.add(f"/uploads/P0202403{k:08d}.pdf", body, last_modified="Fri, 15 Mar 2024 08:00:00 GMT")
        pager = f'<script>createPageHTML({n_pages}, {page}, "index", "html");</script>'
        name = "index.html" if page == 0 else f"index_{page}.html"
        portal.add(
            f"/zwgk/bmys/{name}",
            f'<html><head><meta charset="utf-8"></head><body><ul>{"".join(items)}</ul>{pager}</body></html>',
        )
    portal.add("/robots.txt", "User-agent: *\nDisallow: /admin/\n", content_type="text/plain")
    return portal.url("/zwgk/bmys/index.html")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=520)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()

    policy = FetchPolicy(
        timeout=10, retries=2, backoff_base=0.05, min_interval=0.0, max_per_host=args.workers, workers=args.workers
    )
    with LocalPortal() as portal, tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        start = build(portal, args.docs)
        print(f"portal: {args.docs} PDFs built in {time.perf_counter() - t:.2f} s at {start}")
        store = RawStore(Path(tmp) / "raw")
        source = SourceConfig("410329", "伊川县", [start], max_pages=10_000)
        results = []
        previous: dict = {}
        for label in ("first crawl", "no-change re-crawl"):
            portal.clear_log()
            stats = CrawlStats()
            with Fetcher(policy) as fetcher:
                t = time.perf_counter()
                entries = crawl_source(source, fetcher=fetcher, store=store, previous=previous, stats=stats)
                dt = time.perf_counter() - t
            pdf_bodies = sum(r.body_bytes for r in portal.log if r.path.endswith(".pdf"))
            print(
                f"{label:>20}: {len(entries)} documents in {dt:.2f} s = {len(entries) / dt:7.1f} documents/s; "
                f"{stats.pages_fetched} HTML pages; statuses {dict(sorted(stats.by_status.items()))}; "
                f"PDF bytes transferred {pdf_bodies}"
            )
            results.append(entries)
            previous = previous_from_entries(entries)
        first, second = results
        assert len(first) == args.docs and all(
            e.status == "fetched" and e.department == "伊川县政务服务中心" for e in first
        )
        assert len({e.sha256 for e in first}) == args.docs
        assert all(e.status == "unchanged" for e in second)


if __name__ == "__main__":
    main()
