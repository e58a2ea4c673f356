"""Quarantine end to end: generated PDFs (one with a wrong 合计) → Dagster assets and checks → DuckDB.

A folder source of three documents of 伊川县: the 2023 and the real 2024 政务服务中心 budgets (clean; the 2024
说明 quotes the change from 2023) and a 2024 统计局 budget whose 一般公共预算支出预算表 prints its 合计
1.00 万元 too high (the generator's ``wrong_total`` defect).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from dagster import DagsterInstance

from assets.crawl.sources import load_sources
from assets.load.warehouse import Warehouse
from assets.resources import HttpFetcherResource
from pipelines.ingest import run_ingest

warnings.filterwarnings("ignore", category=DeprecationWarning)
FAST = HttpFetcherResource(min_interval_s=0.0, retries=1, backoff_base_s=0.01, respect_robots=False)
STATS = dict(
    region_code="410329",
    region_name="伊川县",
    department="伊川县统计局",
    unit_code="131",
    fiscal_year=2024,
    profile="statistics",
)


def _render_stats(path: Path, defects: list[str]) -> None:
    from examples.sample_portal import DocSpec, generate_document, render_document

    render_document(generate_document(DocSpec(**STATS, defects=defects)), path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from examples.sample_portal import generate_document, render_document, seed_document
    from examples.sample_portal.corpus import corpus_specs

    tmp = tmp_path_factory.mktemp("quality_e2e")
    pdfs = tmp / "pdfs"
    pdfs.mkdir()
    render_document(generate_document(corpus_specs("small")[1]), pdfs / "zwfw-2023.pdf")  # 收支总计 1146.01 万元
    render_document(seed_document(), pdfs / "zwfw-2024.pdf")
    _render_stats(pdfs / "tjj-2024.pdf", ["wrong_total"])
    sources = tmp / "sources.yaml"
    sources.write_text(
        f"sources:\n  - region_code: '410329'\n    region_name: 伊川县\n    folder: {pdfs}\n", encoding="utf-8"
    )
    url = f"duckdb:///{tmp / 'warehouse.duckdb'}"
    instance = DagsterInstance.ephemeral()

    def ingest():
        return run_ingest(
            str(sources),
            load_sources(sources),
            data_dir=str(tmp / "data"),
            warehouse_url=url,
            instance=instance,
            fetcher=FAST,
        )

    first = ingest()
    return first, Warehouse(url), instance, ingest, pdfs


def _findings(wh, department):
    return wh.query(f"""
        SELECT f.check_name, f.severity, f.expected, f.actual, f.page, f.row_index, f.table_type
        FROM mart.documents d JOIN mart.quality_findings f USING (document_sha256)
        WHERE d.department_name = '{department}' AND d.fiscal_year = 2024 AND d.status <> 'superseded'
        ORDER BY 1, 3""")[1]


def test_wrong_total_is_quarantined_with_its_findings(run):
    summary, wh, *_ = run
    assert not summary.failed_runs
    status = dict(wh.query("SELECT department_name || ':' || fiscal_year, status FROM mart.documents")[1])
    assert status == {
        "伊川县政务服务中心:2023": "loaded",
        "伊川县政务服务中心:2024": "loaded",
        "伊川县统计局:2024": "quarantined",
    }
    hard = [r for r in _findings(wh, "伊川县统计局") if r[1] == "hard"]
    assert hard == [
        ("fiscal_gpb_equals_gpb_table", "hard", "204.04", "205.04", 13, 0, "gpb_expenditure"),
        ("total_equals_basic_plus_project", "hard", "204.04", "205.04", 13, 0, "gpb_expenditure"),
        ("total_row_equals_sum_of_details", "hard", "204.04", "205.04", 13, 0, "gpb_expenditure"),
    ]
    reason = wh.query("SELECT status_reason FROM mart.documents WHERE department_name = '伊川县统计局'")[1][0][0]
    assert reason.startswith("3 hard data-quality finding(s)")
    # quarantined facts never reach the analyst views
    depts = {r[0] for r in wh.query("SELECT DISTINCT department_name FROM mart.expenditure_by_function")[1]}
    assert "伊川县统计局" not in depts and "伊川县政务服务中心" in depts


def test_clean_documents_have_no_hard_finding_and_last_year_is_checked(run):
    _, wh, *_ = run
    seed = _findings(wh, "伊川县政务服务中心")
    assert [r for r in seed if r[1] == "hard"] == []
    # 2024 says 收支总计 减少 0.76 (right: 1146.01 → 1145.25) and 一般公共预算 减少 19.76 (wrong: also 0.76)
    assert ("previous_year_change_gpb", "soft", "-0.76", "-19.76", 4, None, None) in seed
    assert not any(r[0] == "previous_year_change_total" for r in seed)
    assert ("narrative_change_pct_total", "soft", "0.07", "0.65", 4, None, None) in seed


def _check(instance, name, asset="validated_documents"):
    from dagster import AssetCheckKey, AssetKey

    recs = instance.event_log_storage.get_asset_check_execution_history(AssetCheckKey(AssetKey(asset), name), limit=20)
    out = {}
    for rec in recs:
        ev = rec.event.dagster_event.event_specific_data
        out.setdefault(rec.partition, ev)
    return out


def test_asset_checks_report_each_expectation(run):
    _, _, instance, *_ = run
    totals = _check(instance, "totals_reconcile")
    assert totals["410329|2023"].passed and not totals["410329|2024"].passed
    meta = totals["410329|2024"].metadata["expectations"].data
    failed = meta["total_row_equals_sum_of_details"]
    assert failed["success"] is False and failed["rows_failed"] == 1
    assert {k: failed["failures"][0][k] for k in ("expected", "actual", "page", "row_index")} == {
        "expected": "204.04",
        "actual": "205.04",
        "page": 13,
        "row_index": 0,
    }
    assert meta["income_total_equals_expense_total"]["success"] is True
    # last year's document is compared after the load (it reads the warehouse's core tables of 2023 and 2024)
    assert not _check(instance, "previous_year_matches", "previous_year_compared")["410329|2024"].passed
    # the blocking check passes: the quarantined document is not among the documents to load
    blocking = _check(instance, "loadable_documents_valid")["410329|2024"]
    assert blocking.passed and blocking.metadata["documents_to_load"].value == 1
    assert blocking.metadata["documents_quarantined"].value == 1


def test_a_corrected_pdf_at_the_same_url_is_loaded(run):
    _, wh, _, ingest, pdfs = run
    _render_stats(pdfs / "tjj-2024.pdf", [])  # the department republishes the corrected file
    again = ingest()
    assert not again.failed_runs
    rows = wh.query("SELECT document_sha256, status FROM mart.documents WHERE department_name = '伊川县统计局'")[1]
    assert "loaded" in {s for _, s in rows}
    depts = {r[0] for r in wh.query("SELECT DISTINCT department_name FROM mart.expenditure_by_function")[1]}
    assert "伊川县统计局" in depts


def test_the_replaced_version_is_no_longer_current(run):
    _, wh, *_ = run
    rows = wh.query("SELECT status, status_reason FROM mart.documents WHERE department_name = '伊川县统计局'")[1]
    assert sorted(s for s, _ in rows) == ["loaded", "superseded"]
    assert [r for s, r in rows if s == "superseded"][0].startswith("replaced by ")
