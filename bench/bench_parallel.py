"""Documents in parallel: extraction with 1 and 2 processes, the pipeline in process and on Celery, the quiet night.

    python bench/bench_parallel.py [--docs 100] [--xlsx-share 0.4] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

The corpus: ``--docs`` distinct generated budgets (examples/sample_portal: 4 counties × 5 departments × fiscal
years 2021–2025, each from its own spec), drawn by both producers: reportlab, and for ``--xlsx-share`` of the
departments the office producer (workbooks exported to PDF by LibreOffice headless); folder sources, one folder
per county (20 year × region partitions of ~5 documents).  On these same documents it measures:

1. **extraction** alone (``extract_many``: the worker processes that enforce the memory and time caps), cold,
   with a pool of 1 and of 2 processes: documents/s;
2. **the pipeline in process** (``run_backfill``, the code of ``budget-etl backfill``: crawl, then extract →
   normalize → validate → load every partition, extraction on ``ExtractionResource.workers`` = the cores), cold,
   into a fresh PostgreSQL warehouse: documents/s;
3. **the pipeline on Celery** with 2 workers (RabbitMQ at 127.0.0.1:5672, ``deploy/dagster.yaml`` on a fresh
   PostgreSQL database, ``deploy/celery.yaml``; each worker ``--pool solo`` with one extraction process; runs driven
   two at a time by ``python -m pipelines.celery_executor``), cold, into another fresh warehouse: documents/s;
4. **the no-change nightly run** after (2): what the nightly chain does when nothing was published — a
   ``crawl_job`` run per region, then ``process_job`` for the partitions ``process_after_crawl`` would request
   (``years_to_process``: none when nothing is new) — as a share of the first run's time;
5. the warehouse (2) wrote: fact rows and bytes (PostgreSQL ``core`` and ``raw`` schemas) per document.

Prints figures (the machine's load average too: they move with it); the last line is
``speedup 1->2 processes: X.XX`` (extraction documents/s with 2 processes over 1).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_orchestration import YEARS, build_corpus  # noqa: E402  (the corpus both benchmarks generate)


class Databases:
    """Fresh PostgreSQL databases next to the admin URL, dropped at the end."""

    def __init__(self, admin_url: str):
        import sqlalchemy as sa

        self.admin_url = admin_url
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def new(self, tag: str) -> str:
        name = f"bench_par_{tag}_{uuid.uuid4().hex[:6]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def load() -> str:
    return f"load average {os.getloadavg()[0]:.2f}"


def bench_extraction(corpus: Path) -> dict[int, float]:
    """Cold extraction of every PDF with a pool of 1 and of 2 processes: documents/s, and the CPU time the
    worker processes used (documents per CPU-second does not depend on what else the machine runs)."""
    from assets.extract.worker import WorkerPool, _extract

    pdfs = sorted(corpus.rglob("*.pdf"))
    args = [(str(p), f"{i:064d}", 1000) for i, p in enumerate(pdfs)]
    rates, results = {}, {}
    for size in (1, 2):
        pool = WorkerPool(size)
        t0 = time.monotonic()
        outcomes = pool.map(_extract, args)
        s = time.monotonic() - t0
        rates[size] = len(args) / s
        results[size] = [o.value for o in outcomes]
        cpu = sum(o.cpu_seconds for o in outcomes)
        ok = sum(1 for o in outcomes if o.ok and o.value.status == "ok")
        print(
            f"extraction, {size} process{'es' if size > 1 else ''}: {len(args)} documents in {s:6.1f} s = "
            f"{rates[size]:5.2f} documents/s ({ok} ok); worker CPU {cpu:6.1f} s = {cpu / len(args):.2f} CPU-s per "
            f"document, {cpu / s:.2f} cores busy on average   {load()}",
            flush=True,
        )
    print(f"extraction results identical for 1 and 2 processes: {results[1] == results[2]}")
    return rates


def warehouse_size(url: str, n_docs: int) -> None:
    """Fact rows and bytes of a PostgreSQL warehouse, per document."""
    import sqlalchemy as sa

    from warehouse_schema import tables as t

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        facts = sum(conn.execute(sa.select(sa.func.count()).select_from(tb)).scalar() for tb in t.FACT_TABLES)
        rows = facts + sum(
            conn.execute(sa.select(sa.func.count()).select_from(tb)).scalar()
            for tb in (t.document, t.extracted_table, t.quality_finding, t.manifest)
        )
        size = conn.exec_driver_sql(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('core', 'raw') AND c.relkind IN ('r', 'm')"
        ).scalar()
        loaded = conn.execute(
            sa.select(sa.func.count()).select_from(t.document).where(t.document.c.status == "loaded")
        ).scalar()
    engine.dispose()
    print(
        f"warehouse (PostgreSQL): {loaded} documents loaded, {facts:,} fact rows ({facts / n_docs:,.0f} per document), "
        f"{rows:,} rows with documents, tables, findings and manifest; core + raw schemas {size / 2**20:,.1f} MiB "
        f"({size / n_docs / 1024:,.0f} KiB per document, indexes included)"
    )


def bench_in_process(sources: Path, root: Path, dbs: Databases, n_docs: int) -> float:
    """The pipeline in process, cold, then the no-change nightly run; returns the first run's seconds."""
    from dagster import DagsterInstance

    from assets.crawl.sources import load_sources
    from assets.load.warehouse import Warehouse
    from assets.partitions import nightly_years
    from pipelines.backfill import job_definitions, run_backfill, run_partition
    from pipelines.jobs import TAG_PORTAL_HOST, TAG_PROCESS_YEARS, TAG_TRIGGER, portal_host
    from pipelines.runs import execute
    from pipelines.sensors import crawl_metadata, loaded_partitions, years_to_process

    url = dbs.new("inproc")
    Warehouse(url).ensure_schema()
    data = root / "data_inproc"
    configs = load_sources(sources)
    with DagsterInstance.ephemeral() as instance:
        t0 = time.monotonic()
        summary = run_backfill(
            str(sources),
            configs,
            years=YEARS,
            data_dir=str(data),
            warehouse_url=url,
            respect_robots=False,
            instance=instance,
        )
        first = time.monotonic() - t0
        print(
            f"pipeline in process (run_backfill, extraction on the cores): {n_docs} documents in {first:6.1f} s = "
            f"{n_docs / first:5.2f} documents/s   partitions {len(summary.partitions)}   failed runs "
            f"{len(summary.failed_runs)}   {load()}",
            flush=True,
        )
        # the quiet night: crawl every region, process what process_after_crawl would request
        defs = job_definitions(str(data), url, str(sources.resolve()))
        crawl = defs.resolve_job_def("crawl_job")
        by_region: dict[str, list] = {}
        for c in configs:
            by_region.setdefault(c.region_code, []).append(c)
        years_tag = "all"  # the strictest night: every year may be processed, not only the nightly two
        t0 = time.monotonic()
        processed = 0
        for region, cs in sorted(by_region.items()):
            result = execute(
                crawl,
                instance=instance,
                partition_key=region,
                raise_on_error=False,
                tags={TAG_TRIGGER: "nightly", TAG_PROCESS_YEARS: years_tag, TAG_PORTAL_HOST: portal_host(cs)},
            )
            meta = crawl_metadata(instance, result.run_id) or {}
            for year in years_to_process(years_tag, region, meta, loaded_partitions(instance)):
                run_partition(defs, "process_job", year, region, instance)
                processed += 1
        night = time.monotonic() - t0
        print(
            f"no-change nightly run: {len(by_region)} crawl runs, {processed} partitions processed, {night:.2f} s = "
            f"{100 * night / first:.1f} % of the first run   (nightly years would be {nightly_years(None)})",
            flush=True,
        )
    warehouse_size(url, n_docs)
    return first


