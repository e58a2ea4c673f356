"""How an asset reports a run stopped on request (a Dagster definition module: the domain raises
:class:`assets.stop.Interrupted`, the asset turns it into a :class:`dagster.Failure`)."""

from __future__ import annotations

from dagster import Failure

from assets.stop import Interrupted


def as_failure(exc: Interrupted) -> Failure:
    """The Dagster failure an interrupted step raises: never retried (the run was asked to stop)."""
    return Failure(description=f"interrupted: {exc}", allow_retries=False)
