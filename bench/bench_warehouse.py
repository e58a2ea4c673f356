"""Benchmark: load a synthetic warehouse of ≥ 1 million fact rows into DuckDB and PostgreSQL,
then time typical analyst queries on the mart views.

    python bench/bench_warehouse.py                       # both engines, ~1.2 M fact rows
    python bench/bench_warehouse.py --real-size           # partitions the size of a real county's (below)
    python bench/bench_warehouse.py --engines duckdb --counties 20
    BUDGET_BENCH_PG_URL=postgresql+psycopg://user@host/db python bench/bench_warehouse.py

``--real-size``: 80 departments a county (the issue's national figure) of 272 fact rows each (what the real
corpus's loaded budgets hold on average: 92 function, 58 economic, 122 in the other fact tables; here 110 + 110
function rows and 52 economic rows), 21 760 fact rows a partition instead of 1 500.

After the load, the same partitions are written once more into an empty warehouse by the engine alone: their
Arrow tables made beforehand, then per partition only the inserts and the commit (no lookup, no Python per
row): the floor of one transaction per partition on this machine, which the load is compared with.
PostgreSQL, which takes several writers, also loads them by two processes at once.

The data: ``--counties`` real 河南 county codes × ``--years`` fiscal years × ``--departments``
departments; each document has its 一般公共预算支出预算表 and 部门支出预算表 (function rows,
real 7-digit codes) and its 基本支出 table (economic rows), like a real budget.  Each
county × year is one partition, loaded by the production path
(``Warehouse.load_documents``: one transaction, delete + bulk insert — DuckDB from typed Arrow
tables, PostgreSQL with one COPY per table).  PostgreSQL runs in a scratch database
that is dropped afterwards.  Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from assets.load.warehouse import DocumentLoad, Warehouse  # noqa: E402
from assets.normalize.codes import load_econ_catalog, load_function_catalog  # noqa: E402
from assets.normalize.regions import all_regions  # noqa: E402

DEPARTMENTS = [
    "教育局",
    "财政局",
    "农业农村局",
    "卫生健康委员会",
    "民政局",
    "人力资源和社会保障局",
    "公安局",
    "住房和城乡建设局",
    "交通运输局",
    "水利局",
    "自然资源局",
    "生态环境分局",
    "文化广电和旅游局",
    "统计局",
    "审计局",
    "市场监督管理局",
    "应急管理局",
    "政务服务中心",
    "城市管理局",
    "林业局",
    "司法局",
    "退役军人事务局",
    "医疗保障局",
    "商务局",
    "科学技术局",
    "发展和改革委员会",
    "工业和信息化局",
    "乡村振兴局",
    "档案馆",
    "机关事务服务中心",
]
#: more departments than the names above: numbered offices
DEPARTMENTS += [f"第{i}事务服务中心" for i in range(len(DEPARTMENTS) + 1, 121)]

QUERIES = {
    "cross-county rollup by 类 and year (mart.class_totals_by_region_year)": """
        SELECT fiscal_year, class_code, class_name, COUNT(*) AS counties, SUM(total_wan) AS total_wan
        FROM mart.class_totals_by_region_year GROUP BY fiscal_year, class_code, class_name
        ORDER BY fiscal_year, class_code""",
    "YoY change per department and 类, biggest cuts (mart.expenditure_yoy_by_department_class)": """
        SELECT region_name, department_name, class_name, fiscal_year, total_wan, prev_total_wan, change_wan
        FROM mart.expenditure_yoy_by_department_class WHERE fiscal_year = {last_year} AND change_wan IS NOT NULL
        ORDER BY change_wan LIMIT 20""",
    "YoY, one department over all years": """
        SELECT fiscal_year, class_code, total_wan, change_pct FROM mart.expenditure_yoy_by_department_class
        WHERE department_key = '{dept_key}' ORDER BY fiscal_year, class_code""",
    "one county-year's 项 rows (mart.expenditure_by_function)": """
        SELECT department_name, function_code, class_name, total_wan FROM mart.expenditure_by_function
        WHERE region_code = '{region}' AND fiscal_year = {last_year}""",
    "province-wide basic expenditure by economic code and year": """
        SELECT fiscal_year, econ_code, SUM(personnel_wan) AS personnel_wan, SUM(public_wan) AS public_wan
        FROM mart.basic_expenditure_by_economic GROUP BY fiscal_year, econ_code""",
}


def synthetic_partitions(
    counties: int, years: list[int], departments: int, functions: int, econs: int, seed: int = 7
) -> dict[tuple[str, int], list[DocumentLoad]]:
    rng = random.Random(seed)
    fcat = load_function_catalog()
    xiang = [e.code for e in fcat if e.level == "xiang" and e.valid_from is None and e.valid_to is None]
    ecat = load_econ_catalog()
    econ = [e for e in ecat.dept if e.level == "kuan" and e.valid_to is None]
    regions = [r for r in all_regions(include_historical=False) if r.level == "county" and r.province == "河南省"][
        :counties
    ]
    if len(regions) < counties:
        raise SystemExit(f"only {len(regions)} counties available")
    out: dict[tuple[str, int], list[DocumentLoad]] = {}
    for region in regions:
        dept_codes = {d: rng.sample(xiang, functions) for d in DEPARTMENTS[:departments]}
        dept_econ = {d: rng.sample(econ, econs) for d in DEPARTMENTS[:departments]}
        for year in years:
            loads = []
            for dept in DEPARTMENTS[:departments]:
                sha = hashlib.sha256(f"{region.code}/{year}/{dept}".encode()).hexdigest()
                name = f"{region.name}{dept}"
                doc = {
                    "document_sha256": sha,
                    "source_url": f"https://example.gov.cn/{region.code}/{sha[:8]}.pdf",
                    "region_code": region.code,
                    "fiscal_year": year,
                    "department_name": name,
                    "department_key": f"{region.code}:{dept}",
                    "doc_type": "budget",
                    "budget_phase": "budget",
                    "status": "loaded",
                    "page_count": 20,
                    "fetched_at": f"{year}-03-01T00:00:00+00:00",
                    "title": f"{year}年{name}部门预算",
                }
                facts = []
                for table in ("gpb_expenditure", "expenditure"):
                    for i, code in enumerate(dept_codes[dept]):
                        basic = Decimal(rng.randrange(0, 5_000_000_00)) / 100
                        project = Decimal(rng.randrange(0, 3_000_000_00)) / 100
                        facts.append(
                            {
                                "table_type": table,
                                "page": 13,
                                "row_index": i,
                                "row_kind": "detail",
                                "function_code": code,
                                "function_name": fcat.name_for(code, year),
                                "unit_code": "101",
                                "unit_name": name,
                                "total_yuan": basic + project,
                                "basic_yuan": basic,
                                "project_yuan": project,
                            }
                        )
                econ_rows = []
                for i, e in enumerate(dept_econ[dept]):
                    amount = Decimal(rng.randrange(0, 2_000_000_00)) / 100
                    personnel = e.code.startswith("301") or e.code.startswith("303")
                    econ_rows.append(
                        {
                            "table_type": "gpb_basic_expenditure",
                            "page": 14,
                            "row_index": i,
                            "row_kind": "detail",
                            "econ_code": e.code,
                            "econ_name": e.name,
                            "total_yuan": amount,
                            "personnel_yuan": amount if personnel else None,
                            "public_yuan": None if personnel else amount,
                        }
                    )
                tables = [
                    {
                        "table_type": tt,
                        "title": tt,
                        "first_page": 13,
                        "last_page": 13,
                        "unit": "万元",
                        "is_empty": False,
                        "row_count": n,
                    }
                    for tt, n in (
                        ("gpb_expenditure", functions),
                        ("expenditure", functions),
                        ("gpb_basic_expenditure", econs),
                    )
                ]
                loads.append(
                    DocumentLoad(doc, tables, {"fact_function_expenditure": facts, "fact_basic_economic": econ_rows})
                )
            out[(region.code, year)] = loads
    return out


def fact_rows(parts) -> int:
    return sum(len(rows) for loads in parts.values() for ld in loads for rows in ld.facts.values())


def engine_floor(url: str, parts) -> float:
    """Fact rows/s of the same partitions written by the engine alone into an empty warehouse at ``url``: Arrow
    tables (PostgreSQL: the CSV of the columns the rows give) made beforehand, then per partition one
    transaction of inserts and the commit, nothing else."""
    import io

    import pyarrow.csv as pa_csv

    from assets.load.warehouse import TableRows, _document_rows
    from warehouse_schema import tables as t

    prepared = []
    for key in sorted(parts):
        per = _document_rows(parts[key])
        per["document"] = TableRows([ld.document for ld in parts[key]])
        batch = []
        for name, rows in per.items():
            if len(rows):
                table = t.metadata.tables[f"core.{name}"]
                arrow = rows.arrow(table)
                if url.startswith("postgresql"):  # the columns the load's COPY sends: those the rows give
                    given = rows.names(table)
                    arrow = arrow.select([c.name for c in table.columns if c.name in given])
                    sink = io.BytesIO()
                    pa_csv.write_csv(arrow, sink, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
                    arrow = (arrow.column_names, sink.getvalue())
                batch.append((table, arrow))
        prepared.append(batch)
    wh = Warehouse(url)
    wh.ensure_schema()
    raw = wh.engine.raw_connection()
    t0 = time.perf_counter()
    if wh.dialect == "duckdb":
        con = raw.driver_connection
        for batch in prepared:
            con.execute("BEGIN")
            for table, arrow in batch:
                con.from_arrow(arrow).insert_into(table.fullname)
            con.execute("COMMIT")
    else:
        con = raw.dbapi_connection
        for batch in prepared:
            with con.cursor() as cur:
                for table, (names, csv) in batch:
                    cols = ", ".join(names)
                    with cur.copy(f"COPY {table.fullname} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
                        copy.write(csv)
            con.commit()
    seconds = time.perf_counter() - t0
    raw.close()
    wh.dispose()
    return fact_rows(parts) / seconds


def _load_keys(args) -> None:
    url, keys = args
    wh = Warehouse(url)
    for key in keys:
        wh.load_documents(_PARTS[key])
    wh.dispose()


_PARTS: dict = {}


def parallel_load(url: str, parts, processes: int) -> float:
    """Fact rows/s of the partitions loaded into an empty warehouse at ``url`` by ``processes`` processes at
    once, each its share of the partitions (PostgreSQL takes concurrent writers: ``backfill --workers N``)."""
    import multiprocessing

    Warehouse(url).ensure_schema()
    keys = sorted(parts)
    _PARTS.update(parts)  # the forked processes see them without pickling
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(_load_keys, [(url, keys[i::processes]) for i in range(processes)])
    return fact_rows(parts) / (time.perf_counter() - t0)


def bench_engine(label: str, url: str, parts, last_year: int, floor_url: str, parallel_url: str | None = None) -> None:
    print(f"\n== {label}")
    wh = Warehouse(url)
    t0 = time.perf_counter()
    wh.ensure_schema()
    print(f"schema + reference data: {time.perf_counter() - t0:.2f} s")
    n_facts = fact_rows(parts)
    n_all = n_facts + sum(1 + len(ld.tables) for loads in parts.values() for ld in loads)
    t0 = time.perf_counter()
    for key in sorted(parts):
        wh.load_documents(parts[key])
    load_s = time.perf_counter() - t0
    print(
        f"load: {len(parts)} partitions, {n_facts:,} fact rows ({n_all:,} rows with documents and tables) "
        f"in {load_s:.1f} s = {n_facts / load_s:,.0f} fact rows/s"
    )
    floor = engine_floor(floor_url, parts)
    print(
        f"the engine alone, same transactions (prepared Arrow/CSV, inserts + commit only): {floor:,.0f} fact rows/s; "
        f"the load runs at {n_facts / load_s / floor:.0%} of it"
    )
    if parallel_url:
        rate = parallel_load(parallel_url, parts, 2)
        print(f"load by 2 processes at once (backfill --workers 2): {rate:,.0f} fact rows/s")
    if wh.dialect == "postgresql":  # what autovacuum does after a bulk load; the deletes of a reload need the stats
        with wh.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    key = sorted(parts)[len(parts) // 2]
    t0 = time.perf_counter()
    wh.load_documents(parts[key])
    print(
        f"reload of one partition ({fact_rows({key: parts[key]}):,} fact rows, replace in one transaction): "
        f"{(time.perf_counter() - t0) * 1000:.0f} ms"
    )
    batch_keys = sorted(parts)[: max(1, len(parts) // 4)]
    batch = [ld for k in batch_keys for ld in parts[k]]
    n_batch = fact_rows({k: parts[k] for k in batch_keys})
    t0 = time.perf_counter()
    wh.load_documents(batch)
    s = time.perf_counter() - t0
    print(
        f"bulk replace of {len(batch_keys)} partitions in one transaction ({len(batch):,} documents, "
        f"{n_batch:,} fact rows, deletes included): {s:.1f} s = {n_batch / s:,.0f} fact rows/s"
    )
    if wh.dialect == "postgresql":
        with wh.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    region = key[0]
    loads = parts[key]
    params = {"last_year": last_year, "region": region, "dept_key": loads[0].document["department_key"]}
    for name, sql in QUERIES.items():
        sql = sql.format(**params)
        wh.query(sql)  # warm
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            cols, rows = wh.query(sql)
            times.append(time.perf_counter() - t0)
        print(f"query {name}: {min(times) * 1000:.0f} ms (best of 3), {len(rows)} rows")
    wh.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", default="duckdb,postgresql")
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--years", type=int, default=8, help="fiscal years ending 2025")
    ap.add_argument("--departments", type=int, default=25)
    ap.add_argument("--functions", type=int, default=25, help="function rows per table")
    ap.add_argument("--econs", type=int, default=10, help="economic rows per document")
    ap.add_argument(
        "--real-size",
        action="store_true",
        help="partitions of a real county's size: 80 departments × 272 fact rows (sets --departments 80 --functions "
        "110 --econs 52, and --counties 8 unless given)",
    )
    ap.add_argument(
        "--pg-url", default=os.environ.get("BUDGET_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    args = ap.parse_args()
    if args.real_size:
        args.departments, args.functions, args.econs = 80, 110, 52
        if "--counties" not in sys.argv:
            args.counties = 8
    years = list(range(2025 - args.years + 1, 2026))
    t0 = time.perf_counter()
    parts = synthetic_partitions(args.counties, years, args.departments, args.functions, args.econs)
    print(
        f"synthetic warehouse: {args.counties} counties × {len(years)} years × {args.departments} departments = "
        f"{sum(len(v) for v in parts.values()):,} documents, {fact_rows(parts):,} fact rows "
        f"(generated in {time.perf_counter() - t0:.1f} s)"
    )
    engines = args.engines.split(",")
    if "duckdb" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            bench_engine(
                "DuckDB " + __import__("duckdb").__version__,
                f"duckdb:///{tmp}/bench.duckdb",
                parts,
                years[-1],
                f"duckdb:///{tmp}/floor.duckdb",
            )
    if "postgresql" in engines:
        admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        names = [f"budget_bench_{uuid.uuid4().hex[:8]}" for _ in range(3)]  # the load's, the floor's, 2 processes'
        with admin.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            for name in names:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        base = args.pg_url.rsplit("/", 1)[0]
        try:
            urls = [f"{base}/{name}" for name in names]
            bench_engine(f"PostgreSQL {version}", urls[0], parts, years[-1], urls[1], urls[2])
        finally:
            with admin.connect() as conn:
                for name in names:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
