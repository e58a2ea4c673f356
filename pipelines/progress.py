"""Progress of ``budget-etl ingest`` and ``backfill`` while they run.

On a terminal a live display (rich): regions crawled, partitions done / total with a bar, the document being
extracted, pages per second and an estimated time left. Elsewhere (CI, cron, a pipe) plain timestamped lines:
one when a region's crawl starts and ends, one when a partition starts, one per document extracted, one when a
partition ends (with pages/s and the ETA). Both go to stderr; the summary goes to stdout.

What is happening is read from what the runs leave, never from inside the assets:
* the runner (pipelines/backfill.py) reports crawls and partitions starting and ending;
* which documents a partition extracts is the crawl's manifest (``documents_of_year``) with the page counts
  read at crawl time; a document is extracted once its extraction cache file exists
  (``<data dir>/extracted/<sha256>.v<EXTRACTOR_VERSION>.pickle``), in this process or in a worker process.
Pages/s counts the pages extracted in this run (cached documents cost nothing); the ETA divides the pages left
by it, or, when nothing is left to extract, multiplies the partitions left by the mean time of a partition.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from assets.extract.batch import documents_of_year
from assets.extract.document import EXTRACTOR_VERSION
from pipelines.summary import display_name

MODES = ("auto", "live", "plain", "off")


class Progress:
    """What the runner tells; this base class ignores it (``--progress off`` and library use)."""

    def crawl_started(self, region: str, index: int, total: int) -> None: ...

    def crawl_finished(self, region: str, entries: list | None) -> None: ...

    def plan(self, partitions: list[tuple[int, str]], crawled: dict[str, list]) -> None: ...

    def partition_started(self, year: int, region: str, stage: str = "extract → load") -> None: ...

    def partitions_submitted(self, futures: dict[tuple[int, str], Any], final: bool) -> None: ...

    def partition_finished(self, outcome) -> None: ...

    def close(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


NullProgress = Progress


@dataclass
class Document:
    sha256: str
    name: str  # decoded file name
    pages: int
    cached_before: bool  # extracted in an earlier run: nothing to do


@dataclass
class PartitionState:
    year: int
    region: str
    documents: list[Document] = field(default_factory=list)
    state: str = "pending"  # pending | running | done | failed
    stage: str = ""
    started: float | None = None
    seconds: float | None = None
    future: Any = None  # a worker process's future (backfill --workers)
    final: bool = True  # False: a worker runs extract + normalize, this process then validates and loads

    @property
    def key(self) -> str:
        return f"{self.year}|{self.region}"


@dataclass
class Snapshot:
    regions_done: int
    regions_total: int
    crawling: str | None
    done: int
    total: int
    failed: int
    pages_done: int
    pages_total: int
    pages_per_s: float | None
    eta_s: float | None
    elapsed_s: float
    current: list[tuple[str, str]]  # (partition key, what it is doing)


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "–"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Tracker(Progress):
    """The state both displays show, from the runner's events and the extraction cache."""

    def __init__(self, data_dir: str | Path, *, clock=time.monotonic):
        self.cache = Path(data_dir) / "extracted"
        self.suffix = f".v{EXTRACTOR_VERSION}.pickle"
        self.clock = clock
        self.lock = threading.RLock()
        self.started = clock()
        self.processing_started: float | None = None
        self.regions_total = 0
        self.regions_done = 0
        self.crawling: str | None = None
        self.crawl_notes: dict[str, str] = {}
        self.partitions: dict[tuple[int, str], PartitionState] = {}

    # -- events ---------------------------------------------------------------------------------------------
    def crawl_started(self, region, index, total):
        with self.lock:
            self.regions_total, self.crawling = total, region

    def crawl_finished(self, region, entries):
        with self.lock:
            self.regions_done += 1
            self.crawling = None
            stored = [e for e in entries or [] if e.sha256]
            self.crawl_notes[region] = (
                "crawl failed" if entries is None else f"{len(stored)} document{'s' if len(stored) != 1 else ''} stored"
            )

    def plan(self, partitions, crawled):
        with self.lock:
            for year, region in partitions:
                docs = [
                    Document(e.sha256, display_name(e.url), e.page_count or 0, self.extracted(e.sha256))
                    for e in documents_of_year(crawled.get(region, []), year)
                ]
                self.partitions[(year, region)] = PartitionState(year, region, docs)

    def partition_started(self, year, region, stage="extract → load"):
        with self.lock:
            p = self._state(year, region)
            p.state, p.stage, p.future = "running", stage, None
            p.started = p.started or self.clock()
            self.processing_started = self.processing_started or self.clock()

    def partitions_submitted(self, futures, final):
        with self.lock:
            self.processing_started = self.processing_started or self.clock()
            for (year, region), future in futures.items():
                p = self._state(year, region)
                p.future, p.final, p.stage = future, final, "extract → normalize" if not final else "extract → load"

    def partition_finished(self, outcome):
        with self.lock:
            p = self._state(outcome.year, outcome.region)
            p.state = "done" if outcome.success else "failed"
            p.seconds = outcome.seconds
            p.future = None

    def _state(self, year, region) -> PartitionState:
        return self.partitions.setdefault((year, region), PartitionState(year, region))

    # -- what is happening ----------------------------------------------------------------------------------
    def extracted(self, sha256: str) -> bool:
        return (self.cache / f"{sha256}{self.suffix}").exists()

    def _poll_futures(self) -> None:
        for p in self.partitions.values():
            if p.future is None:
                continue
            if p.future.running() and p.state == "pending":
                p.state, p.started = "running", self.clock()
            elif p.future.done() and p.state in ("pending", "running"):
                ok = not p.future.cancelled() and p.future.exception() is None
                if not ok or p.final or not p.future.result().success:
                    p.state = "done" if ok and p.future.result().success else "failed"
                    p.seconds = self.clock() - (p.started or self.clock())
                else:  # extracted in a worker: validate + load here, partition by partition
                    p.stage, p.state = "waiting to validate + load", "running"
                p.future = None

    def doing(self, p: PartitionState) -> str:
        """What a running partition is doing: the document being extracted, else its stage."""
        todo = [d for d in p.documents if not d.cached_before and not self.extracted(d.sha256)]
        if todo and p.stage != "validate + load":
            d = todo[0]
            i = p.documents.index(d) + 1
            return f"extracting {d.name} ({d.pages} pages; document {i}/{len(p.documents)})"
        if p.stage in ("extract → load", "extract → normalize"):
            return "validating and loading" if p.stage == "extract → load" else "normalizing"
        return p.stage

    def snapshot(self) -> Snapshot:
        with self.lock:
            self._poll_futures()
            now = self.clock()
            parts = list(self.partitions.values())
            fresh = [d for p in parts for d in p.documents if not d.cached_before]
            pages_total = sum(d.pages for d in fresh)
            pages_done = sum(d.pages for d in fresh if self.extracted(d.sha256))
            processing = now - self.processing_started if self.processing_started else 0.0
            rate = pages_done / processing if pages_done and processing > 0 else None
            finished = [p for p in parts if p.state in ("done", "failed")]
            left = len(parts) - len(finished)
            if pages_total - pages_done > 0 and rate:
                eta = (pages_total - pages_done) / rate
            elif finished and left:
                eta = left * sum(p.seconds or 0 for p in finished) / len(finished)
            elif parts and not left:
                eta = 0.0
            else:
                eta = None
            current = [(p.key, self.doing(p)) for p in parts if p.state == "running"]
            return Snapshot(
                self.regions_done,
                self.regions_total,
                self.crawling,
                len(finished),
                len(parts),
                sum(1 for p in parts if p.state == "failed"),
                pages_done,
                pages_total,
                rate,
                eta,
                now - self.started,
                current,
            )


