"""Steps on Celery workers: dagster-celery with a RabbitMQ broker (tested by tests/integration/test_celery.py).

The definitions do not change; the code location chooses its executor from the environment:
``BUDGET_EXECUTOR=celery`` (on the code server, the machine that drives runs, and every Celery worker) makes
:data:`budget_celery_executor` the executor of every job (pipelines/definitions.py), configured by
``deploy/celery.yaml`` (``BUDGET_CELERY_CONFIG``) — the same file the workers start with::

    dagster-celery worker start -A dagster_celery.app -y deploy/celery.yaml -q dagster -- --concurrency 2
    dagster-celery worker start -A dagster_celery.app -y deploy/celery.yaml -q crawl-www.example.gov.cn \\
        -- --pool solo                                  # one crawl at a time for this portal host

It is dagster-celery's executor with one routing rule more: the crawl step (op tag
``dagster-celery/queue: crawl`` on the crawl asset) goes to the queue ``crawl-<portal host>``, the host its
run is tagged with (``budget-etl/portal-host``, pipelines/jobs.py): a queue served by one worker of
concurrency 1 crawls one region of that host at a time, whatever the number of runs or machines, while crawls
of other hosts run beside it. Every other step goes to the queue ``dagster``, served by every worker.

Workers and the driving process share what a step reads and writes: the Dagster instance (``DAGSTER_HOME``
with deploy/dagster.yaml: runs and events in PostgreSQL), the data dir (``BUDGET_DATA_DIR``: raw store,
extraction cache, the IO manager's step outputs) and the warehouse (``BUDGET_WAREHOUSE_URL``); see
deploy/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from dagster import DagsterInstance, executor, multiple_process_executor_requirements
from dagster_celery.executor import CELERY_CONFIG, CeleryExecutor, _submit_task
from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

from assets.crawl.sources import load_sources
from assets.partitions import parse_years, region_partitions, year_region_key
from pipelines.jobs import TAG_PORTAL_HOST, TAG_TRIGGER, portal_host
from pipelines.sensors import crawl_metadata

REPO = Path(__file__).resolve().parents[1]
#: the executor's and the workers' configuration (broker, result backend, Celery settings)
DEFAULT_CONFIG = REPO / "deploy" / "celery.yaml"
#: the op tag value that marks a step for the per-host crawl queues
CRAWL_QUEUE = "crawl"
#: the run tag naming a crawl's portal host (pipelines/jobs.TAG_PORTAL_HOST; not imported: no cycle)
PORTAL_HOST_TAG = "budget-etl/portal-host"
#: the op tags of the crawl asset
CRAWL_OP_TAGS = {DAGSTER_CELERY_QUEUE_TAG: CRAWL_QUEUE}


def crawl_queue(host: str | None, default_queue: str = "dagster") -> str:
    """The Celery queue of the crawls of one portal host (``local`` for folder sources): ``crawl-<host>``, or
    ``<default queue>-crawl-<host>`` when the default queue is not ``dagster`` (deployments sharing a broker
    each name their own default queue, ``task_default_queue``)."""
    name = f"{CRAWL_QUEUE}-{re.sub(r'[^A-Za-z0-9.:_-]', '_', (host or 'local').lower())}"
    return name if default_queue == "dagster" else f"{default_queue}-{name}"


def _submit_routed(app, plan_context, step, queue, priority, known_state):
    """dagster-celery's submission; the crawl step to its host's queue, and any queue but dagster's own
    (declared with the ``dagster.#`` binding) to a queue Celery creates on demand on both sides (exchange and
    binding key = its name)."""
    if queue == CRAWL_QUEUE:
        queue = crawl_queue(plan_context.dagster_run.tags.get(PORTAL_HOST_TAG), app.conf.task_default_queue)
    if queue == "dagster":
        return _submit_task(app, plan_context, step, queue, priority, known_state)
    from dagster._grpc.types import ExecuteStepArgs
    from dagster._serdes import pack_value
    from dagster_celery.tasks import create_task

    args = ExecuteStepArgs(
        job_origin=plan_context.reconstructable_job.get_python_origin(),
        run_id=plan_context.dagster_run.run_id,
        step_keys_to_execute=[step.key],
        instance_ref=plan_context.instance.get_ref(),
        retry_mode=plan_context.executor.retries.for_inner_plan(),
        known_state=known_state,
        print_serialized_events=True,
    )
    signature = create_task(app).si(
        execute_step_args_packed=pack_value(args), executable_dict=plan_context.reconstructable_job.to_dict()
    )
    return signature.apply_async(queue=queue, routing_key=queue)


class BudgetCeleryExecutor(CeleryExecutor):
    """dagster-celery's executor; crawl steps go to their portal host's queue."""

    def execute(self, plan_context, execution_plan):
        from dagster_celery.core_execution_loop import core_celery_execution_loop

        return core_celery_execution_loop(plan_context, execution_plan, step_execution_fn=_submit_routed)


@executor(name="budget_celery", config_schema=CELERY_CONFIG, requirements=multiple_process_executor_requirements())
def budget_celery_executor(init_context):
    """Steps on Celery workers (dagster-celery); crawl steps on the queue of their portal host."""
    cfg = init_context.executor_config
    from dagster._core.execution.retries import RetryMode

    return BudgetCeleryExecutor(
        broker=cfg.get("broker"),
        backend=cfg.get("backend"),
        config_source=cfg.get("config_source"),
        include=cfg.get("include"),
        retries=RetryMode.from_config(cfg["retries"]),
    )


def celery_config(path: str | Path | None = None) -> dict:
    """The executor config of ``deploy/celery.yaml`` (or ``BUDGET_CELERY_CONFIG``): its ``execution.config``."""
    path = Path(path or os.environ.get("BUDGET_CELERY_CONFIG") or DEFAULT_CONFIG)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(data.get("execution", {}).get("config", {}))


def selected_executor():
    """The executor of the code location: Celery when ``BUDGET_EXECUTOR=celery``, else Dagster's default
    (multiprocess)."""
    if os.environ.get("BUDGET_EXECUTOR", "").lower() != "celery":
        return None
    return budget_celery_executor.configured(celery_config(), name="budget_celery")


# --------------------------------------------------------------------------- driving runs through the workers


def _recon_job(job_name: str):
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    repo = ReconstructableRepository.for_module("pipelines.definitions", "defs", working_directory=str(REPO))
    return repo.get_reconstructable_job(job_name)


def _execute_one(job_name: str, key: str, tags: dict) -> tuple[str, bool]:
    """One run of ``job_name`` for partition ``key`` through the workers (in a process of the driver's pool)."""
    from dagster import DagsterInstance, execute_job

    recon = _recon_job(job_name)
    run_tags = {**(tags or {}), **recon.get_definition().get_tags_for_partition_key(key, None)}
    with DagsterInstance.get() as instance, execute_job(recon, instance=instance, tags=run_tags) as result:
        return result.run_id, result.success


def run_on_celery(job_name: str, requests: list[tuple], parallel_runs: int = 2, pool=None) -> list[tuple[str, bool]]:
    """Execute ``job_name`` for each ``(partition key, run tags)`` through the Celery workers, ``parallel_runs``
    runs at a time (a run's steps form a chain: several runs keep several workers busy); ``(run_id, success)``
    per request, in input order.  Each run is driven from a process of its own, as the daemon's run launcher
    does (Dagster's run execution is not thread-safe: two runs in threads of one process deadlock on logging);
    the runs' instance is ``DAGSTER_HOME``'s, which the workers share."""
    if os.environ.get("BUDGET_EXECUTOR", "").lower() != "celery" or not os.environ.get("DAGSTER_HOME"):
        raise RuntimeError("BUDGET_EXECUTOR=celery and DAGSTER_HOME (the instance the workers share) must be set")
    if pool is None:
        with driver_pool(parallel_runs) as pool:
            return run_on_celery(job_name, requests, pool=pool)
    futures = [pool.submit(_execute_one, job_name, str(key), dict(tags or {})) for key, tags in requests]
    return [f.result() for f in futures]


def driver_pool(parallel_runs: int = 2):
    """The processes that drive runs (:func:`run_on_celery`), reused from run to run."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=max(1, parallel_runs), mp_context=multiprocessing.get_context("spawn"))


def local_celery_environment(
    root: Path, *, instance_url: str, warehouse_url: str, sources: Path, queue: str, data_dir: Path
) -> dict[str, str]:
    """Everything local Celery workers and their driver need, under ``root`` (tests, benchmarks, a developer's
    machine): a ``DAGSTER_HOME`` with ``deploy/dagster.yaml`` on the PostgreSQL database ``instance_url`` (its tables
    created once here: the workers and the driver opening it at the same time race), ``root/celery.yaml`` with
    ``deploy/celery.yaml`` and ``queue`` as the default queue (runs of other tests or benchmarks on the same broker
    never take its tasks), and the environment of the processes (``BUDGET_EXECUTOR=celery``, one extraction process
    per worker)."""
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    config = {"execution": {"config": celery_config(REPO / "deploy" / "celery.yaml")}}
    config["execution"]["config"].setdefault("config_source", {})["task_default_queue"] = queue
    (root / "celery.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    pg_url = instance_url.replace("postgresql+psycopg://", "postgresql://")
    env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        DAGSTER_PG_URL=pg_url,
        BUDGET_EXECUTOR="celery",
        BUDGET_CELERY_CONFIG=str(root / "celery.yaml"),
        BUDGET_DATA_DIR=str(data_dir),
        BUDGET_WAREHOUSE_URL=warehouse_url,
        BUDGET_SOURCES=str(sources),
        BUDGET_EXTRACT_WORKERS="1",
        PYTHONPATH=str(REPO),
        PYTHONWARNINGS="ignore",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # `dagster-celery`
    )
    previous = os.environ.get("DAGSTER_PG_URL")
    os.environ["DAGSTER_PG_URL"] = pg_url  # deploy/dagster.yaml reads it
    try:
        DagsterInstance.from_config(str(home)).dispose()
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_PG_URL", None)
        else:
            os.environ["DAGSTER_PG_URL"] = previous
    return env


class LocalWorkers:
    """Celery workers of this machine as subprocesses (tests, benchmarks, a developer's machine): each in its
    own process group, killed whole by :meth:`kill`. ``env`` must carry ``BUDGET_CELERY_CONFIG`` and what the
    steps need (``DAGSTER_HOME``, ``BUDGET_*``, ``BUDGET_EXECUTOR=celery``)."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs, self.procs = env, logs, []

    def start(self, name: str, queues: list[str]) -> None:
        log = self.logs / f"{name}.log"
        cmd = [
            str(Path(sys.executable).parent / "dagster-celery"),
            "worker",
            "start",
            "-A",
            "dagster_celery.app",
            "-y",
            self.env["BUDGET_CELERY_CONFIG"],
            "-n",
            name,
            "--loglevel",
            "INFO",
        ]
        cmd += ["-q", ",".join(queues)]  # one -Q: celery keeps only the last of several
        cmd += [
            "--",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append((proc, log))

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        for proc, log in self.procs:
            while " ready." not in log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
                time.sleep(0.3)

    def kill(self) -> None:
        for proc, _ in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the group this test started: the CLI and its celery
            except ProcessLookupError:
                continue
        for proc, _ in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def _years_found(run_id: str) -> set[int]:
    with DagsterInstance.get() as instance:
        meta = crawl_metadata(instance, run_id) or {}
    return {int(y) for y in meta.get("years") or []}


def run_backfill_on_celery(sources_path: str, years: list[int], *, parallel_runs: int = 2) -> dict:
    """``budget-etl backfill`` through the Celery workers: a ``crawl_job`` run per region (its crawl step on
    the queue of the region's portal host), then ``backfill_job`` for every year × region the crawl found documents
    of, ``parallel_runs``
    runs at a time.  Needs ``BUDGET_EXECUTOR=celery``, ``DAGSTER_HOME`` (an instance the workers share) and
    the ``BUDGET_*`` variables of the workers.  Returns ``{"crawl": {region: (run_id, ok)}, "backfill":
    {partition key: (run_id, ok)}}``."""
    by_region: dict[str, list] = {}
    for config in load_sources(sources_path):
        by_region.setdefault(config.region_code, []).append(config)
    regions = sorted(by_region)
    with DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(region_partitions.name, regions)
    with driver_pool(parallel_runs) as pool:
        # crawls of one portal host queue up behind each other on that host's crawl queue
        crawl = dict(
            zip(
                regions,
                run_on_celery(
                    "crawl_job",
                    [(r, {TAG_TRIGGER: "backfill", TAG_PORTAL_HOST: portal_host(by_region[r])}) for r in regions],
                    pool=pool,
                ),
                strict=False,
            )
        )
        # the years each crawl found (its materialization's metadata), as budget-etl backfill does
        keys = [year_region_key(y, r) for r in regions if crawl[r][1] for y in years if y in _years_found(crawl[r][0])]
        done = run_on_celery("backfill_job", [(k, {TAG_TRIGGER: "backfill"}) for k in keys], pool=pool)
    return {"crawl": crawl, "backfill": {str(k): v for k, v in zip(keys, done, strict=False)}}


def main(argv: list[str] | None = None) -> int:
    """``python -m pipelines.celery_executor SOURCES --years 2021-2024 [--parallel-runs 2]``: prints the runs
    as JSON; exit code 1 when a run failed."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("sources")
    ap.add_argument("--years", required=True)
    ap.add_argument("--parallel-runs", type=int, default=2)
    args = ap.parse_args(argv)
    out = run_backfill_on_celery(args.sources, parse_years(args.years), parallel_runs=args.parallel_runs)
    print(json.dumps(out))
    return 0 if all(ok for group in out.values() for _, ok in group.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
