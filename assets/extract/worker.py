"""Every step that parses a PDF runs in a worker process with a memory cap and a time limit.

A PDF is hostile input: a 500 KB file can inflate a stream to 512 MiB (pdfium then holds about 1 GB while
reading the first page), a damaged one can keep a parser busy for ever, and pdfium *aborts the whole process*
when an allocation fails.  So the pipeline never parses a PDF in its own process: each call runs in a child
forked from a forkserver (a clean process that has imported the extraction code once), and

* **memory**: the parent reads the child's resident memory every few milliseconds and kills it past
  ``Limits.memory_bytes`` (resident memory is what exhausts a machine; the virtual size of a process that
  has loaded camelot and pdfium is several hundred MB more than it uses).  A hard ``RLIMIT_AS`` backstop
  (the child's size at start + the cap + ``BACKSTOP_SLACK``) stops an allocation too sudden for the poll;
* **time**: the parent kills the child at ``Limits.seconds`` of wall time (``RLIMIT_CPU`` is a backstop that
  ends an orphaned child whose parent died);
* the child ignores SIGINT: on Ctrl-C the caller stops *after* the current document, it is not killed mid-way.

A call past a limit is an :class:`Outcome` whose ``reason`` is recorded as the document's rejection
(``memory limit 1 GiB exceeded``, ``time limit 300 s exceeded``); the caller goes on with the next document.

:class:`WorkerPool` runs ``size`` documents at a time and returns outcomes in input order, so a run with
several workers is identical to the serial run.  :func:`extract_limited` and :func:`read_head_limited` are
the two PDF-reading steps of the pipeline (extraction, and the crawl's look at the first pages).
"""

from __future__ import annotations

import ctypes
import io
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util
from pathlib import Path
from typing import Any

from assets.crawl.detect import PdfError, is_owner_password_only, open_pdf, read_pdf_head
from assets.extract.document import extract_document
from assets.extract.pdf_text import read_pages
from assets.records import ExtractionResult

MiB = 1 << 20
GiB = 1 << 30

#: address space the backstop allows beyond the cap and the child's size at start (libraries camelot loads)
BACKSTOP_SLACK = 1 * GiB
#: how often the parent reads its children's memory (seconds)
POLL_INTERVAL = 0.005
#: modules the forkserver imports once, so that a child starts in milliseconds
PRELOAD = ["assets.extract.worker", "assets.extract.document", "assets.crawl.detect", "camelot", "pypdfium2"]


def _size(n: int) -> str:
    if n % GiB == 0:
        return f"{n // GiB} GiB"
    if n % MiB == 0:
        return f"{n // MiB} MiB"
    return f"{n} bytes"


@dataclass(frozen=True)
class Limits:
    """Per-document limits.  Defaults are sized from the largest real documents: a 262-page budget
    (深圳 人社局 2026) extracts in about 66 s on one core of this machine with 250 MB resident."""

    memory_bytes: int = 1 * GiB
    seconds: float = 300.0
    #: pages a document may have (the largest real budget has 262); more is rejected before any parsing
    max_pages: int = 1000

    @property
    def memory_reason(self) -> str:
        return f"memory limit {_size(self.memory_bytes)} exceeded"

    @property
    def time_reason(self) -> str:
        return f"time limit {self.seconds:g} s exceeded"

    def pages_reason(self, pages: int) -> str:
        return f"too many pages: {pages} (limit {self.max_pages})"


@dataclass
class Outcome:
    """What one call in a worker gave: its ``value``, or the ``reason`` it has none."""

    value: Any = None
    reason: str | None = None  # set when the call did not return (limit, crash, exception)
    limit: str | None = None  # "memory" | "time" when a limit ended it
    seconds: float = 0.0
    peak_rss: int = 0  # bytes, as last seen by the parent (or reported by the child)
    cpu_seconds: float = 0.0  # CPU time the child reported (user + system; 0 when it did not report)

    @property
    def ok(self) -> bool:
        return self.reason is None


