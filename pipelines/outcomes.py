"""What a run of ``ingest`` / ``backfill`` did: the summary the CLI prints, and what it reads from Dagster's
run results (failed steps, the crawl's source problems)."""

from __future__ import annotations

from dataclasses import dataclass, field

from assets.records import ManifestEntry
from pipelines.interrupts import exit_code


@dataclass
class IngestSummary:
    crawled: dict[str, list[ManifestEntry]] = field(default_factory=dict)  # region → entries
    documents: dict[str, dict] = field(default_factory=dict)  # sha → status, reason, url, department
    rows: dict[str, int] = field(default_factory=dict)
    partitions: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    #: region → {url: sha256} of the latest stored fetch before this run's crawl (new vs changed)
    previous: dict[str, dict[str, str]] = field(default_factory=dict)
    #: soft data-quality findings of this run's documents: sha, check_name, page, detail
    warnings: list[dict] = field(default_factory=list)
    #: sources that failed: unreachable or blocked start page, missing folder, max_pages / max_documents reached
    source_problems: list[str] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C: what is listed was done, the rest was not
    not_run: list[str] = field(default_factory=list)  # partitions or crawls not run because of the stop

    @property
    def exit_code(self) -> int:
        return exit_code(
            interrupted=self.interrupted, failed_runs=self.failed_runs, source_problems=self.source_problems
        )


def source_problems_of(result) -> list[str]:
    """The crawl's ``source_problems`` metadata (assets/crawl/assets.py) of a run result."""
    out: list[str] = []
    for mat in result.asset_materializations_for_node("crawled_documents"):
        value = mat.metadata.get("source_problems")
        out += list(value.value) if value is not None else []
    return out


def _root_message(error) -> str:
    """The first line of the innermost cause of a Dagster error (the user code's exception)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return (error.message or error.cls_name or "").strip().splitlines()[0]


def step_errors(result) -> str | None:
    """The failed steps' messages of a run result, one line (no traceback)."""
    failures = [e for e in result.all_events if e.is_step_failure]
    return (
        "; ".join(
            f"{e.step_key}: {_root_message(e.step_failure_data.error)}"
            for e in failures
            if e.step_failure_data and e.step_failure_data.error
        )
        or None
    )
