"""Hostile inputs: peak memory and time of each, with the limits of the pipeline.

    python bench/bench_hostile.py [--links 10000] [--skip-unbounded]

For each input, the wall time and the peak resident memory of the whole process tree (this process, the
forkserver and the worker processes, sampled every 10 ms) while the pipeline's own code handles it:

* decompression bombs (522 KB, one stream inflating to 512 MiB; 2 MB inflating to 2 GiB): the crawl's look at
  the first pages and the extraction, each in a worker under the 1 GiB cap; and, for comparison, the same look
  without a cap;
* a 2,000-page PDF: refused by the page limit (1,000); 2,000 pages each with a table title and a ruled table,
  the page limit lifted: stopped by a 5 s time limit;
* a server trickling one response header a second: one fetch with a 5 s request deadline;
* a list page of 10,000 PDF links: one crawl, capped at ``max_documents`` (default 1000).

Nothing is asserted: the figures are printed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.crawl.crawler import CrawlStats, crawl_source  # noqa: E402
from assets.crawl.fetcher import Fetcher, FetchPolicy  # noqa: E402
from assets.crawl.raw_store import RawStore  # noqa: E402
from assets.crawl.sources import SourceConfig  # noqa: E402
from assets.extract.worker import Limits, extract_limited, read_head_limited, run_limited  # noqa: E402
from tests.support import crawl as testing  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parents[int(d)] = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [root], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        out += kids
        todo += kids
    return out


def _rss(pid: int) -> int:
    try:
        return int(open(f"/proc/{pid}/statm").read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class TreePeak:
    """Peak resident memory of this process and all its descendants while the block runs."""

    def __enter__(self):
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.started = time.monotonic()
        self.thread.start()
        return self

    def _poll(self):
        me = os.getpid()
        while not self.done.is_set():
            self.peak = max(self.peak, sum(_rss(p) for p in _tree(me)))
            self.done.wait(0.01)

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.started
        self.done.set()
        self.thread.join()


def row(name: str, m: TreePeak, outcome: str) -> None:
    print(f"{name:<62} {m.seconds:7.1f} s {m.peak / 2**20:8.0f} MiB   {outcome}")


def _unbounded_head(path: str):  # in a child without limits: what the crawl did before the workers
    from assets.crawl.detect import read_pdf_head

    read_pdf_head(Path(path).read_bytes())
    return "read"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", type=int, default=10_000)
    ap.add_argument("--skip-unbounded", action="store_true", help="do not run the unbounded comparison")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    bomb = tmp / "bomb.pdf"
    bomb.write_bytes(testing.bomb_pdf())
    budget_bomb = tmp / "budget_bomb.pdf"
    budget_bomb.write_bytes(testing.budget_with_bomb())
    pages = tmp / "pages_2000.pdf"
    pages.write_bytes(testing.many_pages_pdf(2000))
    tabled = tmp / "tables_2000.pdf"
    tabled.write_bytes(testing.many_pages_pdf(2000, tables=True))
    # a worker runs functions it imports by name: this script's, as module bench_hostile
    unbounded = importlib.import_module("bench_hostile")._unbounded_head
    run_limited(unbounded, str(pages), limits=Limits())  # start the forkserver before measuring
    print(f"limits: {Limits()}   bomb {bomb.stat().st_size // 1024} KB, 2,000 pages {pages.stat().st_size // 1024} KB")
    print(f"{'input':<62} {'time':>9} {'peak memory':>12}   outcome")

    big = tmp / "bomb_2g.pdf"
    big.write_bytes(testing.bomb_pdf(2 << 30))
    for path, label in ((bomb, "bomb"), (big, "bomb, 2 GiB stream")):
        if not args.skip_unbounded:
            with TreePeak() as m:
                o = run_limited(unbounded, str(path), limits=Limits(memory_bytes=64 * 2**30))
            row(f"{label}: first pages read without a cap (before)", m, o.value or o.reason)
        with TreePeak() as m:
            _head, reason = read_head_limited(path)
        row(f"{label}: crawl's look at the first pages (worker)", m, reason)
    with TreePeak() as m:
        result = extract_limited(budget_bomb, "x" * 64)
    row("bomb on page 4 of a budget: extraction (worker, 1 GiB cap)", m, result.reason)

    with TreePeak() as m:
        _head, reason = read_head_limited(pages)
    row("2,000-page PDF: crawl's look", m, reason)
    with TreePeak() as m:
        result = extract_limited(pages, "x" * 64)
    row("2,000-page PDF: extraction", m, result.reason)
    with TreePeak() as m:
        result = extract_limited(tabled, "x" * 64, Limits(max_pages=5000, seconds=5))
    row(
        "2,000 pages of tables: extraction, no page limit, 5 s limit",
        m,
        result.reason or f"{result.status}: {len(result.tables)} tables",
    )

    with testing.LocalPortal() as portal:
        url = testing.trickle_headers(portal, "/slow.pdf", testing.budget_pdf(), interval=1.0, lines=90)
        with (
            TreePeak() as m,
            Fetcher(FetchPolicy(timeout=30, max_duration=5, min_interval=0, respect_robots=False)) as fetcher,
        ):
            res = fetcher.fetch(url)
        row("trickled headers (1 line/s, 90 lines): fetch, 5 s deadline", m, res.error or "fetched")

    with testing.LocalPortal() as portal:
        body = testing.budget_pdf()
        links = "".join(f'<a href="/d/{i}.pdf">伊川县政务服务中心2024年部门预算{i}</a>' for i in range(args.links))
        start = portal.add("/list/index.html", f"<html><body>{links}</body></html>")
        for i in range(args.links):
            portal.add(f"/d/{i}.pdf", body)
        source = SourceConfig("410329", "伊川县", [start], respect_robots=False)
        stats = CrawlStats()
        with TreePeak() as m, Fetcher(FetchPolicy(min_interval=0, respect_robots=False)) as fetcher:
            entries = crawl_source(source, fetcher=fetcher, store=RawStore(tmp / "raw"), previous={}, stats=stats)
        row(
            f"{args.links:,} PDF links on one page: crawl",
            m,
            f"{len(entries)} fetched; {'; '.join(stats.problems) or 'no cap reached'}",
        )


if __name__ == "__main__":
    main()
