"""Wall time of a 100-document ingestion through Dagster with 1 and with 2 worker processes.

    python bench/bench_orchestration.py [--docs 100] [--workers 1,2] [--warehouse duckdb|postgresql+psycopg://…]

The corpus: ``--docs`` distinct generated budgets (examples/sample_portal: 4 counties × 5 departments ×
fiscal years 2021–2025, each document generated from its own spec, so no two share content), written as
folder sources, one folder per county: 20 year × region partitions of ~5 documents. Each configuration
starts cold (fresh data dir, so nothing comes from the extraction cache; fresh warehouse) and runs
``run_backfill`` — the code behind ``budget-etl backfill`` — which crawls the four folders, then runs
``backfill_job`` for the 20 partitions, ``workers`` partition runs at a time, each in its own process.
On DuckDB (one writing process) the workers extract + normalize and the parent validates + loads partition
by partition; on PostgreSQL each worker runs whole partitions.

Prints the corpus, then per configuration: wall seconds, documents loaded, pages, documents per second and
the speed-up over 1 worker. The machine's other load is printed too (os.getloadavg), as it moves the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEPARTMENTS = [  # (profile, department suffix, unit code)
    ("gov_service", "政务服务中心", "106"),
    ("culture", "文化广电和旅游局", "208"),
    ("hrss", "人力资源和社会保障局", "116"),
    ("statistics", "统计局", "131"),
    ("urban", "城市管理局", "125"),
]
YEARS = list(range(2021, 2026))


def build_corpus(out: Path, n_docs: int, xlsx_share: float = 0.0) -> tuple[Path, int, dict[str, int]]:
    """Render ``n_docs`` distinct budgets into ``out/<region>/``, the last ``xlsx_share`` of the departments by the
    office producer (LibreOffice), the others by reportlab; (sources.yaml, pages, documents per producer)."""
    import pypdfium2 as pdfium

    from examples.sample_portal.corpus import COUNTIES, doc_spec, finish_document, folder_sources
    from examples.sample_portal.model import generate_document
    from examples.sample_portal.render import render_pdf
    from examples.sample_portal.tables import build_tables
    from examples.sample_portal.xlsx import convert_documents, render_xlsx_pdf, xlsx_tables

    n_xlsx_depts = round(len(DEPARTMENTS) * xlsx_share)
    xlsx_profiles = {p for p, _, _ in DEPARTMENTS[len(DEPARTMENTS) - n_xlsx_depts :]}
    specs = []
    for year in YEARS:
        for region in COUNTIES:
            for profile, dept, code in DEPARTMENTS:
                kw = {"producer": "xlsx"} if profile in xlsx_profiles else {}
                specs.append(doc_spec(region, dept, code, year, profile, **kw))
    specs = specs[:n_docs]
    totals: dict[tuple, int] = {}
    docs = []
    for spec in specs:  # year order: each document quotes its predecessor's total
        doc = generate_document(spec, prev_total=totals.get((spec.region_code, spec.department, spec.fiscal_year - 1)))
        totals[(doc.region_code, doc.department, doc.fiscal_year)] = doc.total
        docs.append(finish_document(doc, spec))
    office = [d for d in docs if d.producer == "xlsx"]
    office_tables = {d.doc_id: xlsx_tables(d) for d in office}
    if office:
        convert_documents(office, office_tables)  # a few LibreOffice starts for all of them
    pages = 0
    producers: dict[str, int] = {}
    for doc in docs:
        folder = out / doc.region_code
        folder.mkdir(parents=True, exist_ok=True)
        pdf = folder / doc.attachment_name
        if doc.producer == "xlsx":
            render_xlsx_pdf(doc, pdf, office_tables[doc.doc_id])
        else:
            render_pdf(doc, pdf, build_tables(doc))
        pages += len(pdfium.PdfDocument(str(pdf)))
        producers[doc.producer] = producers.get(doc.producer, 0) + 1
    sources = folder_sources(out, [code for code in COUNTIES if (out / code).is_dir()])
    return sources, pages, producers


def fresh_warehouse(kind: str, root: Path, tag: str) -> tuple[str, callable]:
    """A new empty warehouse: a DuckDB file, or a new PostgreSQL database next to the URL's."""
    if kind == "duckdb":
        return f"duckdb:///{root / f'warehouse_{tag}.duckdb'}", lambda: None
    import sqlalchemy as sa

    name = f"bench_orch_{tag}_{os.getpid()}"
    admin = sa.create_engine(kind, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return kind.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument(
        "--warehouse",
        default="duckdb",
        help="duckdb, or a PostgreSQL admin URL "
        "(postgresql+psycopg://postgres@127.0.0.1:5432/test): a fresh database per configuration",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    from assets.crawl.sources import load_sources
    from assets.load.warehouse import Warehouse
    from pipelines.backfill import run_backfill

    root = Path(tempfile.mkdtemp(prefix="bench_orchestration_"))
    try:
        started = time.monotonic()
        sources, pages, _ = build_corpus(root / "corpus", args.docs)
        n_pdf = len(list((root / "corpus").rglob("*.pdf")))
        print(
            f"corpus: {n_pdf} generated budgets, {pages} pages, {len(load_sources(sources))} regions, years "
            f"{YEARS[0]}-{YEARS[-1]} (generated in {time.monotonic() - started:.1f} s)"
        )
        print(f"machine: {os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")
        base = None
        for workers in [int(w) for w in args.workers.split(",")]:
            data = root / f"data_{workers}"
            url, drop = fresh_warehouse(args.warehouse, root, f"w{workers}")
            try:
                Warehouse(url).ensure_schema()
                t0 = time.monotonic()
                summary = run_backfill(
                    str(sources),
                    load_sources(sources),
                    years=YEARS,
                    data_dir=str(data),
                    warehouse_url=url,
                    workers=workers,
                    respect_robots=False,
                )
                wall = time.monotonic() - t0
                statuses: dict[str, int] = {}
                for d in summary.documents.values():
                    statuses[d["status"]] = statuses.get(d["status"], 0) + 1
                base = base or wall
                print(
                    f"workers={workers}: {wall:7.1f} s wall   {n_pdf / wall:5.2f} documents/s   "
                    f"{pages / wall:5.1f} pages/s   speed-up {base / wall:4.2f}×   "
                    f"partitions {len(summary.partitions)}   failed runs {len(summary.failed_runs)}   "
                    f"documents {dict(sorted(statuses.items()))}   load average {os.getloadavg()[0]:.2f}"
                )
            finally:
                drop()
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
