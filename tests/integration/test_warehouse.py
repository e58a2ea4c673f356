"""Warehouse loads and the mart contract, on DuckDB and PostgreSQL for real.

The documents are the generated small corpus' ground truth (every table type,
including the 财政拨款收支, 项目 and 绩效 tables), turned into extraction results
and through the normal normalize → build_loads → Warehouse path; the end-to-end
ingest with real extraction is in tests/integration/test_warehouse_pg.py and test_pipeline.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
import sqlalchemy as sa

from assets.load.planning import build_loads
from assets.load.reference import reference_rows
from assets.load.warehouse import DocumentLoad, DuplicateKey, Warehouse, bulk_insert
from assets.normalize.codes import load_function_catalog
from assets.normalize.facts import normalize_document
from assets.records import DOC_BUDGET, ExtractedRow, ExtractedTable, ExtractionResult, ManifestEntry
from assets.validate.verdicts import judge
from warehouse_schema import tables as t

REPO = Path(__file__).resolve().parents[2]

TEXT_KEYS = {
    "kind",
    "name",
    "function_code",
    "unit_code",
    "econ_code",
    "econ_name",
    "gov_econ_code",
    "gov_econ_name",
    "income_item",
    "expense_item",
    "category",
    "project_name",
    "project_unit",
    "project_code",
    "indicator_l1",
    "indicator_l2",
    "indicator_l3",
    "indicator_type",
    "indicator",
    "target",
    "description",
}


# --------------------------------------------------------------------------- the corpus as loads


def truth_result(truth: dict, sha: str) -> ExtractionResult:
    """An extraction result carrying exactly the generator's ground truth."""
    tables = []
    for key, tb in truth["tables"].items():
        pages = tb["pages"] or [0]
        rows = []
        for i, r in enumerate(tb["rows"]):
            values = {
                k: (v if k in TEXT_KEYS else Decimal(str(v).replace(",", ""))) for k, v in r.items() if k != "kind"
            }
            rows.append(
                ExtractedRow(
                    page=pages[min(i * len(pages) // max(len(tb["rows"]), 1), len(pages) - 1)],
                    row_index=i,
                    values=values,
                    kind=r["kind"],
                )
            )
        tables.append(ExtractedTable(key, tb["title"], pages, tb["unit"], rows, empty=tb["empty"], note=tb.get("note")))
    return ExtractionResult(
        sha,
        truth["page_count"] or 0,
        tables,
        title=truth["title"],
        fiscal_year=truth["fiscal_year"],
        department=truth["department"],
    )


def corpus_partitions(site: Path) -> dict[tuple[int, str], list[DocumentLoad]]:
    """(year, region) → the loads of the small corpus, as the load asset builds them."""
    index = json.loads((site / "truth" / "index.json").read_text(encoding="utf-8"))
    crawled: dict[str, list[ManifestEntry]] = {}
    truths = {}
    for d in index["documents"]:
        truth = json.loads((site / d["truth"]).read_text(encoding="utf-8"))
        sha = hashlib.sha256(d["doc_id"].encode() + d["doc_type"].encode()).hexdigest()
        entry = ManifestEntry(
            url=d["url"],
            region_code=d["region_code"],
            sha256=sha,
            year=d["fiscal_year"],
            department=d["department"],
            doc_type=d["doc_type"],
            title=truth["title"],
            fetched_at="2025-01-01T00:00:00+00:00",
            page_count=truth["page_count"],
            status="fetched" if d["doc_type"] == DOC_BUDGET else "skipped",
        )
        crawled.setdefault(d["region_code"], []).append(entry)
        truths[sha] = truth
    out = {}
    for region, entries in crawled.items():
        for year in sorted({e.year for e in entries}):
            extracted = {
                e.sha256: (e, truth_result(truths[e.sha256], e.sha256))
                for e in entries
                if e.year == year and e.doc_type == DOC_BUDGET
            }
            normalized = {sha: normalize_document(res, year) for sha, (_, res) in extracted.items()}
            verdicts = {sha: judge(extracted[sha][1], normalized[sha]) for sha in normalized}
            out[(year, region)] = build_loads(entries, year, extracted, normalized, verdicts)
    return out


@pytest.fixture(scope="module")
def partitions(sample_portal_dir):
    return corpus_partitions(sample_portal_dir)


@pytest.fixture(params=["duckdb", "postgresql"])
def url(request):
    return request.getfixturevalue("duckdb_url" if request.param == "duckdb" else "pg_url")


def open_wh(url: str) -> Warehouse:
    wh = Warehouse(url)
    wh.ensure_schema()
    return wh


def load_all(wh: Warehouse, partitions) -> None:
    for key in sorted(partitions):
        wh.load_documents(partitions[key])


CHECKSUM_TABLES = [tb for tb in t.metadata.sorted_tables if tb.name != "reference_state"]


def checksums(wh: Warehouse) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent hash of every table's rows."""
    out = {}
    for table in CHECKSUM_TABLES:
        cols, data = wh.query(f"SELECT * FROM {table.fullname}")
        lines = sorted(json.dumps([None if v is None else str(v) for v in r], ensure_ascii=False) for r in data)
        out[table.fullname] = (len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest())
    return out


def rows(wh: Warehouse, sql: str) -> list[tuple]:
    return wh.query(sql)[1]


def wan(yuan: Decimal) -> Decimal:
    return (yuan / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- tests


def test_reference_dimensions_come_from_the_catalogs(url):
    wh = open_wh(url)
    ref = reference_rows()
    for name, expected in ref.items():
        ((n,),) = rows(wh, f"SELECT COUNT(*) FROM core.{name}")
        assert n == len(expected), name
    assert len(ref["dim_function_code"]) > 800 and len(ref["dim_region"]) > 3000
    # year-versioned names: 207 was renamed for 2019
    got = dict(
        rows(
            wh,
            """SELECT y.fiscal_year, c.name FROM core.dim_fiscal_year y JOIN core.dim_function_code c
        ON c.function_code = '207' AND (c.valid_from IS NULL OR y.fiscal_year >= c.valid_from)
        AND (c.valid_to IS NULL OR y.fiscal_year <= c.valid_to) WHERE y.fiscal_year IN (2018, 2019)""",
        )
    )
    assert got == {2018: "文化体育与传媒支出", 2019: "文化旅游体育与传媒支出"}
    assert rows(wh, "SELECT relation FROM core.function_code_crosswalk WHERE old_code = '207'") == [("renamed",)]
    assert ("50501",) in rows(
        wh, "SELECT gov_code FROM core.econ_code_correspondence WHERE dept_code = '30107' AND unit_kind = 'institution'"
    )
    assert rows(wh, "SELECT region_name, prefecture, province FROM core.dim_region WHERE region_code = '410329'") == [
        ("伊川县", "洛阳市", "河南省")
    ]
    assert rows(wh, "SELECT name_zh FROM core.dim_budget_phase ORDER BY budget_phase") == [("预算",), ("决算",)]
    assert rows(wh, "SELECT fact_table FROM core.dim_table_template WHERE table_type = 'three_public'") == [
        ("fact_three_public",)
    ]
    # unchanged catalogs: nothing reloaded; a forced reload leaves the same contents
    before = checksums(wh)
    assert wh.load_reference() is False
    assert wh.load_reference(force=True) is True
    assert checksums(wh) == before
    wh.dispose()


def test_loading_the_corpus_twice_leaves_identical_tables(url, partitions):
    wh = open_wh(url)
    load_all(wh, partitions)
    first = checksums(wh)
    assert first["core.fact_function_expenditure"][0] > 50
    for name in (
        "fact_revenue",
        "fact_budget_summary",
        "fact_fiscal_appropriation",
        "fact_project_expenditure",
        "fact_three_public",
        "fact_performance_target",
        "fact_basic_economic",
    ):
        assert first[f"core.{name}"][0] > 0, name
    load_all(wh, partitions)
    wh.ensure_schema()
    assert checksums(wh) == first
    wh.dispose()


def _seed(partitions) -> DocumentLoad:
    return next(ld for ld in partitions[(2024, "410329")] if ld.document["department_name"] == "伊川县政务服务中心")


def test_mart_views_carry_the_printed_figures(url, partitions):
    wh = open_wh(url)
    load_all(wh, partitions)
    seed_sha = _seed(partitions).document["document_sha256"]
    got = rows(
        wh,
        f"""
        SELECT function_code, function_name, class_code, class_name, total_wan, basic_wan, project_wan,
               function_name_canonical, unit_name, department_key
        FROM mart.expenditure_by_function WHERE document_sha256 = '{seed_sha}' ORDER BY function_code""",
    )
    assert [r[0] for r in got] == ["2010306", "2080502", "2080505", "2101101", "2101199"]
    assert got[0][1:7] == (
        "政务公开审批",
        "201",
        "一般公共服务支出",
        Decimal("1120.30"),
        Decimal("884.30"),
        Decimal("236.00"),
    )
    # class names from the function-code dimension (the document prints no 类 rows)
    assert {r[2]: r[3] for r in got} == {"201": "一般公共服务支出", "208": "社会保障和就业支出", "210": "卫生健康支出"}
    assert got[0][7] == "政务公开审批" and got[0][8] == "伊川县政务服务中心" and got[0][9] == "410329:政务服务中心"
    assert sum(r[4] for r in got) == Decimal("1145.25")

    # 三公, revenue, 财政拨款收支 of the 2023 document (truth: 16.21 = 5.02 + 11.19)
    doc23 = next(ld for ld in partitions[(2023, "410329")] if ld.document["department_name"] == "伊川县政务服务中心")
    sha23 = doc23.document["document_sha256"]
    assert rows(
        wh,
        f"SELECT total_wan, outbound_wan, vehicle_total_wan, reception_wan FROM mart.three_public "
        f"WHERE document_sha256 = '{sha23}'",
    ) == [(Decimal("16.21"), Decimal("0.00"), Decimal("5.02"), Decimal("11.19"))]  # blank 出国 cell: 0.00
    rev = rows(
        wh,
        f"""SELECT item_name, revenue_category, fund_source, is_of_which, amount_wan, category_kind
        FROM mart.revenue_by_source WHERE document_sha256 = '{sha23}' AND amount_wan <> 0 ORDER BY page""",
    )
    by_item = {r[0]: r[1:] for r in rev}
    assert by_item["一、一般公共预算"] == (
        "general_public_budget",
        "general_public_budget",
        False,
        Decimal("1146.01"),
        "revenue",
    )
    assert by_item["其中：财政拨款"] == (
        "fiscal_allocation",
        "general_public_budget",
        True,
        Decimal("1146.01"),
        "revenue",
    )
    assert sum(r[4] for r in rev if r[5] == "revenue" and not r[3]) == Decimal("1146.01")
    fa = rows(
        wh,
        f"""SELECT side, item_name, class_code, class_name, total_wan, gpb_fiscal_wan
        FROM mart.fiscal_appropriation WHERE document_sha256 = '{sha23}' AND side = 'expense'
        AND item_kind = 'expenditure' AND total_wan IS NOT NULL ORDER BY row_index""",
    )
    assert fa[0] == (
        "expense",
        "（一）一般公共服务支出",
        "201",
        "一般公共服务支出",
        Decimal("885.97"),
        Decimal("885.97"),
    )
    revf = rows(
        wh,
        f"""SELECT function_code, class_name, revenue_category, amount_wan FROM mart.revenue_by_function
        WHERE document_sha256 = '{sha23}' AND function_code = '2010306'""",
    )
    assert ("2010306", "一般公共服务支出", "general_public_budget", Decimal("885.97")) in revf

    # projects and performance targets of a document that has them (农业农村局 2023, printed in 元)
    agri = next(ld for ld in partitions[(2023, "410329")] if ld.document["department_name"] == "伊川县农业农村局")
    asha = agri.document["document_sha256"]
    truth_projects = [r for r in agri.facts["fact_project_expenditure"] if r["row_kind"] == "detail"]
    got = rows(
        wh,
        f"SELECT project_name, category, total_wan, gpb_wan FROM mart.project_expenditure "
        f"WHERE document_sha256 = '{asha}'",
    )
    assert len(got) == len(truth_projects) > 0
    assert sum(r[2] for r in got) == sum(wan(r["total_yuan"]) for r in truth_projects)
    assert ("2023年高标准农田建设前期工作经费", "特定目标类", Decimal("45.44"), Decimal("45.44")) in got
    by_source = rows(
        wh,
        f"SELECT fund_source, funding, SUM(amount_wan) FROM mart.project_expenditure_by_fund_source "
        f"WHERE document_sha256 = '{asha}' GROUP BY fund_source, funding",
    )
    assert by_source == [("general_public_budget", "current_year", sum(r[3] for r in got))]
    perf = rows(
        wh,
        f"""SELECT target_scope, project_name, indicator_l1, indicator_l3, target_text, target_operator,
               target_value, target_unit FROM mart.performance_targets WHERE document_sha256 = '{asha}'""",
    )
    assert (
        "project",
        "2023年高标准农田建设前期工作经费",
        "产出指标",
        "完成年度工作任务",
        "100%",
        "=",
        Decimal("100"),
        "%",
    ) in perf
    dept = rows(
        wh,
        f"""SELECT indicator_l3, target_text, target_operator, target_value, target_unit
        FROM mart.performance_targets WHERE document_sha256 = '{sha23}' AND target_scope = 'department'""",
    )
    assert len(dept) == 11
    assert ("预算执行率", "≥91%", ">=", Decimal("91"), "%") in dept
    assert ("年度履职目标相关性", "相关", None, None, None) in dept
    wh.dispose()


def test_amounts_printed_in_yuan_are_exact_in_wan(url, partitions):
    wh = open_wh(url)
    load_all(wh, partitions)
    agri = next(ld for ld in partitions[(2023, "410329")] if ld.document["department_name"] == "伊川县农业农村局")
    facts = [
        r
        for r in agri.facts["fact_function_expenditure"]
        if r["table_type"] == "gpb_expenditure" and r["row_kind"] == "detail"
    ]
    assert any(r["total_yuan"] % 100 for r in facts)  # 元 amounts with 分: rounding matters
    got = dict(
        rows(
            wh,
            f"""SELECT function_code || '/' || unit_code, total_wan FROM mart.expenditure_by_function
        WHERE document_sha256 = '{agri.document["document_sha256"]}'""",
        )
    )
    assert got == {f"{r['function_code']}/{r['unit_code']}": wan(r["total_yuan"]) for r in facts}
    # the exact 元 stay in core
    ((total,),) = rows(
        wh,
        f"""SELECT SUM(total_yuan) FROM core.fact_function_expenditure WHERE document_sha256 =
        '{agri.document["document_sha256"]}' AND table_type = 'gpb_expenditure' AND row_kind = 'detail'""",
    )
    assert total == sum(r["total_yuan"] for r in facts)
    # multi-unit: the rows carry their 单位
    units = {
        r[0]
        for r in rows(
            wh,
            f"""SELECT DISTINCT unit_name FROM mart.expenditure_by_function
        WHERE document_sha256 = '{agri.document["document_sha256"]}'""",
        )
    }
    assert units == {
        "伊川县农业农村局机关",
        "伊川县农业技术推广中心",
        "伊川县动物疫病预防控制中心",
        "伊川县农村经营管理站",
    }
    wh.dispose()


def test_cross_county_and_year_over_year_views(url, partitions, tmp_path):
    wh = open_wh(url)
    load_all(wh, partitions)
    # each county's totals by 类 per year = the sum of its departments' 项 rows
    expected: dict[tuple, Decimal] = {}
    for (year, region), loads in partitions.items():
        for ld in loads:
            if ld.document["status"] != "loaded":
                continue
            for r in ld.facts["fact_function_expenditure"]:
                if r["table_type"] == "gpb_expenditure" and r["row_kind"] == "detail" and len(r["function_code"]) == 7:
                    k = (region, year, r["function_code"][:3])
                    expected[k] = expected.get(k, Decimal(0)) + r["total_yuan"]
    got = {
        (r[0], r[1], r[2]): r[3]
        for r in rows(
            wh,
            """SELECT region_code, fiscal_year, class_code, total_wan
        FROM mart.class_totals_by_region_year""",
        )
    }
    assert got == {k: wan(v) for k, v in expected.items()}
    ((name,),) = rows(wh, "SELECT DISTINCT class_name FROM mart.class_totals_by_region_year WHERE class_code = '201'")
    assert name == "一般公共服务支出"

    def yoy(dept_key):
        return {
            (r[0], r[1]): r[2:]
            for r in rows(
                wh,
                f"""SELECT fiscal_year, class_code, total_wan, prev_total_wan,
            change_wan, change_pct FROM mart.expenditure_yoy_by_department_class
            WHERE department_key = '{dept_key}'""",
            )
        }

    def class_totals(ld):
        out: dict[str, Decimal] = {}
        for r in ld.facts["fact_function_expenditure"]:
            if r["table_type"] == "gpb_expenditure" and r["row_kind"] == "detail":
                out[r["function_code"][:3]] = out.get(r["function_code"][:3], Decimal(0)) + r["total_yuan"]
        return out

    seed = _seed(partitions)
    doc23 = next(ld for ld in partitions[(2023, "410329")] if ld.document["department_name"] == "伊川县政务服务中心")
    c24, c23 = class_totals(seed), class_totals(doc23)
    got = yoy("410329:政务服务中心")
    for cls in c24:
        now, prev = wan(c24[cls]), wan(c23.get(cls, Decimal(0)))
        assert got[(2024, cls)][:3] == (now, prev, wan(c24[cls] - c23.get(cls, Decimal(0)))), cls
    assert got[(2023, "201")][1:] == (None, None, None)  # no 2022 document: no previous year
    pct = got[(2024, "201")][3]
    assert pct == ((c24["201"] - c23["201"]) * 100 / c23["201"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    # a renamed department: the crosswalk links the 2023 name to the 2024 one
    renamed = [
        replace(
            ld,
            document=dict(ld.document, department_name="伊川县政务服务办公室", department_key="410329:政务服务办公室"),
        )
        if ld is doc23
        else ld
        for ld in partitions[(2023, "410329")]
    ]
    wh.load_documents(renamed)
    assert (2024, "201") not in yoy("410329:政务服务中心") or yoy("410329:政务服务中心")[(2024, "201")][1] is None
    xw = tmp_path / "department_crosswalk.csv"
    xw.write_text(
        "region_code,old_name,new_name,from_year,relation,note\n"
        "410329,伊川县政务服务办公室,伊川县政务服务中心,2024,renamed,test\n",
        encoding="utf-8",
    )
    assert wh.load_reference(department_crosswalk=xw) is True
    assert yoy("410329:政务服务中心")[(2024, "201")][:2] == (wan(c24["201"]), wan(c23["201"]))
    dept = rows(
        wh,
        """SELECT department_key, current_department_key, department_name, first_year, last_year
        FROM mart.departments WHERE region_code = '410329' AND department_key LIKE '%政务服务%' ORDER BY 1""",
    )
    assert dept == [
        ("410329:政务服务中心", "410329:政务服务中心", "伊川县政务服务中心", 2024, 2024),
        ("410329:政务服务办公室", "410329:政务服务中心", "伊川县政务服务办公室", 2023, 2023),
    ]
    wh.dispose()


def test_a_failure_mid_load_leaves_the_previous_state(url, partitions):
    wh = open_wh(url)
    load_all(wh, partitions)
    before = checksums(wh)
    loads = partitions[(2024, "410329")]
    # a second version of the partition: changed figures, and a broken row in the last fact table written
    changed = []
    for ld in loads:
        facts = {
            k: [dict(r, total_yuan=(r["total_yuan"] or 0) + 1) if "total_yuan" in r else dict(r) for r in v]
            for k, v in ld.facts.items()
        }
        changed.append(replace(ld, document=dict(ld.document, status_reason="second version"), facts=facts))
    broken = next(ld for ld in changed if ld.facts["fact_performance_target"])
    broken.facts["fact_performance_target"][-1]["page"] = None  # NOT NULL: fails after the other tables
    with pytest.raises((sa.exc.DBAPIError, duckdb.Error, psycopg.Error)):  # NOT NULL violated, either engine
        wh.load_documents(changed)
    assert checksums(wh) == before
    wh.dispose()


CRASH = r"""
import os, sys, pickle
import assets.load.warehouse as w
from assets.load.warehouse import Warehouse
loads = pickle.load(open(sys.argv[2], "rb"))
real = w.bulk_insert
def crashing(conn, table, rows, **kw):
    n = real(conn, table, rows, **kw)
    if table.name == "fact_revenue":
        os._exit(3)  # the process dies mid-transaction, after deletes and some inserts
    return n
w.bulk_insert = crashing
Warehouse(sys.argv[1]).load_documents(loads)
"""


def test_a_crash_mid_load_leaves_the_previous_state(url, partitions, tmp_path):
    import pickle

    wh = open_wh(url)
    load_all(wh, partitions)
    before = checksums(wh)
    wh.dispose()
    changed = [
        replace(
            ld,
            document=dict(ld.document, status_reason="crashed version"),
            facts={
                k: [dict(r, total_yuan=Decimal(1)) if "total_yuan" in r else r for r in v] for k, v in ld.facts.items()
            },
        )
        for ld in partitions[(2024, "410329")]
    ]
    blob = tmp_path / "loads.pickle"
    blob.write_bytes(pickle.dumps(changed))
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, url, str(blob)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    wh = Warehouse(url)
    assert checksums(wh) == before
    wh.dispose()


def test_names_with_quotes_and_chinese_punctuation_round_trip(url):
    wh = open_wh(url)
    names = [
        "伊川县“三公”经费管理办公室（本级）",
        'O\'Brien "quoted" 单位\\反斜杠',
        "名称，含；中文：标点、《书名号》【括号】——破折号…省略号",
        "tab\there, newline\nthere, carriage\rreturn",
        "全角１２３ＡＢＣ　空格",
    ]
    sha = "f" * 64
    facts = {
        "fact_project_expenditure": [
            {
                "table_type": "project_expenditure",
                "page": 3,
                "row_index": i,
                "row_kind": "detail",
                "project_name": n,
                "category": "特定目标类",
                "project_unit": n[::-1],
                "total_yuan": Decimal("1234567890123.45") + i,
            }
            for i, n in enumerate(names)
        ]
    }
    doc = {
        "document_sha256": sha,
        "region_code": "410329",
        "fiscal_year": 2024,
        "department_name": names[1],
        "department_key": "410329:" + names[1],
        "doc_type": "budget",
        "status": "loaded",
        "title": names[2],
    }
    wh.load_document(DocumentLoad(doc, facts=facts))
    got = rows(
        wh,
        f"SELECT project_name, project_unit, total_yuan FROM core.fact_project_expenditure "
        f"WHERE document_sha256 = '{sha}' ORDER BY row_index",
    )
    assert got == [(n, n[::-1], Decimal("1234567890123.45") + i) for i, n in enumerate(names)]
    assert rows(wh, f"SELECT department_name, title FROM mart.documents WHERE document_sha256 = '{sha}'") == [
        (names[1], names[2])
    ]
    wh.dispose()


def test_two_partitions_loading_at_once_do_not_interfere(url, partitions, tmp_path):
    keys = sorted(partitions)
    wh = open_wh(url)
    load_all(wh, partitions)
    expected = checksums(wh)
    # start again from the reference data only, then load the partitions from two threads at once, repeatedly
    wh.delete_documents([ld.document["document_sha256"] for k in keys for ld in partitions[k]])
    errors: list[BaseException] = []

    def worker(my_keys):
        try:
            w = Warehouse(url)
            for _ in range(3):
                for k in my_keys:
                    w.load_documents(partitions[k])
            w.dispose()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(keys[i::2],)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert checksums(wh) == expected
    wh.dispose()


def test_ensure_schema_is_idempotent_and_upgrades_an_older_duckdb_file(duckdb_url):
    import sqlalchemy as sa

    # a DuckDB file made before department_key / unit_name existed
    eng = sa.create_engine(duckdb_url)
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA core")
        conn.exec_driver_sql(
            "CREATE TABLE core.document (document_sha256 VARCHAR(64) PRIMARY KEY, "
            "department_name TEXT, budget_phase TEXT DEFAULT 'budget' NOT NULL, status TEXT NOT NULL)"
        )
        conn.exec_driver_sql("INSERT INTO core.document VALUES ('a', '教育局', 'budget', 'loaded')")
    eng.dispose()
    wh = open_wh(duckdb_url)
    wh.ensure_schema()
    assert rows(wh, "SELECT document_sha256, department_key, region_code FROM core.document") == [("a", None, None)]
    assert rows(wh, "SELECT COUNT(*) FROM mart.documents") == [(1,)]
    wh.dispose()


def test_class_name_follows_the_fiscal_year(url):
    """A 207 row printed in 2018 and in 2019: the class name valid in each year."""
    wh = open_wh(url)
    cat = load_function_catalog()
    for year in (2018, 2019):
        sha = f"{year}".ljust(64, "0")
        doc = {
            "document_sha256": sha,
            "region_code": "410329",
            "fiscal_year": year,
            "department_name": "文化局",
            "department_key": "410329:文化局",
            "doc_type": "budget",
            "status": "loaded",
        }
        fact = {
            "table_type": "gpb_expenditure",
            "page": 1,
            "row_index": 0,
            "row_kind": "detail",
            "function_code": "2070109",
            "function_name": "群众文化",
            "total_yuan": Decimal("100000.00"),
        }
        wh.load_document(DocumentLoad(doc, facts={"fact_function_expenditure": [fact]}))
    got = dict(
        rows(wh, "SELECT fiscal_year, class_name FROM mart.expenditure_by_function WHERE department_name = '文化局'")
    )
    assert got == {2018: cat.name_for("207", 2018), 2019: cat.name_for("207", 2019)}
    assert got[2018] != got[2019]
    wh.dispose()


def test_readme_example_queries_run(url, partitions):
    """Every example query of README "Querying the warehouse" runs on this engine and most return rows."""
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Querying the warehouse") : text.index("**Schemas.**")]
    statements = [
        s.strip()
        for block in re.findall(r"```sql\n(.*?)```", section, re.S)
        for s in block.split(";")
        if s.strip() and not all(line.startswith("--") for line in s.strip().splitlines())
    ]
    assert len(statements) >= 8
    wh = open_wh(url)
    load_all(wh, partitions)
    empty = []
    for sql in statements:
        cols, data = wh.query(sql)
        assert cols, sql
        if not data:
            empty.append(sql.splitlines()[0])
    # the sample corpus has no 洛阳 county outside the corpus, no >100 万元 project … but most queries return rows
    assert len(empty) <= 2, empty
    wh.dispose()


# --------------------------------------------------------------------------- pure parts


def test_performance_targets_parse_into_operator_value_unit():
    from assets.normalize.facts import parse_target

    assert parse_target("≥91%") == (">=", Decimal("91"), "%")
    assert parse_target("≤10%") == ("<=", Decimal("10"), "%")
    assert parse_target("100%") == ("=", Decimal("100"), "%")
    assert parse_target("１，２００人次") == ("=", Decimal("1200"), "人次")
    assert parse_target("不低于95") == (">=", Decimal("95"), None)
    assert parse_target("相关") == (None, None, None)
    assert parse_target("2024年12月底前") == (None, None, None)
    assert parse_target("12月底前") == (None, None, None)


def test_expense_labels_name_their_class():
    from assets.normalize.facts import expense_label_class

    assert expense_label_class("（一）一般公共服务支出", 2023) == ("expenditure", "201")
    assert expense_label_class("五、教育", 2023) == ("expenditure", "205")
    assert expense_label_class("（七）文化旅游体育与传媒支出", 2023) == ("expenditure", "207")
    assert expense_label_class("一、本年支出", 2023) == ("total", None)
    assert expense_label_class("支出合计", 2023) == ("total", None)
    assert expense_label_class("二、年终结转结余", 2023) == ("carryover", None)
    assert expense_label_class("三、其他什么", 2023) == (None, None)


def test_department_crosswalk_resolves_chains_and_rejects_cycles(tmp_path):
    from assets.load.reference import department_crosswalk_rows

    xw = tmp_path / "x.csv"
    xw.write_text(
        "region_code,old_name,new_name,from_year,relation,note\n"
        "410329,伊川县农业局,伊川县农业农村局,2019,renamed,\n"
        "410329,农业农村局,伊川县农业农村和水利局,2023,merged,\n",
        encoding="utf-8",
    )
    got = {r["old_department_key"]: r["new_department_key"] for r in department_crosswalk_rows(xw)}
    assert got == {"410329:农业局": "410329:农业农村和水利局", "410329:农业农村局": "410329:农业农村和水利局"}
    xw.write_text(
        "region_code,old_name,new_name,from_year,relation,note\n"
        "410329,甲局,乙局,2019,renamed,\n410329,乙局,甲局,2020,renamed,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="cycle"):
        department_crosswalk_rows(xw)


def test_a_unit_budget_is_counted_once_beside_its_department_budget(url, partitions):
    """A 单位预算 (one unit's own budget, filed under its department) and the department's 部门预算 (which
    consolidates that unit) are both loaded and queryable; the roll-ups count each amount once."""
    wh = open_wh(url)
    seed = _seed(partitions)
    dept = replace(
        seed,
        document=dict(seed.document, budget_level="department", budget_units="伊川县政务服务中心|伊川县政务大厅管理所"),
    )
    sha = "f" * 64

    def own(rows):
        return [dict(r, document_sha256=sha) for r in rows]

    unit = DocumentLoad(
        document=dict(
            seed.document,
            document_sha256=sha,
            source_url="file:///unit.pdf",
            department_name="伊川县政务大厅管理所",
            department_key="410329:政务大厅管理所",
            budget_level="unit",
            parent_department=None,
            parent_department_key=None,
        ),
        tables=own(seed.tables),
        facts={k: own(v) for k, v in seed.facts.items()},
        findings=[],
    )
    wh.load_documents([dept, unit])
    ((one,),) = rows(
        wh,
        "SELECT SUM(total_yuan) FROM mart.expenditure_by_function WHERE document_sha256 = "
        f"'{seed.document['document_sha256']}'",
    )
    # both documents are in the fact views …
    assert rows(
        wh,
        "SELECT COUNT(DISTINCT document_sha256) FROM mart.expenditure_by_function "
        "WHERE fiscal_year = 2024 AND region_code = '410329' AND department_key IN "
        "('410329:政务服务中心', '410329:政务大厅管理所')",
    ) == [(2,)]
    # … the unit is named in its department's budget: it is left out of the roll-ups
    got = dict(
        rows(
            wh,
            f"SELECT department_name, in_rollups FROM mart.documents WHERE document_sha256 IN "
            f"('{sha}', '{seed.document['document_sha256']}')",
        )
    )
    assert got == {"伊川县政务服务中心": True, "伊川县政务大厅管理所": False}
    total = rows(
        wh,
        "SELECT SUM(total_yuan) FROM mart.class_totals_by_region_year WHERE fiscal_year = 2024 AND "
        "region_code = '410329'",
    )[0][0]
    others = rows(
        wh,
        "SELECT SUM(total_yuan) FROM mart.expenditure_by_function WHERE fiscal_year = 2024 AND "
        f"region_code = '410329' AND document_sha256 <> '{sha}'",
    )[0][0]
    assert total == others and one == Decimal("11452500.00")
    # a unit whose department's consolidated budget is not loaded counts on its own
    wh.load_documents([replace(dept, document=dict(dept.document, budget_units=None)), unit])
    assert dict(
        rows(wh, f"SELECT department_name, in_rollups FROM mart.documents WHERE document_sha256 = '{sha}'")
    ) == {"伊川县政务大厅管理所": True}
    wh.dispose()


def _doc(sha: str, url: str | None, **kw) -> dict:
    return {
        "document_sha256": sha,
        "source_url": url,
        "region_code": "410329",
        "fiscal_year": 2024,
        "department_name": "伊川县统计局",
        "department_key": "410329:伊川县统计局",
        "doc_type": "budget",
        "status": "loaded",
        **kw,
    }


def test_a_new_version_at_a_url_supersedes_the_old_ones_in_one_query(url):
    """Loads supersede older versions of a URL set-wise (one SELECT, an UPDATE only for what changes): the
    same outcome as one UPDATE per document, across partitions and within one load."""
    wh = open_wh(url)
    a, b, c, other = "a" * 64, "b" * 64, "c" * 64, "d" * 64
    u, v = "https://example.gov.cn/a.pdf", "https://example.gov.cn/other.pdf"
    assert wh.load_documents([DocumentLoad(_doc(a, u)), DocumentLoad(_doc(other, v))])["superseded"] == 0
    assert wh.load_documents([DocumentLoad(_doc(b, u))])["superseded"] == 1
    got = dict((r[0], r[1:]) for r in rows(wh, "SELECT document_sha256, status, status_reason FROM core.document"))
    assert got[a] == ("superseded", f"replaced by {b[:12]} published at the same URL")
    assert got[b][0] == "loaded" and got[other][0] == "loaded"
    # reloading b changes nothing; a third version supersedes b and leaves a's reason as it was
    assert wh.load_documents([DocumentLoad(_doc(b, u))])["superseded"] == 0
    assert wh.load_documents([DocumentLoad(_doc(c, u))])["superseded"] == 1
    got = dict((r[0], r[1:]) for r in rows(wh, "SELECT document_sha256, status, status_reason FROM core.document"))
    assert got[a] == ("superseded", f"replaced by {b[:12]} published at the same URL")
    assert got[b] == ("superseded", f"replaced by {c[:12]} published at the same URL")
    assert got[c][0] == "loaded" and got[other][0] == "loaded"
    wh.dispose()


def test_bulk_insert_keeps_amounts_exact_on_both_paths(url):
    """Amounts travel as exact decimal128 (DuckDB: Arrow) or as COPY text; a value with more places than the
    column (or of another type) takes the text path, rounded by SQL's cast as before."""
    wh = open_wh(url)
    sha = "e" * 64
    amounts = [Decimal("0.01"), Decimal("-12345678901234567.89"), Decimal("99999999999999999.99"), None, Decimal("7")]
    facts = {
        "fact_three_public": [
            {"table_type": "three_public", "page": 1, "row_index": i, "row_kind": "detail", "total_yuan": x}
            for i, x in enumerate(amounts)
        ]
    }
    wh.load_document(DocumentLoad(_doc(sha, None), facts=facts))
    got = [
        r[0]
        for r in rows(
            wh, f"SELECT total_yuan FROM core.fact_three_public WHERE document_sha256 = '{sha}' ORDER BY row_index"
        )
    ]
    assert got == [x if x is None else x.quantize(Decimal("0.01")) for x in amounts]
    facts["fact_three_public"].append(
        {"table_type": "three_public", "page": 1, "row_index": 9, "row_kind": "detail", "total_yuan": Decimal("1.005")}
    )
    wh.load_document(DocumentLoad(_doc(sha, None), facts=facts))
    got = rows(wh, f"SELECT total_yuan FROM core.fact_three_public WHERE document_sha256 = '{sha}' AND row_index = 9")
    assert got == [(Decimal("1.01"),)]
    wh.dispose()


def _fact(i: int, amount: str = "1.00", **kw) -> dict:
    return {
        "table_type": "three_public",
        "page": 1,
        "row_index": i,
        "row_kind": "detail",
        "total_yuan": Decimal(amount),
        **kw,
    }


def test_two_rows_with_one_key_fail_the_load_and_write_nothing(url):
    """The tables of documents keep their keys on both engines: PostgreSQL by its constraint, DuckDB (whose
    file holds none: an ART index cost a load over half its time) by the load's own check, before any
    statement. Either way the load fails naming the table and key, and the warehouse keeps its state."""
    wh = open_wh(url)
    sha = "k" * 64
    wh.load_document(DocumentLoad(_doc(sha, None), facts={"fact_three_public": [_fact(0, "5.00"), _fact(1)]}))
    before = checksums(wh)
    twice = DocumentLoad(_doc(sha, None), facts={"fact_three_public": [_fact(0), _fact(1), _fact(1, "9.00")]})
    with pytest.raises(DuplicateKey, match=r"core\.fact_three_public: two rows with the key .*'row_index': 1"):
        wh.load_document(twice)
    tables = [dict(table_type="three_public", title="x"), dict(table_type="three_public", title="y")]
    with pytest.raises(DuplicateKey, match=r"core\.extracted_table: .*'table_type': 'three_public'"):
        wh.load_document(DocumentLoad(_doc(sha, None), tables=tables))
    assert checksums(wh) == before
    # the same row in two documents is two rows
    other = DocumentLoad(_doc("m" * 64, None), facts={"fact_three_public": [_fact(0), _fact(1)]})
    assert wh.load_document(other)["fact_three_public"] == 2
    keyed = {
        name
        for (name,) in rows(
            wh,
            "SELECT table_name FROM information_schema.table_constraints "
            "WHERE table_schema = 'core' AND constraint_type = 'PRIMARY KEY'",
        )
    }
    loader_checked = {tb.name for tb in t.LOADER_CHECKED_TABLES}
    assert "document" in keyed
    if wh.dialect == "duckdb":
        assert not keyed & loader_checked
    else:
        assert loader_checked <= keyed
    wh.dispose()


def test_two_loads_of_one_document_at_once_commit_once(duckdb_url):
    """Without keys on DuckDB's fact tables, two transactions loading one new document at the same time are
    still kept apart by core.document's key: the second to commit fails, and the facts are there once."""
    wh = open_wh(duckdb_url)
    sha = "n" * 64
    load = DocumentLoad(_doc(sha, None), facts={"fact_three_public": [_fact(0), _fact(1)]})
    first, second = wh.engine.connect(), wh.engine.connect()
    try:
        for conn in (first, second):
            conn.begin()
            bulk_insert(conn, t.document, [load.document])
            bulk_insert(
                conn,
                t.fact_table("fact_three_public"),
                [dict(r, document_sha256=sha) for r in load.facts["fact_three_public"]],
            )
        second.commit()
        with pytest.raises(sa.exc.DBAPIError, match="PRIMARY KEY or UNIQUE constraint"):
            first.commit()
    finally:
        first.close()
        second.close()
    assert rows(wh, f"SELECT COUNT(*) FROM core.fact_three_public WHERE document_sha256 = '{sha}'") == [(2,)]
    wh.dispose()


def test_an_older_duckdb_file_loses_the_keys_the_load_checks(duckdb_url):
    """A DuckDB file made when the tables of documents had keys: ensure_schema rebuilds them without, rows and
    columns kept, and loads go on as before."""
    from sqlalchemy.schema import CreateTable

    eng = sa.create_engine(duckdb_url)
    sha = "o" * 64
    with eng.begin() as conn:
        for schema in t.SCHEMAS:
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in t.metadata.sorted_tables:
            ddl = str(CreateTable(table).compile(dialect=conn.dialect)).rstrip()
            if table in t.LOADER_CHECKED_TABLES:  # as files were made before: an ordinary key
                key = ", ".join(c.name for c in table.primary_key.columns)
                ddl = ddl[: -len(")")].rstrip() + f", PRIMARY KEY ({key}))"
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql(f"INSERT INTO core.document (document_sha256, status) VALUES ('{sha}', 'loaded')")
        conn.exec_driver_sql(
            "INSERT INTO core.fact_three_public (document_sha256, table_type, page, row_index, row_kind, total_yuan) "
            f"VALUES ('{sha}', 'three_public', 1, 0, 'detail', 3.5)"
        )
    with eng.connect() as conn:
        keyed = conn.exec_driver_sql(
            "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        assert ("fact_three_public",) in keyed
    eng.dispose()
    wh = open_wh(duckdb_url)
    keyed_now = rows(
        wh,
        "SELECT table_name FROM duckdb_constraints() WHERE schema_name = 'core' AND constraint_type = 'PRIMARY KEY'",
    )
    assert {name for (name,) in keyed_now} & {tb.name for tb in t.LOADER_CHECKED_TABLES} == set()
    assert ("document",) in keyed_now
    comment = (
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'fact_three_public' AND column_name = 'total_yuan'"
    )
    assert rows(wh, comment) == [(t.fact_table("fact_three_public").c.total_yuan.comment,)]
    got = f"SELECT row_index, total_yuan FROM core.fact_three_public WHERE document_sha256 = '{sha}' ORDER BY 1"
    assert rows(wh, got) == [(0, Decimal("3.50"))]
    wh.load_document(DocumentLoad(_doc(sha, None), facts={"fact_three_public": [_fact(0, "3.50"), _fact(1)]}))
    assert rows(wh, got) == [(0, Decimal("3.50")), (1, Decimal("1.00"))]
    assert rows(wh, "SELECT COUNT(*) FROM mart.documents") == [(1,)]
    wh.dispose()


def test_a_float_where_an_integer_goes_fails_the_load_rather_than_truncate(url):
    """Arrow's converter would make page 2.5 into 2: such rows take the text path, where both engines refuse it."""
    wh = open_wh(url)
    sha = "p" * 64
    load = DocumentLoad(_doc(sha, None), facts={"fact_three_public": [_fact(0), _fact(1, page=2.5)]})
    with pytest.raises((TypeError, sa.exc.DBAPIError, psycopg.Error)):
        wh.load_document(load)
    assert rows(wh, f"SELECT COUNT(*) FROM core.document WHERE document_sha256 = '{sha}'") == [(0,)]
    wh.dispose()
