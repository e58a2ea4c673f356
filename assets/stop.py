"""Stopping a run between documents.

``budget-etl`` sets :data:`STOP` on the first Ctrl-C (pipelines/interrupts.py); the crawl and the extraction
check it between documents, let the current document finish, record what is done and raise
:class:`Interrupted` (the asset turns it into a Dagster failure: assets/failures.py), so a partition is never
loaded half-extracted and a rerun completes the work.
Nothing else sets it: in ``dagster dev`` runs are stopped from the UI.
"""

from __future__ import annotations

import threading

STOP = threading.Event()


class Interrupted(Exception):
    """The run was asked to stop (Ctrl-C); the message says what was done and what was not."""


def stop_requested() -> bool:
    return STOP.is_set()
