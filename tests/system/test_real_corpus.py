"""Real 2026 budgets of seven cities through the whole pipeline, compared with truth read off the pages.

The truth files (``tests/real_corpus/truth``, one per document, 29 documents of every city of the corpus
with readable budgets) list every 一般公共预算支出 项 row (code, 合计, 基本, 项目), every 基本支出 经济分类 款
row and the 三公 figures as printed.  The documents are ingested with one folder source per city (DuckDB);
the ``mart`` views must hold exactly those amounts.  The negatives of the corpus (narratives, HTML saved
as .pdf, scans, unrelated notices, other years, the national budget saved under city names) must never
load as a 2026 city budget.  The corpus lives beside the repository (``../shared/real-corpus``, or
``BUDGET_REAL_CORPUS``); without it the module is skipped.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from examples.real_corpus import compare_warehouse, corpus_dir, manifest, stage_sources, truths

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (corpus_dir() / "MANIFEST.tsv").exists(), reason="the real corpus is not beside the repository"
    ),
]

#: documents whose publisher's own figures do not add up: quarantined with that finding, never loaded
PUBLISHER_ERRORS = {
    # 表5: the 公路水路运输 款, 交通运输支出 类 and 合计 rows are 50.60 below their 项 rows (表6 and the 说明
    # agree with the 项 rows)
    "008_杭州/2026年杭州市交通运输局部门预算.yaml": ("total_row_equals_sum_of_details", "gpb_expenditure", 30),
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from assets.crawl.sources import load_sources
    from assets.load.warehouse import Warehouse
    from pipelines.ingest import run_ingest

    docs = truths()
    by_path = {e.path: e for e in manifest()}
    entries = [by_path[t["document"]] for t in docs]
    tmp = tmp_path_factory.mktemp("real_corpus")
    sources = stage_sources(entries, tmp / "corpus")
    url = f"duckdb:///{tmp / 'warehouse.duckdb'}"
    Warehouse(url).ensure_schema()
    summary = run_ingest(str(sources), load_sources(sources), data_dir=str(tmp / "data"), warehouse_url=url)
    engine = sa.create_engine(url)
    yield docs, summary, engine
    engine.dispose()


def _status(engine, sha: str) -> tuple[str, str | None]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT status, status_reason FROM mart.documents WHERE document_sha256 = :s"), {"s": sha}
        ).one()


def test_at_least_24_documents_of_every_city_with_budgets():
    docs = truths()
    cities = {t["document"].split("/")[0] for t in docs}
    with_budgets = {e.city for e in manifest() if e.kind == "budget"}
    assert len(docs) >= 24 and cities == with_budgets
    for t in docs:  # every truth file names a readable budget of the manifest, by its bytes
        entry = next(e for e in manifest() if e.path == t["document"])
        assert (entry.kind, entry.sha256, t["fiscal_year"]) == ("budget", t["sha256"], 2026)


def test_every_document_loads_with_zero_hard_findings(ingested):
    docs, summary, engine = ingested
    assert summary.failed_runs == []
    for t in docs:
        status, reason = _status(engine, t["sha256"])
        if t["_file"] in PUBLISHER_ERRORS:
            check, table_type, page = PUBLISHER_ERRORS[t["_file"]]
            assert status == "quarantined", t["_file"]
            with engine.connect() as conn:
                found = conn.execute(
                    sa.text(
                        "SELECT COUNT(*) FROM mart.quality_findings WHERE document_sha256 = :s AND check_name = :c "
                        "AND table_type = :t AND page = :p AND severity = 'hard'"
                    ),
                    {"s": t["sha256"], "c": check, "t": table_type, "p": page},
                ).scalar()
            assert found >= 1, (t["_file"], reason)
            continue
        assert status == "loaded", (t["_file"], reason)


def test_the_warehouse_holds_every_truth_amount_exactly(ingested):
    docs, _, engine = ingested
    loaded = [t for t in docs if t["_file"] not in PUBLISHER_ERRORS]
    report = compare_warehouse(engine, loaded)
    differences = {f: [d for c in sections.values() for d in c.differences] for f, sections in report.items()}
    assert {f: d for f, d in differences.items() if d} == {}
    truth = sum(c.truth for s in report.values() for c in s.values())
    correct = sum(c.correct for s in report.values() for c in s.values())
    assert truth == correct and truth > 3000  # every amount, and there are thousands of them
    sections = {k for s in report.values() for k in s}
    assert sections == {"function_expenditure", "basic_economic", "three_public"}


def test_budget_level_and_units(ingested):
    """A 单位预算 (one unit of a department) is told from the department's consolidated 部门预算."""
    docs, _, engine = ingested
    with engine.connect() as conn:
        levels = {
            r.document_sha256: (r.budget_level, r.parent_department)
            for r in conn.execute(sa.text("SELECT document_sha256, budget_level, parent_department FROM core.document"))
        }
    for t in docs:
        level, _ = levels[t["sha256"]]
        if t["document"].startswith("014_无锡"):  # the documents that name themselves 单位预算 / 部门预算
            assert level == t["budget_level"], t["_file"]
        else:
            assert level == "department" or t["budget_level"] == "unit", t["_file"]
    unit = next(t for t in docs if t["document"] == "014_无锡/2026年无锡市交通运输局部门预算.pdf")
    assert levels[unit["sha256"]] == ("unit", "无锡市交通运输局")


def test_no_negative_of_the_corpus_loads_as_a_2026_city_budget(tmp_path):
    """Narratives, HTML pages saved as .pdf, scans, unrelated notices, budgets of another year and the
    national 国家信访局 budget saved under city names: none is a loaded 2026 budget of its city."""
    from assets.crawl.sources import load_sources
    from assets.load.warehouse import Warehouse
    from pipelines.ingest import run_ingest

    negatives = [e for e in manifest() if e.kind not in ("budget", "partial")]
    # one of each kind keeps the test short: the bench (bench/bench_real.py) runs them all
    chosen: dict[str, list] = {}
    for e in negatives:
        if not chosen.setdefault(e.kind, []):
            chosen[e.kind].append(e)
    entries = [e for es in chosen.values() for e in es]
    sources = stage_sources(entries, tmp_path / "corpus")
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    Warehouse(url).ensure_schema()
    run_ingest(str(sources), load_sources(sources), data_dir=str(tmp_path / "data"), warehouse_url=url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        docs = {
            r.document_sha256: r
            for r in conn.execute(
                sa.text("SELECT document_sha256, status, status_reason, fiscal_year, region_code FROM mart.documents")
            )
        }
    engine.dispose()
    assert set(chosen) >= {"narrative", "html", "unrelated", "other_year", "scan", "national"}
    for e in entries:
        d = docs.get(e.sha256)
        if d is None:
            continue  # never reached a partition (recorded in raw.manifest only)
        loaded_2026 = d.status == "loaded" and d.fiscal_year == 2026 and d.region_code == e.region_code
        assert not loaded_2026, (e.path, e.kind, d.status, d.status_reason)