class LiveProgress(Tracker):
    """A rich live display, refreshed four times a second, on a terminal."""

    def __init__(self, data_dir, stream: IO[str], **kw):
        super().__init__(data_dir, **kw)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream, highlight=False)
        self.live = Live(
            console=self.console,
            get_renderable=self.render,
            refresh_per_second=4,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=True,
        )
        self.live.start()

    def render(self):
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        s = self.snapshot()
        if not s.regions_total and not s.total:
            return Text(f"preparing the warehouse and the jobs … {_fmt_seconds(s.elapsed_s)}", style="dim")
        head = Table.grid(padding=(0, 1))
        head.add_row(
            Text(f"regions crawled {s.regions_done}/{s.regions_total}", style="bold"),
            Text(f"partitions {s.done}/{s.total}", style="bold"),
            ProgressBar(total=max(s.total, 1), completed=s.done, width=30),
            Text(f"pages {s.pages_done}/{s.pages_total}"),
            Text(f"{s.pages_per_s:.1f} pages/s" if s.pages_per_s else "– pages/s"),
            Text(f"ETA {_fmt_seconds(s.eta_s)}"),
            Text(f"elapsed {_fmt_seconds(s.elapsed_s)}", style="dim"),
        )
        lines = [head]
        if s.crawling:
            lines.append(Text(f"  crawling region {s.crawling}"))
        for key, doing in s.current:
            lines.append(Text(f"  {key}  {doing}"))
        if s.failed:
            lines.append(Text(f"  {s.failed} partition run(s) failed", style="red"))
        return Group(*lines)

    def close(self):
        self.live.stop()


