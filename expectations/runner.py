"""The thin wrapper: run a Great Expectations 1.x suite on a pandas DataFrame.

dagster-ge supports GX < 1.0 only, so this module does what it would: it runs
one validation and turns every expectation result into a plain
:class:`ExpectationOutcome` (picklable, no GX objects) that the validate stage
maps to findings and to asset-check metadata.

GX costs about 2.7 s to import: it is imported on first use, and one ephemeral
context (no files, analytics off, no progress bars) serves the whole process.
GX cannot read DuckDB through its SQL data source on this stack, so every
suite validates a DataFrame built from the extracted rows.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

_LOCK = threading.Lock()
_BATCH_DEFINITION = None
#: rows of each failed expectation shown in asset-check metadata
METADATA_ROWS = 20


@dataclass
class ExpectationOutcome:
    suite: str
    expectation_type: str  # e.g. expect_column_pair_values_a_to_be_greater_than_b
    check_name: str  # the finding's check_name (expectation meta)
    severity: str  # hard | soft
    description: str
    success: bool
    evaluated: int  # rows the expectation looked at
    unexpected_rids: list[int] = field(default_factory=list)  # frame rows that failed (column ``rid``)
    error: str | None = None  # the expectation raised instead of evaluating


@dataclass
class SuiteRun:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]
    seconds: float

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)


def _batch_definition():
    """The process-wide ephemeral context's whole-DataFrame batch definition (built once)."""
    global _BATCH_DEFINITION
    with _LOCK:
        if _BATCH_DEFINITION is None:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            asset = context.data_sources.add_pandas("budget_etl").add_dataframe_asset("frame")
            _BATCH_DEFINITION = asset.add_batch_definition_whole_dataframe("whole_frame")
        return _BATCH_DEFINITION


def run_suite(suite, frame) -> SuiteRun:
    """Validate ``frame`` (a DataFrame with an integer ``rid`` column) against a GX ``ExpectationSuite``.

    Each expectation's ``meta`` carries ``check_name``, ``severity`` and
    ``description``; the outcome lists the ``rid`` of every unexpected row.
    """
    started = time.monotonic()
    outcomes: list[ExpectationOutcome] = []
    if len(frame) == 0:
        for exp in suite.expectations:
            meta = exp.meta or {}
            outcomes.append(
                ExpectationOutcome(
                    suite.name,
                    exp.expectation_type,
                    meta.get("check_name", ""),
                    meta.get("severity", "hard"),
                    meta.get("description", ""),
                    True,
                    0,
                )
            )
        return SuiteRun(suite.name, 0, outcomes, time.monotonic() - started)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["rid"]}
    )
    for r in result.results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        res = r.result or {}
        error = None
        if r.exception_info and r.exception_info.get("raised_exception"):
            error = str(r.exception_info.get("exception_message"))
        rids = [int(u["rid"]) for u in res.get("unexpected_index_list") or [] if isinstance(u, dict) and "rid" in u]
        outcomes.append(
            ExpectationOutcome(
                suite.name,
                cfg.type,
                meta.get("check_name", ""),
                meta.get("severity", "hard"),
                meta.get("description", ""),
                bool(r.success),
                int(res.get("element_count") or 0),
                rids,
                error,
            )
        )
    return SuiteRun(suite.name, len(frame), outcomes, time.monotonic() - started)


def outcome_metadata(outcomes: list[ExpectationOutcome], failures: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Asset-check metadata: one entry per expectation (rows evaluated, failed, the first failures).

    ``failures`` maps an expectation's check_name to its failed rows as findings
    (document, expected, actual, page, row).
    """
    out: dict[str, Any] = {}
    for o in outcomes:
        rows = failures.get(o.check_name, [])
        entry: dict[str, Any] = {
            "expectation": o.expectation_type,
            "description": o.description,
            "severity": o.severity,
            "success": o.success,
            "rows_evaluated": o.evaluated,
            "rows_failed": len(rows) if rows else len(o.unexpected_rids),
        }
        if o.error:
            entry["error"] = o.error
        if rows:
            entry["failures"] = rows[:METADATA_ROWS]
        out[o.check_name] = entry
    return out
