"""PostgreSQL: the Alembic migrations, the analyst role, and `budget-etl ingest --warehouse postgresql+psycopg://…`
end to end (real crawl and extraction of the small sample corpus)."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import warehouse_schema
from assets.load.warehouse import Warehouse
from warehouse_schema import tables as t
from warehouse_schema.views import ANALYST_ROLE, VIEW_ORDER

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def test_migrations_match_the_metadata(pg_url):
    """`alembic upgrade head` builds exactly the tables of warehouse_schema.tables (autogenerate finds no diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = sa.create_engine(pg_url)
    warehouse_schema.create_all(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "compare_type": True,
                "include_name": lambda name, type_, parents: type_ != "schema" or name in t.SCHEMAS,
            },
        )
        diff = compare_metadata(ctx, t.metadata)
        assert diff == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0005"
        views = {
            f"mart.{r[0]}"
            for r in conn.exec_driver_sql("SELECT table_name FROM information_schema.views WHERE table_schema = 'mart'")
        }
        assert views == set(VIEW_ORDER)
    engine.dispose()


def test_alembic_command_line_downgrade_and_upgrade(pg_url):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    alembic = [
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(REPO / "warehouse_schema" / "alembic.ini"),
        "-x",
        f"url={pg_url}",
    ]
    up = subprocess.run(alembic + ["upgrade", "head"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM mart.expenditure_by_function").scalar() == 0
    down = subprocess.run(
        alembic + ["downgrade", "base"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert down.returncode == 0, down.stderr
    with engine.connect() as conn:
        left = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema IN ('raw', 'core', 'mart')"
        ).scalar()
        assert left == 0
    engine.dispose()
    # and back up, in process, with reference data
    wh = Warehouse(pg_url)
    wh.ensure_schema()
    assert wh.query("SELECT COUNT(*) FROM core.dim_function_code")[1][0][0] > 800
    wh.dispose()


def test_analyst_role_reads_mart_only_and_cannot_write(pg_url):
    wh = Warehouse(pg_url)
    wh.ensure_schema()
    wh.dispose()
    engine = sa.create_engine(pg_url)

    def as_analyst(sql: str):
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SET ROLE {ANALYST_ROLE}")
            try:
                return conn.exec_driver_sql(sql).fetchall()
            finally:
                conn.rollback()

    assert as_analyst("SELECT COUNT(*) FROM mart.documents") == [(0,)]
    for view in VIEW_ORDER:
        as_analyst(f"SELECT * FROM {view} LIMIT 1")
    with engine.connect() as conn:
        login = conn.exec_driver_sql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{ANALYST_ROLE}'").scalar()
        assert login is False
    for sql in (
        "INSERT INTO core.document (document_sha256, status) VALUES ('x', 'loaded')",
        "DELETE FROM core.fact_function_expenditure",
        "UPDATE raw.manifest SET status = 'x'",
        "SELECT * FROM core.document",
        "SELECT * FROM raw.manifest",
        "CREATE TABLE mart.mine (a int)",
        "CREATE VIEW mart.mine AS SELECT 1 AS a",
        "DROP VIEW mart.documents",
        "INSERT INTO mart.documents (document_sha256) VALUES ('x')",
    ):
        with pytest.raises(sa.exc.DBAPIError) as err:
            as_analyst(sql)
        assert (
            "permission denied" in str(err.value)
            or "must be owner" in str(err.value)
            or "cannot insert into view" in str(err.value)
        ), sql
    # the grants survive a view redefinition (views are recreated when their SQL changes)
    with engine.begin() as conn:
        warehouse_schema.views.sync_views(conn, force=True)
    assert as_analyst("SELECT COUNT(*) FROM mart.expenditure_yoy_by_department_class") == [(0,)]
    engine.dispose()


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def ingested(sample_portal, tmp_path_factory):
    """The sample corpus crawled, extracted and loaded into PostgreSQL through `budget-etl ingest`'s code path."""
    from conftest import fresh_pg_database  # the server of the pg_url fixture
    from dagster import DagsterInstance

    from assets.crawl.sources import load_sources
    from assets.resources import HttpFetcherResource
    from pipelines.ingest import run_ingest

    _, site, sources = sample_portal
    tmp = tmp_path_factory.mktemp("pg_e2e")
    fetch = HttpFetcherResource(min_interval_s=0.0, retries=1, backoff_base_s=0.01, respect_robots=False)
    with fresh_pg_database() as url:

        def ingest():
            return run_ingest(
                str(sources),
                load_sources(sources),
                data_dir=str(tmp / "data"),
                warehouse_url=url,
                instance=DagsterInstance.ephemeral(),
                fetcher=fetch,
            )

        yield ingest(), ingest, url, site


def test_ingest_into_postgresql_end_to_end(ingested):
    summary, ingest, url, site = ingested
    assert not summary.failed_runs, summary.failed_runs
    wh = Warehouse(url)
    got = wh.query("""SELECT function_code, function_name, class_code, class_name, total_wan, basic_wan, project_wan,
               page FROM mart.expenditure_by_function
        WHERE department_name = '伊川县政务服务中心' AND fiscal_year = 2024 ORDER BY function_code""")[1]
    assert [r[0] for r in got] == ["2010306", "2080502", "2080505", "2101101", "2101199"]
    assert got[0] == (
        "2010306",
        "政务公开审批",
        "201",
        "一般公共服务支出",
        Decimal("1120.30"),
        Decimal("884.30"),
        Decimal("236.00"),
        13,
    )
    assert sum(r[4] for r in got) == Decimal("1145.25")
    statuses = dict(wh.query("SELECT doc_type || ':' || status, COUNT(*) FROM mart.documents GROUP BY 1")[1])
    assert statuses.get("final_accounts:skipped") == 1 and statuses.get("budget:loaded", 0) >= 4
    # the YoY view links the 2023 and 2024 documents of the same department
    yoy = wh.query("""SELECT total_wan, prev_total_wan FROM mart.expenditure_yoy_by_department_class
        WHERE department_key = '410329:政务服务中心' AND fiscal_year = 2024 AND class_code = '201'""")[1]
    assert yoy == [(Decimal("1120.30"), Decimal("885.97"))]
    # the 三公 table of the 2023 document (the seed's is printed empty), as the truth has it
    three = wh.query("""SELECT total_wan, vehicle_total_wan, reception_wan FROM mart.three_public
        WHERE department_name = '伊川县政务服务中心' AND fiscal_year = 2023""")[1]
    assert three == [(Decimal("16.21"), Decimal("5.02"), Decimal("11.19"))]
    # revenue by source from the 部门收支预算表 of the same document
    rev = wh.query("""SELECT revenue_category, amount_wan FROM mart.revenue_by_source
        WHERE department_name = '伊川县政务服务中心' AND fiscal_year = 2023 AND NOT is_of_which
          AND category_kind = 'revenue' AND amount_wan <> 0""")[1]
    assert rev == [("general_public_budget", Decimal("1146.01"))]
    wh.dispose()


def test_ingesting_again_into_postgresql_leaves_identical_tables(ingested):
    from test_warehouse import checksums

    summary, ingest, url, site = ingested
    wh = Warehouse(url)
    before = checksums(wh)
    assert before["core.fact_function_expenditure"][0] > 0
    again = ingest()
    assert not again.failed_runs
    after = checksums(wh)
    before.pop("raw.manifest"), after.pop("raw.manifest")  # fetched_at of re-fetches
    assert after == before
    wh.dispose()


def test_cli_ingest_with_a_postgresql_url(pg_url, tmp_path):
    """The CLI's own option parsing and warehouse check: an unreachable PostgreSQL URL is a clear error, a good one
    is migrated before the run (the run itself is the same code path as above)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "BUDGET_DATA_DIR": str(tmp_path)}
    bad = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "query", "--warehouse", bad, "SELECT 1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "cannot open warehouse" in (proc.stderr + proc.stdout)
    wh = Warehouse(pg_url)
    wh.ensure_schema()
    wh.dispose()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "query",
            "--warehouse",
            pg_url,
            "SELECT name FROM mart.function_codes WHERE function_code LIKE '20103%' AND level = 'kuan'",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "政府办公厅（室）及相关机构事务" in proc.stdout
