"""The distributed executor for real: two Celery workers on 127.0.0.1 (RabbitMQ at 127.0.0.1:5672), the
production instance config (deploy/dagster.yaml, runs and events in PostgreSQL), the Celery config of
deploy/celery.yaml, the PostgreSQL warehouse.  ``backfill_job`` over four year × region partitions through the
workers gives the in-process run's mart, row for row; the crawl steps ran on the portal host's crawl queue,
served by one worker of concurrency 1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import fresh_pg_database
from orchestration_corpus import FAST_FETCH, generated_folders

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
YEARS = [2021, 2022]
#: two regions × two years = four partitions, one document each
REGIONS = ["410329", "410323"]

MART = [
    "mart.documents",
    "mart.expenditure_by_function",
    "mart.basic_expenditure_by_economic",
    "mart.class_totals_by_region_year",
    "mart.revenue_by_source",
    "mart.fiscal_appropriation",
    "mart.project_expenditure",
    "mart.three_public",
    "mart.quality_findings",
    "mart.document_report",
]


def _rabbitmq_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
        return True
    except OSError:
        return False


def _mart(url: str) -> dict[str, list[str]]:
    from assets.load.warehouse import Warehouse

    wh = Warehouse(url)
    try:
        out = {}
        for view in MART:
            cols, rows = wh.query(f"SELECT * FROM {view}")
            keep = [i for i, c in enumerate(cols) if c not in ("fetched_at", "loaded_at")]
            out[view] = sorted(repr([r[i] for i in keep]) for r in rows)
        return out
    finally:
        wh.dispose()


def test_backfill_through_two_celery_workers_equals_the_in_process_run(tmp_path, monkeypatch):
    if not _rabbitmq_up():
        if os.environ.get("CI"):
            pytest.fail("RabbitMQ not reachable at 127.0.0.1:5672 (make test starts it: scripts/start-rabbitmq.sh)")
        pytest.skip("RabbitMQ not reachable at 127.0.0.1:5672")
    from dagster import DagsterInstance

    from assets.crawl.sources import load_sources
    from pipelines.backfill import run_backfill
    from pipelines.celery_executor import LocalWorkers, crawl_queue, local_celery_environment

    sources = generated_folders(tmp_path / "corpus", REGIONS, YEARS)
    with fresh_pg_database() as instance_db, fresh_pg_database() as wh_celery, fresh_pg_database() as wh_local:
        # the Celery run, cold: the workers extract, normalize, validate and load
        # a queue of this test's own: other runs of this test on the same broker never take its tasks
        queue = f"dagster-test-{uuid.uuid4().hex[:8]}"
        env = local_celery_environment(
            tmp_path,
            instance_url=instance_db,
            warehouse_url=wh_celery,
            sources=sources,
            queue=queue,
            data_dir=tmp_path / "data_celery",
        )
        host_queue = crawl_queue("local", queue)  # folder sources: portal host "local"
        workers = LocalWorkers(env, tmp_path)
        try:
            workers.start("w1", [queue, host_queue])  # the only worker of the crawl queue, concurrency 1
            workers.start("w2", [queue])
            workers.wait_ready()
            started = time.monotonic()
            driver = subprocess.run(
                [sys.executable, "-m", "pipelines.celery_executor", str(sources), "--years", f"{YEARS[0]}-{YEARS[-1]}"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
            )
            celery_seconds = time.monotonic() - started
        finally:
            workers.kill()
        logs = "\n".join(p.read_text(errors="replace")[-2000:] for _, p in workers.procs)
        assert driver.returncode == 0, driver.stdout[-3000:] + driver.stderr[-5000:] + logs
        runs = json.loads(driver.stdout.strip().splitlines()[-1])
        assert len(runs["backfill"]) == len(REGIONS) * len(YEARS) >= 4

        # which worker ran which step (the instance's engine events, in PostgreSQL)
        monkeypatch.setenv("DAGSTER_PG_URL", env["DAGSTER_PG_URL"])
        ran_on: dict[str, set[str]] = {}
        with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            for run_id, _ in [*runs["crawl"].values(), *runs["backfill"].values()]:
                for record in instance.all_logs(run_id):
                    event = record.dagster_event
                    if event is None or not event.is_engine_event:
                        continue
                    worker = event.engine_event_data.metadata.get("Celery worker")
                    if worker is not None:
                        ran_on.setdefault(event.step_key, set()).add(str(worker.value).split("@")[0])
        assert ran_on.get("crawled_documents") == {"w1"}, ran_on  # the crawl queue's one worker
        assert ran_on["extracted_documents"] <= {"w1", "w2"}
        assert set().union(*ran_on.values()) == {"w1", "w2"}  # both workers worked

        # the same backfill in process, into another warehouse
        summary = run_backfill(
            str(sources),
            load_sources(sources),
            years=YEARS,
            data_dir=str(tmp_path / "data_local"),
            warehouse_url=wh_local,
            instance=DagsterInstance.ephemeral(),
            fetcher=FAST_FETCH,
        )
        assert not summary.failed_runs and len(summary.partitions) == 4, summary.failed_runs

        celery_mart, local_mart = _mart(wh_celery), _mart(wh_local)
        assert celery_mart["mart.expenditure_by_function"] and len(celery_mart["mart.documents"]) == 4
        for view in MART:
            assert celery_mart[view] == local_mart[view], view
        print(f"celery backfill of 4 partitions: {celery_seconds:.1f} s")
