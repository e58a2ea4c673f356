"""Deployment: the code location validates, the production instance config (deploy/dagster.yaml) runs the
nightly chain with its storage on PostgreSQL, and the local config serves `dagster dev`."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import PG_ADMIN_URL
from dagster import AssetKey, DagsterEventType, DagsterInstance, build_run_status_sensor_context, build_schedule_context
from orchestration_corpus import FAST_FETCH, YICHUAN, build_folders, data_dir

from assets.partitions import split_key
from pipelines.backfill import job_definitions
from pipelines.jobs import nightly_crawl
from pipelines.sensors import process_after_crawl
from warehouse_schema import tables as t

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def extract_cache(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "orchestration_extract_cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.mark.slow
def test_dagster_definitions_validate():
    env = dict(os.environ, DAGSTER_HOME="", PYTHONWARNINGS="ignore")
    env.pop("DAGSTER_HOME")
    bin_dir = Path(sys.executable).parent
    out = subprocess.run(
        [str(bin_dir / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Validation successful for code location budget_etl" in out.stdout + out.stderr


def test_definitions_carry_jobs_schedule_sensors_and_checks():
    from pipelines.definitions import defs

    repo = defs.get_repository_def()
    assert {j.name for j in repo.get_all_jobs()} >= {"crawl_job", "process_job", "backfill_job"}
    schedule = repo.get_schedule_def("nightly_crawl")
    assert schedule.execution_timezone == "Asia/Shanghai" and schedule.job_name == "crawl_job"
    assert {s.name for s in repo.sensor_defs} == {"discover_regions", "process_after_crawl"}
    assert repo.get_job("backfill_job").run_tags["dagster/priority"] == "-1"
    # the asset checks run in the partition runs that materialize their assets
    process = repo.get_job("process_job")
    checked = {key.asset_key for key in process.asset_layer.asset_graph.asset_check_keys}
    assert AssetKey("validated_documents") in checked


def _psycopg2_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")


@pytest.mark.postgres
def test_materialize_with_the_production_instance_on_postgresql(
    pg_url, sample_portal_dir, extract_cache, tmp_path, monkeypatch
):
    """deploy/dagster.yaml as $DAGSTER_HOME/dagster.yaml, a fresh PostgreSQL database for the instance and
    another for the warehouse (both use Alembic's alembic_version table: they cannot share a database):
    nightly schedule → crawl run → process_after_crawl → process run, all recorded in PostgreSQL."""
    warehouse_url = pg_url + "_wh"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{warehouse_url.rsplit("/", 1)[1]}"')
    try:
        _production_chain(pg_url, warehouse_url, sample_portal_dir, extract_cache, tmp_path, monkeypatch)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{warehouse_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        admin.dispose()


def _production_chain(pg_url, warehouse_url, sample_portal_dir, extract_cache, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", _psycopg2_url(pg_url))
    sources = build_folders(sample_portal_dir, tmp_path / "folders", docs=[(YICHUAN, 2024, "伊川县政务服务中心")])
    defs = job_definitions(data_dir(tmp_path / "data", extract_cache), warehouse_url, str(sources), fetcher=FAST_FETCH)
    repo = defs.get_repository_def()

    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        instance.add_dynamic_partitions("region", [YICHUAN])
        when = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        with build_schedule_context(
            instance=instance, scheduled_execution_time=when, repository_def=repo, resources=defs.resources
        ) as ctx:
            (crawl_req,) = nightly_crawl.evaluate_tick(ctx).run_requests
        crawl = repo.get_job("crawl_job").execute_in_process(
            partition_key=crawl_req.partition_key, tags=crawl_req.tags, instance=instance
        )
        assert crawl.success
        (success,) = instance.get_records_for_run(crawl.run_id, of_type=DagsterEventType.RUN_SUCCESS).records
        ctx = build_run_status_sensor_context(
            sensor_name="process_after_crawl",
            dagster_event=success.event_log_entry.dagster_event,
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(crawl.run_id),
            repository_def=repo,
        )
        (req,) = process_after_crawl(ctx)  # nightly years 2024, 2025; the crawl found 2024 only
        assert str(req.partition_key) == f"{YICHUAN}|2024"
        result = repo.get_job("process_job").execute_in_process(
            partition_key=req.partition_key, tags=req.tags, instance=instance
        )
        assert result.success
        assert {split_key(k) for k in instance.get_materialized_partitions(AssetKey(["core", "document"]))} == {
            (2024, YICHUAN)
        }

    # what the instance wrote is in PostgreSQL tables, next to the warehouse's schemas
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        runs = conn.exec_driver_sql("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp").all()
        assert runs == [("crawl_job", "SUCCESS"), ("process_job", "SUCCESS")]
        mats = conn.exec_driver_sql(
            "SELECT asset_key, partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' ORDER BY id"
        ).all()
        loaded = [(f"core/{tb.name}", f"{YICHUAN}|2024") for tb in (t.document, *t.DOCUMENT_TABLES)]
        assert sorted(("/".join(json.loads(k)), p) for k, p in mats) == sorted(
            [
                ("crawled_documents", YICHUAN),
                ("raw/manifest", YICHUAN),
                ("core/dim_region", YICHUAN),
                ("extracted_documents", f"{YICHUAN}|2024"),
                ("normalized_documents", f"{YICHUAN}|2024"),
                ("validated_documents", f"{YICHUAN}|2024"),
                ("previous_year_compared", f"{YICHUAN}|2024"),
                *loaded,
            ]
        )
        checks = conn.exec_driver_sql(
            "SELECT check_name, partition, execution_status FROM asset_check_executions"
        ).all()
        expected = {k.name for k in repo.get_job("process_job").asset_layer.asset_graph.asset_check_keys}
        assert {name for name, _, _ in checks} == expected  # every check ran, once, for the partition
        assert all(p == f"{YICHUAN}|2024" and s in ("SUCCEEDED", "FAILED") for _, p, s in checks)
        assert conn.exec_driver_sql("SELECT partition FROM dynamic_partitions").all() == [(YICHUAN,)]
    engine.dispose()
    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        total = conn.exec_driver_sql("SELECT SUM(total_wan) FROM mart.expenditure_by_function").scalar()
        assert str(total) == "1145.25"
    engine.dispose()


def test_local_instance_config_for_dagster_dev(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        limits = instance.get_concurrency_config().run_queue_config
        assert limits.max_concurrent_runs == 2
        assert limits.tag_concurrency_limits == [
            {"key": "budget-etl/portal-host", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
    assert (home / "history" / "runs.db").exists()