def bench_celery(sources: Path, root: Path, dbs: Databases, n_docs: int) -> float | None:
    """The pipeline on 2 Celery workers, cold: seconds (None when RabbitMQ is not reachable)."""
    import socket

    from assets.load.warehouse import Warehouse
    from pipelines.celery_executor import LocalWorkers, crawl_queue, local_celery_environment

    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        print("celery: RabbitMQ not reachable at 127.0.0.1:5672 (bash scripts/start-rabbitmq.sh): skipped")
        return None
    instance_db, url = dbs.new("instance"), dbs.new("celery")
    Warehouse(url).ensure_schema()
    queue = f"dagster-bench-{uuid.uuid4().hex[:6]}"
    env = local_celery_environment(
        root, instance_url=instance_db, warehouse_url=url, sources=sources, queue=queue, data_dir=root / "data_celery"
    )
    workers = LocalWorkers(env, root)
    try:
        workers.start("w1", [queue, crawl_queue("local", queue)])
        workers.start("w2", [queue])
        workers.wait_ready()
        t0 = time.monotonic()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.celery_executor",
                str(sources),
                "--years",
                f"{YEARS[0]}-{YEARS[-1]}",
                "--parallel-runs",
                "2",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        s = time.monotonic() - t0
    finally:
        workers.kill()
    ok = out.returncode == 0
    print(
        f"pipeline on Celery, 2 workers (solo, 1 extraction process each; 2 runs at a time): {n_docs} documents in "
        f"{s:6.1f} s = {n_docs / s:5.2f} documents/s   {'all runs succeeded' if ok else 'FAILED: ' + out.stderr[-500:]}"
        f"   {load()}",
        flush=True,
    )
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--xlsx-share", type=float, default=0.4, help="share of the departments drawn by the xlsx producer")
    ap.add_argument(
        "--pg-url", default=os.environ.get("BUDGET_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (corpus, data, worker logs)")
    ap.add_argument("--skip", default="", help="comma-separated: extraction,inprocess,celery")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    root = Path(tempfile.mkdtemp(prefix="bench_parallel_"))
    dbs = Databases(args.pg_url)
    try:
        t0 = time.monotonic()
        sources, pages, producers = build_corpus(root / "corpus", args.docs, args.xlsx_share)
        n = sum(producers.values())
        print(
            f"corpus: {n} generated budgets ({', '.join(f'{k} {v}' for k, v in sorted(producers.items()))}), "
            f"{pages} pages, years {YEARS[0]}-{YEARS[-1]} (generated in {time.monotonic() - t0:.1f} s)"
        )
        print(f"machine: {os.cpu_count()} CPUs, shared with other work; {load()} before starting", flush=True)
        rates = bench_extraction(root / "corpus") if "extraction" not in skip else {1: 1.0, 2: float("nan")}
        first = bench_in_process(sources, root, dbs, n) if "inprocess" not in skip else None
        celery = bench_celery(sources, root, dbs, n) if "celery" not in skip else None
        if first and celery:
            print(
                f"in process vs Celery (2 workers): {n / first:.2f} vs {n / celery:.2f} documents/s "
                f"(Celery {first / celery:.2f}× the in-process rate)"
            )
        print(f"speedup 1->2 processes: {rates[2] / rates[1]:.2f}")
    finally:
        dbs.drop_all()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
