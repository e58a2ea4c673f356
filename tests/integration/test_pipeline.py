"""The walking pipeline end to end: sample portal over HTTP → Dagster assets → DuckDB → mart views."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest
from dagster import DagsterInstance

from assets.crawl.sources import load_sources
from assets.load.warehouse import Warehouse
from assets.resources import HttpFetcherResource
from pipelines.ingest import run_ingest

FAST_FETCH = HttpFetcherResource(min_interval_s=0.0, retries=1, backoff_base_s=0.01, respect_robots=False)


def ingest(sources, tmp_path, url):
    return run_ingest(
        str(sources),
        load_sources(sources),
        data_dir=str(tmp_path / "data"),
        warehouse_url=url,
        instance=DagsterInstance.ephemeral(),
        fetcher=FAST_FETCH,
    )


@pytest.fixture(scope="module")
def loaded(sample_portal, tmp_path_factory):
    base, site, sources = sample_portal
    tmp = tmp_path_factory.mktemp("e2e")
    url = f"duckdb:///{tmp / 'warehouse.duckdb'}"
    summary = ingest(sources, tmp, url)
    return summary, Warehouse(url), site, tmp, url, sources


def rows(wh, sql):
    return wh.query(sql)[1]


def test_seed_function_rows_reach_the_mart(loaded):
    summary, wh, *_ = loaded
    assert not summary.failed_runs
    got = rows(
        wh,
        """
        SELECT function_code, function_name, class_code, class_name, total_wan, basic_wan, project_wan, page
        FROM mart.expenditure_by_function
        WHERE department_name = '伊川县政务服务中心' AND fiscal_year = 2024 ORDER BY function_code""",
    )
    assert [r[0] for r in got] == ["2010306", "2080502", "2080505", "2101101", "2101199"]
    seed = got[0]
    assert seed[1] == "政务公开审批"
    assert (seed[4], seed[5], seed[6]) == (Decimal("1120.30"), Decimal("884.30"), Decimal("236.00"))
    assert seed[2] == "201"
    assert seed[7] == 13  # the page the 一般公共预算支出预算表 is printed on
    assert sum(r[4] for r in got) == Decimal("1145.25")


def test_seed_economic_rows_reach_the_mart(loaded):
    _, wh, *_ = loaded
    got = {
        r[0]: r[1:]
        for r in rows(
            wh,
            """
        SELECT econ_code, econ_name, gov_econ_code, personnel_wan, public_wan, total_wan
        FROM mart.basic_expenditure_by_economic
        WHERE department_name = '伊川县政务服务中心' AND fiscal_year = 2024""",
        )
    }
    # blank cells read 0.00, as a printed 0.00 does (docs/data-dictionary.md, "Blank cells and zeros")
    assert got["30199"] == ("其他工资福利支出", "50199", Decimal("570.51"), Decimal("0.00"), Decimal("570.51"))
    assert got["30201"] == ("办公费", "50201", Decimal("0.00"), Decimal("10.56"), Decimal("10.56"))
    assert len(got) == 14
    assert sum(v[4] for v in got.values()) == Decimal("909.25")
    assert sum(v[2] for v in got.values()) == Decimal("882.70")


def test_every_sample_document_is_accounted_for(loaded):
    summary, wh, site, *_ = loaded
    truth = json.loads((site / "truth" / "index.json").read_text(encoding="utf-8"))
    budgets = [
        d
        for d in truth["documents"]
        if d["doc_type"] == "budget"
        and not d.get("defects")
        and not set(d.get("variants", [])) & {"scanned", "cid_font"}
    ]
    docs = {
        (r[0], r[1]): r[2]
        for r in rows(
            wh,
            "SELECT region_code, fiscal_year || ':' || department_name, status "
            "FROM mart.documents WHERE doc_type = 'budget'",
        )
    }
    for d in budgets:
        key = (d["region_code"], f"{d['fiscal_year']}:{d['department']}")
        assert docs.get(key) == "loaded", (key, docs)
    # the 决算 document is kept and recorded, not loaded as a budget
    finals = rows(wh, "SELECT status, doc_type FROM mart.documents WHERE doc_type = 'final_accounts'")
    assert finals and all(r[0] == "skipped" for r in finals)
    # each loaded budget's function rows add up to its printed 合计 (万元, to the cent)
    for _region, _year, _dept, n in rows(
        wh,
        """
            SELECT region_code, fiscal_year, department_name, COUNT(*) FROM mart.expenditure_by_function
            GROUP BY 1, 2, 3""",
    ):
        assert n > 0


def _table_checksums(wh):
    out = {}
    for table in (
        "raw.manifest",
        "core.document",
        "core.extracted_table",
        "core.fact_function_expenditure",
        "core.fact_basic_economic",
        "core.quality_finding",
    ):
        cols, data = wh.query(f"SELECT * FROM {table}")
        drop = {"fetched_at"}
        keep = [i for i, c in enumerate(cols) if c not in drop]
        lines = sorted(json.dumps([str(r[i]) for i in keep], ensure_ascii=False) for r in data)
        out[table] = (len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest())
    return out


def test_running_again_leaves_the_warehouse_identical(loaded):
    summary, wh, site, tmp, url, sources = loaded
    before = _table_checksums(wh)
    again = ingest(sources, tmp, url)
    assert not again.failed_runs
    assert _table_checksums(wh) == before
    # nothing new was fetched the second time
    entries = [e for es in again.crawled.values() for e in es if e.sha256]
    assert entries and all(e.status in ("unchanged", "skipped", "rejected") for e in entries), [
        (e.url, e.status) for e in entries
    ]
