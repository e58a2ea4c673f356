"""Running the assets in process for the CLI: crawl each region, then process each year × region.

This is Dagster, not a second code path: every step is ``dagster.materialize``
of the same asset definitions the code location serves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click
from dagster import DagsterInstance, materialize

from assets.crawl.sources import SourceConfig
from assets.records import ManifestEntry
from assets.stop import stop_requested
from pipelines.definitions import ALL_ASSETS, ALL_CHECKS, build_resources
from pipelines.partitions import FIRST_YEAR, LAST_YEAR, region_partitions, year_region_key
from pipelines.resources import HttpFetcherResource

#: the CLI prints its own summary; Dagster's per-event console log only above INFO
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
PROCESS_SELECTION = ["extracted_documents", "normalized_documents", "validated_documents", "warehouse_tables"]


@dataclass
class IngestSummary:
    crawled: dict[str, list[ManifestEntry]] = field(default_factory=dict)  # region → entries
    documents: dict[str, dict] = field(default_factory=dict)  # sha → status, reason, url, department
    rows: dict[str, int] = field(default_factory=dict)
    partitions: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    #: sources that failed: unreachable or blocked start page, missing folder, max_pages / max_documents reached
    source_problems: list[str] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C: what is listed was done, the rest was not
    not_run: list[str] = field(default_factory=list)  # partitions or crawls not run because of the stop

    @property
    def exit_code(self) -> int:
        from pipelines.interrupts import exit_code

        return exit_code(interrupted=self.interrupted, failed_runs=self.failed_runs,
                         source_problems=self.source_problems)


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
    return "; ".join(f"{e.step_key}: {_root_message(e.step_failure_data.error)}"
                     for e in failures if e.step_failure_data and e.step_failure_data.error) or None


def _instance() -> DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()


def run_ingest(
    sources_path: str,
    sources: list[SourceConfig],
    *,
    data_dir: str,
    warehouse_url: str,
    years: list[int] | None = None,
    respect_robots: bool = True,
    instance: DagsterInstance | None = None,
    fetcher: HttpFetcherResource | None = None,
) -> IngestSummary:
    if instance is None:  # made (and disposed) in the thread that runs the ingest
        with _instance() as instance:
            return run_ingest(sources_path, sources, data_dir=data_dir, warehouse_url=warehouse_url, years=years,
                              respect_robots=respect_robots, instance=instance, fetcher=fetcher)
    fetcher = fetcher or HttpFetcherResource(respect_robots=respect_robots)
    resources = build_resources(data_dir=data_dir, warehouse_url=warehouse_url,
                                sources_path=str(Path(sources_path).resolve()), fetcher=fetcher)
    regions = sorted({s.region_code for s in sources})
    instance.add_dynamic_partitions(region_partitions.name, regions)
    summary = IngestSummary()
    for i, region in enumerate(regions):
        if stop_requested():
            summary.interrupted = True
            summary.not_run += [f"crawl {r}" for r in regions[i:]]
            break
        result = materialize(ALL_ASSETS, selection=["crawled_documents"], partition_key=region,
                             resources=resources, instance=instance, raise_on_error=False, run_config=QUIET)
        summary.source_problems += source_problems_of(result)
        if not result.success:
            if stop_requested():  # Ctrl-C during the crawl: what was fetched is in the manifest
                summary.interrupted = True
                summary.not_run += [f"crawl {r}" for r in regions[i:]]
                break
            summary.failed_runs.append(f"crawl {region}: {step_errors(result)}")
            continue
        entries = result.output_for_node("crawled_documents")
        summary.crawled[region] = entries
        found_years = sorted({e.year for e in entries if e.year and FIRST_YEAR <= e.year <= LAST_YEAR})
        for year in found_years if years is None else [y for y in years if y in found_years]:
            key = year_region_key(year, region)
            if stop_requested():
                summary.interrupted = True
                summary.not_run.append(f"process {year}|{region}")
                continue
            summary.partitions.append(f"{year}|{region}")
            res = materialize(ALL_ASSETS + ALL_CHECKS, selection=PROCESS_SELECTION, partition_key=key,
                              resources=resources, instance=instance, raise_on_error=False, run_config=QUIET)
            if not res.success:
                if stop_requested():
                    summary.interrupted = True
                    summary.partitions.pop()
                    summary.not_run.append(f"process {year}|{region} (stopped during extraction, not loaded)")
                    continue
                summary.failed_runs.append(f"process {year}|{region}: {step_errors(res)}")
                continue
            loaded = res.output_for_node("warehouse_tables")
            summary.documents.update(loaded["documents"])
            for k, v in loaded["rows"].items():
                summary.rows[k] = summary.rows.get(k, 0) + v
    return summary


def print_summary(summary: IngestSummary, seconds: float, warehouse: str) -> None:
    entries = [e for es in summary.crawled.values() for e in es]
    pdfs = [e for e in entries if e.sha256 or e.status == "failed"]
    new = [e for e in entries if e.sha256 and e.is_new and e.status != "unchanged"]
    unchanged = [e for e in entries if e.status == "unchanged"]
    by_status: dict[str, int] = {}
    for d in summary.documents.values():
        by_status[d["status"]] = by_status.get(d["status"], 0) + 1
    echo = click.echo
    echo(f"warehouse: {warehouse}")
    echo(f"regions: {len(summary.crawled)}   partitions (year|region): {', '.join(summary.partitions) or 'none'}")
    echo(f"documents found: {len(pdfs)}   new: {len(new)}   unchanged: {len(unchanged)}")
    echo("documents by status: " + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none"))
    problems = [(e.url, e.status, e.reason) for e in entries if e.status in ("failed", "rejected", "skipped")]
    problems += [(d["url"], d["status"], d["reason"]) for d in summary.documents.values()
                 if d["status"] in ("rejected", "quarantined")]
    seen = set()
    for url, status, reason in problems:
        if (url, status) in seen:
            continue
        seen.add((url, status))
        echo(f"  {status:<11} {url}: {reason}")
    rows = {k: v for k, v in summary.rows.items() if k != "superseded"}
    echo("rows loaded: " + (", ".join(f"{k} {v}" for k, v in sorted(rows.items())) or "none"))
    if summary.rows.get("superseded"):
        echo(f"older versions superseded by a republished file: {summary.rows['superseded']}")
    if summary.failed_runs:
        echo(f"failed runs: {', '.join(summary.failed_runs)}")
    if summary.source_problems:
        echo("source problems:")
        for problem in summary.source_problems:
            echo(f"  {problem}")
    if summary.interrupted:
        echo("interrupted: " + (f"not run: {', '.join(summary.not_run)}; " if summary.not_run else "")
             + "run the same command again to complete")
    echo(f"time: {seconds:.1f} s")
