"""Documents of one partition extracted in parallel (a pool of the worker processes that enforce the limits)
give exactly the serial run's extraction and mart."""

from __future__ import annotations

import pickle
from pathlib import Path

from dagster import DagsterInstance
from orchestration_corpus import DOCS, FAST_FETCH, XINAN, YICHUAN, build_folders

from assets.crawl.sources import load_sources
from assets.load.warehouse import Warehouse
from assets.resources import ExtractionResource, default_extract_workers, machine_cores
from pipelines.ingest import run_ingest

#: two partitions of two documents each (伊川县 2024, 新安县 2024) and one of one: the pool has work to share
PARALLEL_DOCS = [*DOCS, (YICHUAN, 2024, "伊川县农业农村局"), (XINAN, 2024, "新安县教育局")]

MART = [
    "mart.documents",
    "mart.expenditure_by_function",
    "mart.basic_expenditure_by_economic",
    "mart.revenue_by_source",
    "mart.fiscal_appropriation",
    "mart.three_public",
    "mart.quality_findings",
]


def _docs_available(site: Path) -> list:
    import json

    index = json.loads((site / "truth" / "index.json").read_text(encoding="utf-8"))["documents"]
    have = {(d["region_code"], d["fiscal_year"], d["department"]) for d in index if d["doc_type"] == "budget"}
    return [d for d in PARALLEL_DOCS if d in have]


def _run(sources: Path, root: Path, workers: int):
    data = root / f"data_{workers}"
    url = f"duckdb:///{root / f'warehouse_{workers}.duckdb'}"
    summary = run_ingest(
        str(sources),
        load_sources(sources),
        data_dir=str(data),
        warehouse_url=url,
        instance=DagsterInstance.ephemeral(),
        fetcher=FAST_FETCH,
        extraction=ExtractionResource(workers=workers),
    )
    assert not summary.failed_runs, summary.failed_runs
    cache = {p.name: pickle.loads(p.read_bytes()) for p in sorted((data / "extracted").glob("*.pickle"))}
    wh = Warehouse(url)
    try:
        mart = {}
        for view in MART:
            cols, rows = wh.query(f"SELECT * FROM {view}")
            drop = {i for i, c in enumerate(cols) if c in ("fetched_at", "loaded_at")}
            mart[view] = sorted(repr([v for i, v in enumerate(r) if i not in drop]) for r in rows)
    finally:
        wh.dispose()
    return cache, mart


def test_one_and_two_extraction_processes_give_identical_results(sample_portal_dir, tmp_path):
    docs = _docs_available(sample_portal_dir)
    assert len(docs) >= 4
    sources = build_folders(sample_portal_dir, tmp_path / "folders", docs)
    serial_cache, serial_mart = _run(sources, tmp_path, 1)
    parallel_cache, parallel_mart = _run(sources, tmp_path, 2)
    assert len(serial_cache) == len(docs)
    assert parallel_cache == serial_cache  # every document's extraction, table by table, cell by cell
    assert parallel_mart == serial_mart
    assert serial_mart["mart.expenditure_by_function"]  # not trivially equal


def test_extraction_workers_default_to_the_cores(monkeypatch):
    monkeypatch.delenv("BUDGET_EXTRACT_WORKERS", raising=False)
    assert default_extract_workers() == machine_cores() >= 1
    monkeypatch.setenv("BUDGET_EXTRACT_WORKERS", "3")
    assert default_extract_workers() == 3
    assert ExtractionResource(workers=0).pool().size == machine_cores()
