"""Stopping a run between documents.

``budget-etl`` sets :data:`STOP` on the first Ctrl-C (pipelines/interrupts.py); the crawl and the extraction
check it between documents, let the current document finish, record what is done and raise
:class:`Interrupted`, so a partition is never loaded half-extracted and a rerun completes the work.
Nothing else sets it: in ``dagster dev`` runs are stopped from the UI.
"""

from __future__ import annotations

import threading

STOP = threading.Event()


class Interrupted(Exception):
    """The run was asked to stop (Ctrl-C); the message says what was done and what was not."""


def stop_requested() -> bool:
    return STOP.is_set()


def as_failure(exc: Interrupted):
    """The Dagster failure an interrupted step raises: never retried (the run was asked to stop)."""
    from dagster import Failure

    return Failure(description=f"interrupted: {exc}", allow_retries=False)