# --------------------------------------------------------------------------- the child


def _die_with_parent() -> None:
    """SIGKILL this process when the process that forked it (the forkserver) ends."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # not glibc / not Linux: the time limit of the parent still applies
        pass


def _vm_size() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(conn, fn: Callable, args: tuple, limits: Limits) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _die_with_parent()
    try:
        backstop = _vm_size() + limits.memory_bytes + BACKSTOP_SLACK
        resource.setrlimit(resource.RLIMIT_AS, (backstop, backstop))
        cpu = int(limits.seconds) + 30
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    except (ValueError, OSError):
        pass
    try:
        value = fn(*args)
        message: tuple = ("ok", value)
    except MemoryError:
        message = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which records it
        message = ("error", f"{type(exc).__name__}: {exc}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime
    try:
        conn.send((*message, peak, cpu))
    except MemoryError:
        conn.send(("memory", None, peak, cpu))
    conn.close()


# --------------------------------------------------------------------------- the parent

_CONTEXT_LOCK = threading.Lock()
_context = None


def _mp_context():
    """The forkserver context (one per process, started on first use, preloading the PDF code)."""
    global _context
    with _CONTEXT_LOCK:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


class _Popen(popen_forkserver.Popen):
    """The forkserver's launch without the parent's ``__main__``: multiprocessing re-runs the main script
    in every child (``budget-etl`` would import Dagster for each document, a script read from stdin
    cannot be found); a worker needs only the function it runs, imported by name."""

    def _launch(self, process_obj):  # mirrors popen_forkserver.Popen._launch (CPython 3.11/3.12)
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):  # noqa: N802 - multiprocessing's name
        return _Popen(process_obj)


def _rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


class _Job:
    """One call in one child, supervised by the parent."""

    def __init__(self, fn: Callable, args: tuple, limits: Limits):
        self.fn, self.args, self.limits = fn, args, limits
        self.outcome: Outcome | None = None

    def start(self) -> None:
        ctx = _mp_context()
        self.recv, send = ctx.Pipe(duplex=False)
        self.process = _Process(target=_child, args=(send, self.fn, self.args, self.limits), daemon=True)
        self.started = time.monotonic()
        self.process.start()
        send.close()
        self.peak = 0
        self.message: tuple | None = None

    @property
    def deadline(self) -> float:
        return self.started + self.limits.seconds

    def waitables(self) -> list:
        return [self.recv, self.process.sentinel] if self.message is None else [self.process.sentinel]

    def check(self, now: float) -> bool:
        """Read what is ready, enforce the limits; True when the job is done."""
        if self.message is None and self.recv.poll():
            try:
                self.message = self.recv.recv()
            except (EOFError, OSError):
                self.message = ("eof",)
        if self.message is not None and self.message[0] != "eof":
            self.process.join(5)
            if self.process.is_alive():  # sent its result but does not exit: no orphan keeps running
                self.process.kill()
                self.process.join()
            self._finish_with_message()
            return True
        if not self.process.is_alive():
            self.process.join()
            self._finish_dead()
            return True
        rss = _rss(self.process.pid)
        self.peak = max(self.peak, rss)
        if rss > self.limits.memory_bytes:
            self._kill()
            self._set(reason=self.limits.memory_reason, limit="memory")
            return True
        if now >= self.deadline:
            self._kill()
            self._set(reason=self.limits.time_reason, limit="time")
            return True
        return False

    def _kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.recv.close()

    def _set(self, **kw: Any) -> None:
        self.outcome = Outcome(seconds=time.monotonic() - self.started, peak_rss=self.peak, **kw)

    def _finish_with_message(self) -> None:
        kind, value, peak, cpu = self.message  # type: ignore[misc]
        self.peak = max(self.peak, peak or 0)
        self.recv.close()
        if kind == "ok":
            self._set(value=value, cpu_seconds=cpu or 0.0)
        elif kind == "memory":
            self._set(reason=self.limits.memory_reason, limit="memory")
        else:
            self._set(reason=f"worker failed: {value}")

    def _finish_dead(self) -> None:
        """The child ended without a result: pdfium aborts when the address-space backstop refuses an
        allocation, so a death by signal after the child grew past half its cap is the memory limit."""
        self.recv.close()
        code = self.process.exitcode
        if code is not None and code < 0:
            if self.peak > self.limits.memory_bytes // 2:
                self._set(reason=self.limits.memory_reason, limit="memory")
                return
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            if name == "SIGXCPU":
                self._set(reason=self.limits.time_reason, limit="time")
                return
            self._set(reason=f"worker crashed (killed by {name})")
        else:
            self._set(reason=f"worker exited with code {code} without a result")


def _supervise(
    jobs: list[_Job],
    size: int,
    should_stop: Callable[[], bool] | None,
    on_done: Callable[[int, Outcome], None] | None = None,
) -> None:
    """Run ``jobs``, ``size`` at a time; jobs not started when ``should_stop()`` turns true stay without outcome.
    ``on_done(index, outcome)`` is called as each job ends (in the order they end)."""
    pending = list(jobs)
    running: list[_Job] = []
    try:
        while pending or running:
            while pending and len(running) < max(1, size) and not (should_stop and should_stop()):
                job = pending.pop(0)
                job.start()
                running.append(job)
            if not running:
                break
            waitables = [w for j in running for w in j.waitables()]
            multiprocessing.connection.wait(waitables, timeout=POLL_INTERVAL)
            now = time.monotonic()
            still = []
            for job in running:
                if not job.check(now):
                    still.append(job)
                elif on_done is not None:
                    on_done(jobs.index(job), job.outcome)  # type: ignore[arg-type]
            running = still
    finally:
        for job in running:  # an exception in the parent: no orphan keeps working
            if job.process.is_alive():
                job._kill()


def run_limited(fn: Callable, *args: Any, limits: Limits | None = None) -> Outcome:
    """``fn(*args)`` in a worker process under ``limits`` (``fn`` must be importable: a module-level function)."""
    job = _Job(fn, args, limits or Limits())
    _supervise([job], 1, None)
    assert job.outcome is not None
    return job.outcome


class WorkerPool:
    """Calls in worker processes, ``size`` at a time, each under ``limits``; results in input order."""

    def __init__(self, size: int = 1, limits: Limits | None = None):
        self.size = max(1, int(size))
        self.limits = limits or Limits()

    def map(
        self,
        fn: Callable,
        arg_tuples: Iterable[tuple],
        *,
        should_stop: Callable[[], bool] | None = None,
        on_done: Callable[[int, Outcome], None] | None = None,
    ) -> list[Outcome | None]:
        """One :class:`Outcome` per argument tuple, in input order; ``None`` for calls never started because
        ``should_stop()`` returned true (the calls already running finish first).  ``on_done(index, outcome)``
        as each call ends, e.g. to keep its result before the others are done."""
        jobs = [_Job(fn, tuple(args), self.limits) for args in arg_tuples]
        _supervise(jobs, self.size, should_stop, on_done)
        return [j.outcome for j in jobs]


# --------------------------------------------------------------------------- the PDF steps


def _extract(path: str, sha256: str, max_pages: int):
    """In the child: refuse encrypted and oversized documents before parsing anything, then extract.

    A PDF protected by an owner password only opens without a password, but camelot's text layer (pdfminer)
    honours its "no copying" flag and refuses it: it is extracted from a temporary copy without the security
    handler (pdfium's ``FPDF_REMOVE_SECURITY``, same pages and streams); the raw file stays as fetched."""
    import tempfile

    import pypdfium2.raw as pdfium_raw

    try:
        pdf = open_pdf(path)
    except PdfError as exc:
        return ExtractionResult(sha256, 0, [], status="rejected", reason=str(exc))
    try:
        pages = len(pdf)
        if pages > max_pages:
            return ExtractionResult(
                sha256, pages, [], status="rejected", reason=Limits(max_pages=max_pages).pages_reason(pages)
            )
        if not is_owner_password_only(pdf):
            return extract_document(path, sha256)
        with tempfile.TemporaryDirectory(prefix="budget-etl-") as tmp:
            copy = Path(tmp) / "unprotected.pdf"
            pdf.save(str(copy), flags=pdfium_raw.FPDF_REMOVE_SECURITY)
            return extract_document(copy, sha256)
    finally:
        pdf.close()


def extract_limited(path: str | Path, sha256: str, limits: Limits | None = None):
    """``extract_document(path, sha256)`` in a worker under the limits; a limit, an encrypted file or a
    crash is a ``rejected`` :class:`~assets.records.ExtractionResult` with the reason."""
    return extract_many([(path, sha256)], WorkerPool(1, limits))[0]


def extract_many(
    documents: Sequence[tuple[str | Path, str]],
    pool: WorkerPool,
    should_stop: Callable[[], bool] | None = None,
    on_result: Callable[[Any], None] | None = None,
) -> list:
    """Extraction of ``(path, sha256)`` pairs in the pool, in input order (``None``: not started, stopped);
    ``on_result(result)`` as each document is done."""

    def result_of(sha: str, o: Outcome | None):
        if o is None:
            return None
        return o.value if o.ok else ExtractionResult(sha, 0, [], status="rejected", reason=o.reason)

    done = None if on_result is None else (lambda i, o: on_result(result_of(documents[i][1], o)))
    outcomes = pool.map(
        _extract, [(str(p), sha, pool.limits.max_pages) for p, sha in documents], should_stop=should_stop, on_done=done
    )
    return [result_of(sha, o) for (_path, sha), o in zip(documents, outcomes, strict=False)]


def limit_of(reason: str | None) -> str | None:
    """The limit ("memory" / "time") a recorded rejection reason names, else None."""
    reason = reason or ""
    for kind in ("memory", "time"):
        if reason.startswith(f"{kind} limit ") and reason.endswith(" exceeded"):
            return kind
    return None


def _head(path: str, max_pages: int, head_pages: int):
    try:
        head = read_pdf_head(path, max_pages=head_pages)
    except PdfError as exc:
        return None, str(exc)
    if head.page_count > max_pages:
        return None, Limits(max_pages=max_pages).pages_reason(head.page_count)
    return head, None


def read_head_limited(path: str | Path, limits: Limits | None = None, head_pages: int = 3):
    """The crawl's look at a PDF (:func:`assets.crawl.detect.read_pdf_head`: page count, text of the first
    pages) in a worker under the limits: ``(head, None)``, or ``(None, reason)`` when the document is
    rejected (a limit, encrypted, corrupt, too many pages)."""
    limits = limits or Limits()
    outcome = run_limited(_head, str(path), limits.max_pages, head_pages, limits=limits)
    if not outcome.ok:
        return None, outcome.reason
    return outcome.value


def _page_texts(path: str) -> list[tuple[int, str]]:
    return [(p.number, p.text) for p in read_pages(path)]


def page_texts_limited(path: str | Path, limits: Limits | None = None) -> list[tuple[int, str]] | None:
    """``(page number, text)`` of every page, read in a worker under the limits; None when it cannot be."""
    outcome = run_limited(_page_texts, str(path), limits=limits or Limits())
    return outcome.value if outcome.ok else None


def page_texts_many(paths: dict[str, str], pool: WorkerPool) -> dict[str, list[tuple[int, str]] | None]:
    """``(page number, text)`` of every page of several documents (``sha256 → path``), read at once in the
    pool's worker processes under its limits; None for a document that cannot be read."""
    outcomes = pool.map(_page_texts, [(path,) for path in paths.values()]) if paths else []
    return {sha: o.value if o is not None and o.ok else None for sha, o in zip(paths, outcomes, strict=True)}