class PlainProgress(Tracker):
    """Timestamped lines for logs: written when something changes, polled twice a second."""

    def __init__(self, data_dir, stream: IO[str], interval: float = 0.5, **kw):
        super().__init__(data_dir, **kw)
        self.stream = stream
        self.interval = interval
        self.seen: dict[str, str] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="budget-etl-progress", daemon=True)
        self.thread.start()

    def line(self, text: str) -> None:
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        with self.lock:
            self.stream.write(f"{stamp} {text}\n")
            self.stream.flush()

    def crawl_started(self, region, index, total):
        super().crawl_started(region, index, total)
        self.line(f"crawl {region} (region {index + 1}/{total})")

    def crawl_finished(self, region, entries):
        super().crawl_finished(region, entries)
        self.line(f"crawl {region}: {self.crawl_notes[region]}")

    def plan(self, partitions, crawled):
        super().plan(partitions, crawled)
        s = self.snapshot()
        self.line(f"{s.total} partition{'s' if s.total != 1 else ''} to process, {s.pages_total} pages to extract")

    def partition_started(self, year, region, stage="extract → load"):
        super().partition_started(year, region, stage)
        p = self._state(year, region)
        self.line(
            f"partition {p.key} ({self._index(p)}/{len(self.partitions)}): {stage}, "
            f"{len(p.documents)} document{'s' if len(p.documents) != 1 else ''}"
        )
        self._report()

    def partition_finished(self, outcome):
        super().partition_finished(outcome)
        self._report()
        s = self.snapshot()
        rate = f"{s.pages_per_s:.1f} pages/s" if s.pages_per_s else "– pages/s"
        self.line(
            f"partition {outcome.key}: {'done' if outcome.success else 'FAILED'} in {outcome.seconds:.1f} s; "
            f"{s.done}/{s.total} partitions, {s.pages_done}/{s.pages_total} pages, {rate}, "
            f"ETA {_fmt_seconds(s.eta_s)}"
        )

    def _index(self, p: PartitionState) -> int:
        return list(self.partitions.values()).index(p) + 1

    def _report(self) -> None:
        """A line for each partition whose activity changed since the last poll."""
        for key, doing in self.snapshot().current:
            if self.seen.get(key) != doing:
                self.seen[key] = doing
                self.line(f"partition {key}: {doing}")

    def _loop(self):
        while not self.stop.wait(self.interval):
            try:
                self._report()
            except Exception:  # noqa: BLE001 - progress never stops a run
                pass

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        s = self.snapshot()
        self.line(
            f"finished: {s.done}/{s.total} partitions ({s.failed} failed), {s.pages_done} pages extracted "
            f"in {_fmt_seconds(s.elapsed_s)}"
        )


def make_progress(data_dir: str | Path, mode: str = "auto", stream: IO[str] | None = None) -> Progress:
    """``auto``: live on a terminal (stderr a TTY, TERM not dumb), plain lines otherwise; ``off``: nothing."""
    stream = stream or sys.stderr
    if mode == "auto":
        tty = hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM", "") != "dumb"
        mode = "live" if tty else "plain"
    if mode == "live":
        return LiveProgress(data_dir, stream)
    if mode == "plain":
        return PlainProgress(data_dir, stream)
    return Progress()
