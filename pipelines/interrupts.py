"""Ctrl-C and exit codes of ``budget-etl``.

The first Ctrl-C asks the run to stop: :data:`assets.stop.STOP` is set, the crawl and the extraction finish
the document in progress, record it, and end their step; no new partition starts; the command prints the
summary of what was done and exits 130.  A second Ctrl-C aborts at once (exit 130 too).  Rerunning the same
command completes the work (fetched documents are in the manifest, extracted ones in the cache).

Dagster replaces the SIGINT handler of the thread that executes a run with its own (an interrupt fails the
step in progress), so a command runs its work in a worker thread: the main thread keeps this module's handler
and only waits.  Worker processes (``backfill --workers``) do the same with their partition run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from assets.stop import STOP

#: exit codes (README "Exit codes")
EXIT_OK = 0  # everything ran (documents may still be rejected or quarantined: see the summary)
EXIT_ERROR = 1  # nothing ran: invalid sources file or years, unreachable warehouse, a refused or failed query
EXIT_USAGE = 2  # click: unknown option, missing argument
EXIT_SOURCE_PROBLEM = 3  # the run finished, but a source failed: unreachable, blocked, missing, truncated at a cap
EXIT_PARTITION_FAILED = 4  # the run finished, but a partition run failed (its load did not happen)
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT)

NOTICE = "\nstopping after the current document (Ctrl-C again to abort now) ..."


def exit_code(*, interrupted: bool, failed_runs: list[str], source_problems: list[str]) -> int:
    """The code of a finished (or stopped) run: interruption, then failed partitions, then source problems."""
    if interrupted:
        return EXIT_INTERRUPTED
    if failed_runs:
        return EXIT_PARTITION_FAILED
    if source_problems:
        return EXIT_SOURCE_PROBLEM
    return EXIT_OK


def _handler(notice: Callable[[str], None] | None) -> Callable:
    def handle(signum: int, frame: Any) -> None:
        if STOP.is_set():  # the second Ctrl-C: abort now
            if notice:
                notice("\naborted")
            sys.stdout.flush()
            os._exit(EXIT_INTERRUPTED)
        STOP.set()
        if notice:
            notice(NOTICE)

    return handle


def run_stoppable(fn: Callable[..., Any], *args: Any, notice: Callable[[str], None] | None = None, **kw: Any) -> Any:
    """``fn(*args, **kw)`` in a worker thread while this (main) thread turns Ctrl-C into a request to stop.

    Returns what ``fn`` returns and raises what it raises.  Off the main thread (tests calling the CLI in
    a thread), ``fn`` simply runs here."""
    if threading.current_thread() is not threading.main_thread():
        return fn(*args, **kw)
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = fn(*args, **kw)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    previous = signal.signal(signal.SIGINT, _handler(notice))
    try:
        worker = threading.Thread(target=target, name="budget-etl-run", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    finally:
        signal.signal(signal.SIGINT, previous)
    if "error" in result:
        raise result["error"]
    return result.get("value")


def install_worker_handler() -> None:
    """In a worker process (``backfill --workers``): Ctrl-C reaches the whole process group; the worker
    too stops after its current document."""
    signal.signal(signal.SIGINT, _handler(None))
