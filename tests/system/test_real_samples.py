"""Every PDF of ../shared/real-samples through the whole pipeline: crawl (a folder source per region,
region read from each document's text) → extract → normalize → validate → load (DuckDB) → report.

Expected amounts were read off the pages by a person with ``pdftotext -layout -f N -l N FILE -``;
page numbers are the PDF's, 1-based.  The folder is ingested once per module (≈ 30 s on 2 cores).
Skipped when the real samples are not present (``BUDGET_REAL_SAMPLES`` or ../shared/real-samples).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from tests.conftest import real_samples_dir

D = Decimal
REAL = real_samples_dir()
pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real samples folder {REAL} not present (set BUDGET_REAL_SAMPLES to its path)"
)

PUTUO = "310107"
JIANGSU = "320000"

# file → (detected fiscal year, department, region) as the crawl records them
DETECTED = {
    "jiangsu__江苏省人大办公厅__江苏省人大办公厅2017年度预算公开.pdf": (2017, "江苏省人大常委会办公厅", JIANGSU),
    "jiangsu__江苏省人大办公厅__江苏省人大常委会2019年度部门预算公开.pdf": (2019, "江苏省人大常委会办公厅", JIANGSU),
    "jiangsu__江苏省人大办公厅__江苏省人大常委会办公厅2019年部门预算公开表.pdf": (
        2019,
        "江苏省人大常委会办公厅",
        JIANGSU,
    ),
    "jiangsu__江苏省人大办公厅__省人大办公厅2018预算公开.pdf": (2018, "江苏省人大常委会办公厅", JIANGSU),
    "jiangsu__江苏省人民检察院__2017年省检察院部门预算.pdf": (2017, "江苏省人民检察院", JIANGSU),
    "jiangsu__江苏省人民检察院__2018年省检察院部门预算公开.pdf": (2018, "江苏省人民检察院", JIANGSU),
    "jiangsu__江苏省人民检察院__2019年度部门预算公开.pdf": (2019, "江苏省人民检察院", JIANGSU),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2017年部门预算.pdf": (2017, "江苏省委办公厅", JIANGSU),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2017年预算公开表格.pdf": (2017, "中国共产党江苏省委员会办公厅", JIANGSU),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2018年度部门预算公开文件.pdf": (2018, "江苏省委办公厅", JIANGSU),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2018年度部门预算公开表.pdf": (2018, "中共江苏省委办公厅", JIANGSU),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2019年度部门预算公开文件.pdf": (2019, "江苏省委办公厅", JIANGSU),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2019年度部门预算公开表格.pdf": (2019, "中共江苏省委办公厅", JIANGSU),
    "jiangsu__江苏省政协办公厅__2017年度部门预算公开表.pdf": (2017, "江苏省政协办公厅", JIANGSU),
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2017年度部门预算.pdf": (2017, "江苏省政协办公厅", JIANGSU),
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2018年度部门预算.pdf": (2018, "江苏省政协办公厅", JIANGSU),
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2018度部门预算公开表.pdf": (2018, "江苏省政协办公厅", JIANGSU),
    # page 1 is blank ("- 1 -"): department from the file name, region from it too
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2019年度部门预算.pdf": (2019, "江苏省政协办公厅", JIANGSU),
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2019年预算公开表.pdf": (2019, "江苏省政协办公厅", JIANGSU),
    "jiangsu__江苏省高级人民法院__江苏省高级人民法院2019年度部门预算公开.pdf": (2019, "江苏省高级人民法院", JIANGSU),
    "jiangsu__江苏省高级人民法院__省法院2017年度部门预算公开.pdf": (2017, "江苏省高级人民法院", JIANGSU),
    # title page "2018 年度江苏省高级 / 人民法院预算公开": the name wraps over two lines
    "jiangsu__江苏省高级人民法院__省法院2018年度部门预算公开.pdf": (2018, "江苏省高级人民法院", JIANGSU),
    "shanghai-putuo__上海市普陀区人民政府万里街道办事处24年预算.pdf": (2024, "普陀区人民政府万里街道办事处", PUTUO),
    "shanghai-putuo__上海市普陀区人民政府万里街道办事处25年预算.pdf": (2025, "普陀区人民政府万里街道办事处", PUTUO),
    "shanghai-putuo__上海市普陀区人民政府办公室25年预算.pdf": (2025, "普陀区人民政府办公室", PUTUO),
    "shanghai-putuo__上海市普陀区人民政府办公室单位25年预算.pdf": (2025, "普陀区人民政府办公室", PUTUO),
    "shanghai-putuo__上海市普陀区商务委员会25年预算.pdf": (2025, "普陀区商务委员会", PUTUO),
    "shanghai-putuo__上海市普陀区商务委员会单位25年预算.pdf": (2025, "普陀区商务委员会", PUTUO),
}

_PUTUO_TABLES = [
    "income_expenditure_summary",
    "revenue",
    "expenditure",
    "fiscal_appropriation",
    "gpb_expenditure",
    "gov_fund_expenditure",
    "soe_capital_expenditure",
    "gpb_basic_expenditure",
    "three_public",
]
# file → (status, [(table type, first page, last page)]) recognised per document
EXPECTED = {
    # 万里 2024 pages 15 and 20, 2025 page 18: the 合计 row alone at the top of the page (the table's last row)
    "shanghai-putuo__上海市普陀区人民政府万里街道办事处24年预算.pdf": (
        "loaded",
        list(
            zip(_PUTUO_TABLES, [10, 11, 16, 21, 22, 27, 28, 29, 31], [10, 15, 20, 21, 26, 27, 28, 30, 31], strict=False)
        ),
    ),
    "shanghai-putuo__上海市普陀区人民政府万里街道办事处25年预算.pdf": (
        "loaded",
        list(
            zip(_PUTUO_TABLES, [9, 10, 14, 19, 20, 25, 26, 27, 29], [9, 13, 18, 19, 24, 25, 26, 28, 29], strict=False)
        ),
    ),
    "shanghai-putuo__上海市普陀区人民政府办公室25年预算.pdf": (
        "loaded",
        list(zip(_PUTUO_TABLES, [8, 9, 11, 13, 14, 16, 17, 18, 20], [8, 10, 12, 13, 15, 16, 17, 19, 20], strict=False)),
    ),
    "shanghai-putuo__上海市普陀区人民政府办公室单位25年预算.pdf": (
        "loaded",
        list(zip(_PUTUO_TABLES, [8, 9, 11, 13, 14, 16, 17, 18, 20], [8, 10, 12, 13, 15, 16, 17, 19, 20], strict=False)),
    ),
    "shanghai-putuo__上海市普陀区商务委员会25年预算.pdf": (
        "loaded",
        list(
            zip(_PUTUO_TABLES, [9, 10, 12, 14, 15, 17, 18, 19, 21], [9, 11, 13, 14, 16, 17, 18, 20, 21], strict=False)
        ),
    ),
    "shanghai-putuo__上海市普陀区商务委员会单位25年预算.pdf": (
        "loaded",
        list(
            zip(_PUTUO_TABLES, [9, 10, 12, 14, 15, 17, 18, 19, 21], [9, 11, 13, 14, 16, 17, 18, 20, 21], strict=False)
        ),
    ),
    # 江苏: 公开表五/六 (财政拨款支出 by 功能 / 财政拨款基本支出 by 经济分类: the 一般公共预算 tables plus 政府性基金)
    # are their own types (fiscal_expenditure, fiscal_basic_expenditure), recorded, not loaded; a table PDF
    # prints 公开表一–十二 one per page; the single PDFs print 说明 and tables, the tables following each other
    # down the pages (a title mid-page, tables broken across pages, a title alone at the foot of a page)
    "jiangsu__江苏省人大办公厅__江苏省人大办公厅2017年度预算公开.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 7, 9),
            ("revenue", 9, 10),
            ("expenditure", 10, 10),
            ("fiscal_expenditure", 11, 11),
            ("fiscal_appropriation", 12, 12),
            ("fiscal_basic_expenditure", 13, 15),
            ("gov_fund_expenditure", 15, 15),
            ("gpb_expenditure", 16, 17),
            ("gpb_basic_expenditure", 17, 18),
            ("operating_funds", 19, 19),
            ("three_public", 20, 20),
        ],
    ),
    "jiangsu__江苏省人大办公厅__江苏省人大常委会办公厅2019年部门预算公开表.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 1, 1),
            ("revenue", 2, 2),
            ("expenditure", 3, 3),
            ("fiscal_appropriation", 4, 4),
            ("fiscal_expenditure", 5, 5),
            ("fiscal_basic_expenditure", 6, 6),
            ("gpb_expenditure", 7, 7),
            ("gpb_basic_expenditure", 8, 8),
            ("three_public", 9, 9),
            ("gov_fund_expenditure", 10, 10),
            ("operating_funds", 11, 11),
        ],
    ),
    "jiangsu__江苏省人大办公厅__省人大办公厅2018预算公开.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 8, 8),
            ("revenue", 9, 9),
            ("expenditure", 10, 10),
            ("fiscal_appropriation", 10, 10),
            ("fiscal_expenditure", 11, 11),
            ("fiscal_basic_expenditure", 12, 12),
            ("gpb_expenditure", 13, 13),
            ("gpb_basic_expenditure", 14, 14),
            ("gov_fund_expenditure", 15, 15),
            ("three_public", 15, 15),
            ("operating_funds", 16, 16),
        ],
    ),
    "jiangsu__江苏省人民检察院__2017年省检察院部门预算.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 10, 10),
            ("expenditure", 11, 11),
            ("fiscal_appropriation", 11, 12),
            ("revenue", 11, 11),
            ("fiscal_basic_expenditure", 12, 13),
            ("fiscal_expenditure", 12, 12),
            ("gov_fund_expenditure", 13, 13),
            ("gpb_basic_expenditure", 14, 15),
            ("gpb_expenditure", 14, 14),
            ("operating_funds", 15, 16),
            ("three_public", 16, 16),
        ],
    ),
    "jiangsu__江苏省人民检察院__2018年省检察院部门预算公开.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 13, 14),
            ("revenue", 14, 14),
            ("expenditure", 15, 15),
            ("fiscal_appropriation", 15, 15),
            ("fiscal_expenditure", 15, 16),
            ("fiscal_basic_expenditure", 16, 17),
            ("gpb_expenditure", 17, 18),
            ("gpb_basic_expenditure", 18, 19),
            ("gov_fund_expenditure", 19, 19),
            ("three_public", 19, 19),
            ("operating_funds", 20, 20),
        ],
    ),
    "jiangsu__江苏省人民检察院__2019年度部门预算公开.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 14, 14),
            ("expenditure", 15, 15),
            ("revenue", 15, 15),
            ("fiscal_appropriation", 16, 16),
            ("fiscal_expenditure", 16, 16),
            ("fiscal_basic_expenditure", 17, 17),
            ("gpb_basic_expenditure", 18, 19),
            ("gpb_expenditure", 18, 18),
            ("gov_fund_expenditure", 20, 20),
            ("three_public", 20, 20),
            ("operating_funds", 21, 21),
        ],
    ),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2017年预算公开表格.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 1, 1),
            ("revenue", 2, 2),
            ("expenditure", 3, 3),
            ("fiscal_appropriation", 4, 4),
            ("fiscal_expenditure", 5, 5),
            ("fiscal_basic_expenditure", 6, 6),
            ("gov_fund_expenditure", 7, 7),
            ("gpb_expenditure", 8, 8),
            ("gpb_basic_expenditure", 9, 9),
            ("operating_funds", 10, 10),
            ("three_public", 11, 11),
        ],
    ),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2018年度部门预算公开表.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 3, 3),
            ("revenue", 4, 4),
            ("expenditure", 5, 5),
            ("fiscal_appropriation", 6, 6),
            ("fiscal_expenditure", 7, 7),
            ("fiscal_basic_expenditure", 8, 8),
            ("gpb_expenditure", 9, 9),
            ("gpb_basic_expenditure", 10, 10),
            ("three_public", 11, 11),
            ("gov_fund_expenditure", 12, 12),
            ("operating_funds", 13, 13),
        ],
    ),
    "jiangsu__江苏省委办公厅__江苏省委办公厅2019年度部门预算公开表格.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 1, 1),
            ("revenue", 2, 2),
            ("expenditure", 3, 3),
            ("fiscal_appropriation", 4, 4),
            ("fiscal_expenditure", 5, 5),
            ("fiscal_basic_expenditure", 6, 6),
            ("gpb_expenditure", 7, 7),
            ("gpb_basic_expenditure", 8, 8),
            ("three_public", 9, 9),
            ("gov_fund_expenditure", 10, 10),
            ("operating_funds", 11, 11),
        ],
    ),
    "jiangsu__江苏省政协办公厅__2017年度部门预算公开表.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 1, 1),
            ("revenue", 2, 2),
            ("expenditure", 3, 3),
            ("fiscal_appropriation", 4, 4),
            ("fiscal_expenditure", 5, 5),
            ("fiscal_basic_expenditure", 6, 6),
            ("gov_fund_expenditure", 7, 7),
            ("gpb_expenditure", 8, 8),
            ("gpb_basic_expenditure", 9, 9),
            ("operating_funds", 10, 10),
            ("three_public", 11, 11),
        ],
    ),
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2018度部门预算公开表.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 1, 1),
            ("revenue", 2, 2),
            ("expenditure", 3, 3),
            ("fiscal_appropriation", 4, 4),
            ("fiscal_expenditure", 5, 5),
            ("fiscal_basic_expenditure", 6, 6),
            ("gpb_expenditure", 7, 7),
            ("gpb_basic_expenditure", 8, 8),
            ("three_public", 9, 9),
            ("gov_fund_expenditure", 10, 10),
            ("operating_funds", 11, 11),
        ],
    ),
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2019年预算公开表.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 1, 1),
            ("revenue", 2, 2),
            ("expenditure", 3, 3),
            ("fiscal_appropriation", 4, 4),
            ("fiscal_expenditure", 5, 5),
            ("fiscal_basic_expenditure", 6, 6),
            ("gpb_expenditure", 7, 7),
            ("gpb_basic_expenditure", 8, 8),
            ("three_public", 9, 9),
            ("gov_fund_expenditure", 10, 10),
            ("operating_funds", 11, 11),
        ],
    ),
    "jiangsu__江苏省高级人民法院__江苏省高级人民法院2019年度部门预算公开.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 8, 8),
            ("expenditure", 9, 9),
            ("revenue", 9, 9),
            ("fiscal_appropriation", 10, 10),
            ("fiscal_expenditure", 10, 10),
            ("fiscal_basic_expenditure", 11, 11),
            ("gpb_expenditure", 12, 12),
            ("gpb_basic_expenditure", 13, 13),
            ("gov_fund_expenditure", 14, 14),
            ("three_public", 14, 14),
            ("operating_funds", 15, 15),
        ],
    ),
    "jiangsu__江苏省高级人民法院__省法院2017年度部门预算公开.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 11, 12),
            ("revenue", 12, 13),
            ("expenditure", 13, 13),
            ("fiscal_appropriation", 13, 13),
            ("fiscal_expenditure", 13, 14),
            ("fiscal_basic_expenditure", 14, 14),
            ("gov_fund_expenditure", 15, 15),
            ("gpb_basic_expenditure", 15, 16),
            ("gpb_expenditure", 15, 15),
            ("operating_funds", 16, 17),
            ("three_public", 17, 17),
        ],
    ),
    "jiangsu__江苏省高级人民法院__省法院2018年度部门预算公开.pdf": (
        "loaded",
        [
            ("income_expenditure_summary", 9, 10),
            ("expenditure", 10, 10),
            ("fiscal_appropriation", 10, 11),
            ("revenue", 10, 10),
            ("fiscal_basic_expenditure", 11, 12),
            ("fiscal_expenditure", 11, 11),
            ("gpb_expenditure", 12, 13),
            ("gpb_basic_expenditure", 13, 14),
            ("gov_fund_expenditure", 14, 14),
            ("operating_funds", 14, 15),
            ("three_public", 14, 14),
        ],
    ),
}
# narrative-only PDFs (说明, 公开文件): no table, linked to the table PDF of their set
NARRATIVE_ONLY = [
    "jiangsu__江苏省人大办公厅__江苏省人大常委会2019年度部门预算公开.pdf",
    "jiangsu__江苏省委办公厅__江苏省委办公厅2017年部门预算.pdf",
    "jiangsu__江苏省委办公厅__江苏省委办公厅2018年度部门预算公开文件.pdf",
    "jiangsu__江苏省委办公厅__江苏省委办公厅2019年度部门预算公开文件.pdf",
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2017年度部门预算.pdf",
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2018年度部门预算.pdf",
    "jiangsu__江苏省政协办公厅__江苏省政协办公厅2019年度部门预算.pdf",
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The whole folder ingested once: one folder source per region, both pointing at the same folder."""
    from assets.crawl.sources import load_sources
    from assets.load.warehouse import Warehouse
    from pipelines.ingest import run_ingest

    tmp = tmp_path_factory.mktemp("real_samples")
    sources = tmp / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f'  - {{region_code: "{PUTUO}", region_name: 普陀区, folder: "{REAL}"}}\n'
        f'  - {{region_code: "{JIANGSU}", region_name: 江苏省, folder: "{REAL}"}}\n',
        encoding="utf-8",
    )
    data_dir = tmp / "data"
    url = f"duckdb:///{tmp / 'warehouse.duckdb'}"
    Warehouse(url).ensure_schema()
    summary = run_ingest(str(sources), load_sources(sources), data_dir=str(data_dir), warehouse_url=url)
    engine = sa.create_engine(url)
    yield summary, engine, url, data_dir
    engine.dispose()


def _name(url: str) -> str:
    return unquote(url.rsplit("/", 1)[1])


def _rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def _docs(engine) -> dict[str, sa.Row]:
    return {_name(r.source_url): r for r in _rows(engine, "SELECT * FROM mart.document_report")}


# --------------------------------------------------------------------------- crawl


def test_crawl_detection_of_every_pdf():
    """Year, department and region the crawl reads from each PDF's text (title page, then file name)."""
    from assets.crawl.detect import detect, detect_region, read_pdf_head

    pdfs = sorted(p.name for p in REAL.glob("*.pdf"))
    assert pdfs == sorted(DETECTED)
    for name in pdfs:
        head = read_pdf_head((REAL / name).read_bytes())
        stem = name[:-4]
        det = detect(head, anchor=stem, file_name=name)
        region = detect_region(head.first_page, stem, name, "\n".join(head.pages[1:]))
        assert (det.doc_type, det.year, det.department, region.code) == ("budget", *DETECTED[name]), name


def test_folder_sources_ingest_every_pdf_once_in_its_own_region(warehouse):
    summary, engine, _, _ = warehouse
    assert summary.failed_runs == []
    assert summary.partitions == ["2024|310107", "2025|310107", "2017|320000", "2018|320000", "2019|320000"]
    for region, entries in summary.crawled.items():
        assert sorted(_name(e.url) for e in entries) == sorted(DETECTED)  # each source sees the whole folder
        for e in entries:
            own = DETECTED[_name(e.url)][2] == region
            assert (e.status == "skipped") is not own, (region, e.url)
            if not own:  # recorded with the reason, no year: no partition of this region processes it
                assert e.year is None and e.reason.startswith("document of ")
                assert e.reason.endswith(
                    f"not of this source's region {'普陀区' if region == PUTUO else '江苏省'} ({region})"
                )
    docs = _docs(engine)
    assert sorted(docs) == sorted(DETECTED)
    for name, doc in docs.items():
        year, _, region = DETECTED[name]
        assert (doc.region_code, doc.fiscal_year) == (region, year), name
    # page 8 of the 2018 人大 PDF wraps its 部门名称 ("江苏省人大" / "常委会办公厅"): the name most tables print wins
    assert docs["jiangsu__江苏省人大办公厅__省人大办公厅2018预算公开.pdf"].department_name == "江苏省人大常委会办公厅"


# --------------------------------------------------------------------------- recognised tables


def test_recognised_tables_per_document(warehouse):
    _, engine, _, _ = warehouse
    docs = _docs(engine)
    for name, (status, tables) in EXPECTED.items():
        doc = docs[name]
        got = _rows(
            engine,
            "SELECT table_type, first_page, last_page FROM core.extracted_table "
            "WHERE document_sha256 = :s ORDER BY first_page, table_type",
            s=doc.document_sha256,
        )
        assert doc.status == status, (name, doc.status_reason)
        assert [tuple(r) for r in got] == tables, name
        assert doc.tables_found == len(tables) and doc.table_types == ",".join(t for t, _, _ in tables)


def test_tables_the_warehouse_does_not_load_are_recorded_with_their_page(warehouse):
    _, engine, _, _ = warehouse
    doc = _docs(engine)["jiangsu__江苏省人大办公厅__江苏省人大常委会办公厅2019年部门预算公开表.pdf"]
    got = _rows(
        engine,
        "SELECT actual, page, detail FROM mart.quality_findings WHERE document_sha256 = :s "
        "AND check_name = 'unrecognised_table' AND severity = 'info' ORDER BY page",
        s=doc.document_sha256,
    )
    # 公开表十二 (p. 12): 政府采购, a type of the national format the warehouse keeps no facts of
    assert [tuple(r) for r in got] == [
        (
            "2019年政府采购预算表",
            12,
            "table '2019年政府采购预算表' on page 12 (procurement): recognised, recorded, not loaded",
        )
    ]
    assert doc.unrecognised_tables == 1
    assert doc.unrecognised_titles == "2019年政府采购预算表 (p. 12)"
    # 公开表五 (p. 5) and 六 (p. 6) repeat the 一般公共预算 tables with 政府性基金: recognised as the 财政拨款 tables
    tables = _rows(
        engine,
        "SELECT table_type, first_page FROM core.extracted_table WHERE document_sha256 = :s "
        "AND first_page IN (5, 6) ORDER BY first_page",
        s=doc.document_sha256,
    )
    assert [tuple(r) for r in tables] == [("fiscal_expenditure", 5), ("fiscal_basic_expenditure", 6)]


# --------------------------------------------------------------------------- 上海普陀: zero hard findings


def test_every_putuo_document_loads_with_zero_hard_findings(warehouse):
    _, engine, _, _ = warehouse
    putuo = {n: d for n, d in _docs(engine).items() if n.startswith("shanghai-putuo")}
    assert len(putuo) == 6
    for name, doc in putuo.items():
        assert (doc.status, doc.hard_findings, doc.soft_findings) == ("loaded", 0, 0), name
        assert doc.checks_failed is None
        assert doc.checks_passed == (
            "totals_reconcile,codes_valid_and_unique,amounts_non_negative,"
            "required_tables_present,narrative_matches_tables,previous_year_matches"
        )
        assert doc.rows_loaded > 100


def _fact(engine, name: str, sql: str, **params):
    sha = _docs(engine)[name].document_sha256
    return _rows(engine, sql, s=sha, **params)


def test_putuo_amounts_read_off_the_pages(warehouse):
    _, engine, _, _ = warehouse
    wanli24 = "shanghai-putuo__上海市普陀区人民政府万里街道办事处24年预算.pdf"
    wanli25 = "shanghai-putuo__上海市普陀区人民政府万里街道办事处25年预算.pdf"
    commerce = "shanghai-putuo__上海市普陀区商务委员会25年预算.pdf"
    income_total = (
        "SELECT income_amount_yuan FROM core.fact_budget_summary WHERE document_sha256 = :s "
        "AND REPLACE(income_item, ' ', '') = '收入总计'"
    )
    # page 10: 收入总计 156,211,123 (whole 元) ; 商务委员会 page 9: 371,514,655.00
    assert [D(r[0]) for r in _fact(engine, wanli24, income_total)] == [D("156211123")]
    assert [D(r[0]) for r in _fact(engine, commerce, income_total)] == [D("371514655.00")]
    # page 9 of the 商务委员会: 一、一般公共服务支出 21,601,733.00
    got = _fact(
        engine,
        commerce,
        "SELECT class_code, expense_amount_yuan FROM core.fact_budget_summary "
        "WHERE document_sha256 = :s AND class_code = '201'",
    )
    assert [(c, D(a)) for c, a in got] == [("201", D("21601733.00"))]
    # 三公 in 万元: page 31 (2024) 47.91 = 0 + 46.56 (25 + 21.56) + 1.35; page 29 (2025) 37.91; 商务委 page 21 1.00
    three = (
        "SELECT total_wan, outbound_wan, vehicle_purchase_wan, vehicle_operation_wan, vehicle_total_wan, "
        "reception_wan FROM mart.three_public WHERE document_sha256 = :s"
    )
    assert [tuple(map(D, r)) for r in _fact(engine, wanli24, three)] == [
        (D("47.91"), D("0.00"), D("25.00"), D("21.56"), D("46.56"), D("1.35"))
    ]
    assert [tuple(map(D, r)) for r in _fact(engine, wanli25, three)] == [
        (D("37.91"), D("0.00"), D("15.00"), D("21.56"), D("36.56"), D("1.35"))
    ]
    assert [(D(r[0]), D(r[5])) for r in _fact(engine, commerce, three)] == [(D("1.00"), D("1.00"))]


def test_putuo_whole_yuan_rounding_is_not_a_finding(warehouse):
    """万里街道 2025, page 17 (部门支出预算总表), row 212 01 城乡社区管理事务: 94,995,790 = 77,381,546 (基本)
    + 17,614,243 (项目) = 94,995,789 — the table prints whole 元, each amount rounded, so 1 元 is within
    the printed precision (0.5 元 per printed amount), not an error of the document."""
    _, engine, _, _ = warehouse
    got = _fact(
        engine,
        "shanghai-putuo__上海市普陀区人民政府万里街道办事处25年预算.pdf",
        "SELECT page, total_yuan, basic_yuan, project_yuan FROM core.fact_function_expenditure "
        "WHERE document_sha256 = :s AND table_type = 'expenditure' AND function_code = '21201'",
    )
    assert [(p, D(t), D(b), D(pr)) for p, t, b, pr in got] == [(17, D("94995790"), D("77381546"), D("17614243"))]
    assert _docs(engine)["shanghai-putuo__上海市普陀区人民政府万里街道办事处25年预算.pdf"].hard_findings == 0


# --------------------------------------------------------------------------- 江苏


def test_jiangsu_table_pdf_amounts_read_off_the_pages(warehouse):
    _, engine, _, _ = warehouse
    npc = "jiangsu__江苏省人大办公厅__江苏省人大常委会办公厅2019年部门预算公开表.pdf"
    # 公开表九, page 9: 合计 2,600.71 = “三公” 767.60 (出国 199.25 + 车 183.60 + 接待 384.75) + 会议费 1,469.73
    # + 培训费 363.38; the 三公 total is the “三公”经费 小计, not the table's 合计
    three = _fact(
        engine,
        npc,
        "SELECT total_wan, outbound_wan, vehicle_total_wan, reception_wan "
        "FROM mart.three_public WHERE document_sha256 = :s",
    )
    assert [tuple(map(D, r)) for r in three] == [(D("767.60"), D("199.25"), D("183.60"), D("384.75"))]
    # 公开表七, page 7: 功能科目代码 2010101 行政运行 7,448.20; 2210202 提租补贴 2,548.30 (万元)
    fn = _fact(
        engine,
        npc,
        "SELECT function_code, total_wan, page FROM mart.expenditure_by_function "
        "WHERE document_sha256 = :s AND function_code IN ('2010101', '2210202') ORDER BY 1",
    )
    assert [(c, D(t), p) for c, t, p in fn] == [("2010101", D("7448.20"), 7), ("2210202", D("2548.30"), 7)]
    # 公开表八, page 8: 30101 基本工资 1,258.23
    econ = _fact(
        engine,
        npc,
        "SELECT econ_code, total_wan FROM mart.basic_expenditure_by_economic "
        "WHERE document_sha256 = :s AND econ_code = '30101'",
    )
    assert [(c, D(t)) for c, t in econ] == [("30101", D("1258.23"))]
    # 委办公厅 2018 公开表, page 9 (一般公共预算支出预算表): 2013101 行政运行 8,072.29
    office = "jiangsu__江苏省委办公厅__江苏省委办公厅2018年度部门预算公开表.pdf"
    fn = _fact(
        engine,
        office,
        "SELECT total_wan FROM mart.expenditure_by_function WHERE document_sha256 = :s AND function_code = '2013101'",
    )
    assert [D(r[0]) for r in fn] == [D("8072.29")]


# 江苏 single PDFs (说明 and tables in one file): amounts read off the pages with pdftotext -layout.
# file → ([(功能科目代码, 万元, page)], [(经济科目编码, 万元, page)], 三公 (total, 出国, 公务用车, 接待) and its page)
SINGLE_PDF_AMOUNTS = {
    # p. 16 行政运行 4,545.94; the table runs onto p. 17 (未归口管理的行政单位离退休 1,608.51, 提租补贴 1,018.01);
    # p. 17 the 基本支出 table starts under it, p. 18 退休费 1,395.28; p. 20 “三公” 833.60
    "jiangsu__江苏省人大办公厅__江苏省人大办公厅2017年度预算公开.pdf": (
        [("2010101", "4545.94", 16), ("2080504", "1608.51", 17), ("2210202", "1018.01", 17)],
        [("30101", "1015.15", 17), ("30302", "1395.28", 18)],
        ("833.60", "222.50", "183.60", "427.50", 20),
    ),
    "jiangsu__江苏省人大办公厅__省人大办公厅2018预算公开.pdf": (
        [("2010101", "6372.32", 13), ("2010104", "1305.25", 13)],
        [("30101", "1186.73", 14), ("30302", "543.23", 14)],
        ("833.60", "222.50", "183.60", "427.50", 15),
    ),
    # p. 16: 公务用车 317.80 = 购置费 50.00 + 运行维护费 267.80 (the 运行维护费 header of 2017)
    "jiangsu__江苏省人民检察院__2017年省检察院部门预算.pdf": (
        [("2040401", "7968.14", 14), ("2080504", "2021.18", 14)],
        [("30302", "1652.57", 15)],
        ("584.35", "110.00", "317.80", "156.55", 16),
    ),
    "jiangsu__江苏省人民检察院__2018年省检察院部门预算公开.pdf": (
        [("2040401", "10883.36", 17), ("2210202", "2586.61", 18)],
        [("30101", "2117.68", 18), ("30302", "623.28", 19)],
        ("484.30", "100.00", "267.80", "116.50", 19),
    ),
    "jiangsu__江苏省人民检察院__2019年度部门预算公开.pdf": (
        [("2040401", "12268.62", 18), ("2080505", "1064.46", 18)],
        [("30302", "1064.45", 19)],
        ("418.26", "80", "237", "101.26", 20),
    ),
    "jiangsu__江苏省高级人民法院__省法院2017年度部门预算公开.pdf": (
        [("2040504", "1733.30", 15), ("2040599", "910.00", 15)],
        [("30302", "1963.45", 16)],
        ("670.12", "180.00", "304.40", "185.72", 17),
    ),
    "jiangsu__江苏省高级人民法院__省法院2018年度部门预算公开.pdf": (
        [("2040501", "14857.61", 12), ("2040504", "1833.30", 13), ("2210202", "3318.25", 13)],
        [("30302", "744.51", 14)],
        ("620.75", "170.00", "266.80", "183.95", 14),
    ),
    # p. 13 公开08表 prints its one amount column as 基本支出 (合计 21,968.00)
    "jiangsu__江苏省高级人民法院__江苏省高级人民法院2019年度部门预算公开.pdf": (
        [("2040501", "17279.29", 12), ("2040504", "1599.11", 12)],
        [("30101", "2827.41", 13), ("30302", "1250.63", 13)],
        ("513.75", "160.00", "266.80", "86.95", 14),
    ),
}


def test_jiangsu_single_pdfs_amounts_read_off_the_pages(warehouse):
    _, engine, _, _ = warehouse
    docs = _docs(engine)
    for name, (functions, econ, three) in SINGLE_PDF_AMOUNTS.items():
        assert (docs[name].status, docs[name].hard_findings) == ("loaded", 0), name
        codes = tuple(c for c, _, _ in functions)
        got = _fact(
            engine,
            name,
            "SELECT function_code, total_wan, page FROM mart.expenditure_by_function "
            f"WHERE document_sha256 = :s AND function_code IN {codes} ORDER BY 1",
        )
        assert [(c, D(t), p) for c, t, p in got] == sorted((c, D(t), p) for c, t, p in functions), name
        codes = tuple(c for c, _, _ in econ) + ("",)
        got = _fact(
            engine,
            name,
            "SELECT econ_code, total_wan, page FROM mart.basic_expenditure_by_economic "
            f"WHERE document_sha256 = :s AND econ_code IN {codes} ORDER BY 1",
        )
        assert [(c, D(t), p) for c, t, p in got] == sorted((c, D(t), p) for c, t, p in econ), name
        got = _fact(
            engine,
            name,
            "SELECT total_wan, outbound_wan, vehicle_total_wan, reception_wan, page "
            "FROM mart.three_public WHERE document_sha256 = :s",
        )
        assert [(*map(D, r[:4]), r[4]) for r in got] == [(*map(D, three[:4]), three[4])], name


def test_jiangsu_tables_broken_across_pages(warehouse):
    """人大 2017 收支预算总表 pp. 7–9: the page breaks cut rows in two ("八、社会保障和就" p. 7 | "业支出" p. 8,
    "当 年 收 入" p. 8 | "小计" p. 9) and page 9 is read with fewer rules (合计 spans 功能分类 and 支出用途)."""
    _, engine, _, _ = warehouse
    npc = "jiangsu__江苏省人大办公厅__江苏省人大办公厅2017年度预算公开.pdf"
    got = _fact(
        engine,
        npc,
        "SELECT page, income_item, income_amount_yuan, expense_item, expense_amount_yuan "
        "FROM core.fact_budget_summary WHERE document_sha256 = :s "
        "AND (expense_amount_yuan IS NOT NULL OR income_item LIKE '%计%') ORDER BY row_index",
    )
    assert [(p, i, D(a) if a else None, e, D(x) if x else None) for p, i, a, e, x in got] == [
        (7, "一、财政拨款", D("136490700.00"), "一、一般公共服务支出", D("105283300.00")),
        (7, None, None, "八、社会保障和就业支出", D("16085100.00")),
        (8, None, None, "十八、住房保障支出", D("15122300.00")),
        (8, "当年收入小计", D("136490700.00"), "当年支出小计", None),
        (9, "收入合计", D("136490700.00"), "支出合计", None),
    ]
    # 检察院 2017 收入预算总表 p. 11: 项目名称 over two columns (category | item), 其他资金 小计 15.00 = 其他收入
    got = _fact(
        engine,
        "jiangsu__江苏省人民检察院__2017年省检察院部门预算.pdf",
        "SELECT row_kind, item_name, total_yuan FROM core.fact_revenue WHERE document_sha256 = :s "
        "AND total_yuan IS NOT NULL ORDER BY row_index",
    )
    assert [(k, n, D(t)) for k, n, t in got] == [
        ("total", "收入总计", D("179966800.00")),
        ("subtotal", "一般公共预算资金", D("179816800.00")),
        ("detail", "公共财政拨款(补助)资金", D("179816800.00")),
        ("subtotal", "其他资金", D("150000.00")),
        ("detail", "其他收入", D("150000.00")),
    ]
    # 机关运行经费 tables are read as text tables with their rows (人大 2017: title alone at the foot of p. 18,
    # table on p. 19, 合计 5,619.31 and 15 rows under it), never "published empty"
    got = _rows(
        engine,
        "SELECT d.source_url, t.first_page, t.last_page, t.is_empty, t.row_count "
        "FROM core.extracted_table t JOIN mart.document_report d USING (document_sha256) "
        "WHERE t.table_type = 'operating_funds'",
    )
    assert all(not r.is_empty and r.row_count > 5 for r in got)
    assert [(r.first_page, r.last_page, r.row_count) for r in got if _name(r.source_url) == npc] == [(19, 19, 16)]


# the 收支预算总表 of each CSV row: (department in the CSV name, year) → file
CSV_DOCUMENTS = {
    ("江苏省人大办公厅", 2017): "jiangsu__江苏省人大办公厅__江苏省人大办公厅2017年度预算公开.pdf",
    ("江苏省人大办公厅", 2018): "jiangsu__江苏省人大办公厅__省人大办公厅2018预算公开.pdf",
    ("江苏省人大办公厅", 2019): "jiangsu__江苏省人大办公厅__江苏省人大常委会办公厅2019年部门预算公开表.pdf",
    ("江苏省人民检察院", 2017): "jiangsu__江苏省人民检察院__2017年省检察院部门预算.pdf",
    ("江苏省人民检察院", 2018): "jiangsu__江苏省人民检察院__2018年省检察院部门预算公开.pdf",
    ("江苏省人民检察院", 2019): "jiangsu__江苏省人民检察院__2019年度部门预算公开.pdf",
    ("江苏省委办公厅", 2017): "jiangsu__江苏省委办公厅__江苏省委办公厅2017年预算公开表格.pdf",
    ("江苏省委办公厅", 2018): "jiangsu__江苏省委办公厅__江苏省委办公厅2018年度部门预算公开表.pdf",
    ("江苏省委办公厅", 2019): "jiangsu__江苏省委办公厅__江苏省委办公厅2019年度部门预算公开表格.pdf",
}
# CSV values the pipeline does not read (None) — every one checked on the page: the CSV is right, the PDF
# prints it, our extraction misses it.  Any other difference fails the test.
# (人大 2017 pp. 7–9 and 检察院 2018 pp. 13–14: the 收支预算总表 broken across pages with rows cut in two;
# 检察院 2018/2019 p. 13/14: "三、单位预留机动经费" with its numeral read as a line of its own — all read now)
CSV_GAPS: dict[tuple[str, int], dict[str, str]] = {}


@pytest.fixture(scope="module")
def summaries(warehouse):
    """The 收支预算总表 of the CSV documents, from the extraction cache the ingest wrote."""
    import pickle
    import re

    from assets.extract.document import EXTRACTOR_VERSION

    _, engine, _, data_dir = warehouse
    out = {}
    docs = _docs(engine)
    for key, name in CSV_DOCUMENTS.items():
        sha = docs[name].document_sha256
        cache = next(data_dir.rglob(f"{sha}.v{EXTRACTOR_VERSION}.pickle"))
        result = pickle.loads(cache.read_bytes())
        table = result.table("income_expenditure_summary")
        got: dict[str, Decimal] = {}
        for row in table.rows:
            for item, amount in (
                ("income_item", "income_amount"),
                ("expense_item", "expense_amount"),
                ("use_item", "use_amount"),
            ):
                label = re.sub(r"^[一二三四五六七八九十]+、|^\d\.|\s", "", str(row.values.get(item) or ""))
                if label and isinstance(row.values.get(amount), Decimal):
                    got.setdefault(label, row.values[amount])
        out[key] = got
    return out


def test_jiangsu_summary_tables_agree_with_the_csv_cross_check(summaries):
    """收支预算总表 figures against the repository's CSVs: no value disagrees; the CSV values the pipeline
    does not read are listed in CSV_GAPS with the page that prints them."""
    compared = 0
    for (dept, year), name in CSV_DOCUMENTS.items():
        with (REAL / f"jiangsu__{dept}__收支预算总表.csv").open(encoding="utf-8") as fh:
            row = next(r for r in csv.DictReader(fh) if r[""].startswith(str(year)))
        got = summaries[(dept, year)]
        gaps = CSV_GAPS.get((dept, year), {})
        for label, value in row.items():
            if not label or not value:
                continue
            if label in gaps:
                assert label not in got, f"{name}: {label} is read now — move it out of CSV_GAPS"
                continue
            assert got.get(label) == D(value), (name, label, value, got.get(label))
            compared += 1
    assert compared == 111


def test_jiangsu_rules_drawn_as_paths_are_read_by_the_vector_engine():
    """委办公厅 2019 公开表格, page 1: the rule between 功能科目名称 and 金额 is drawn as a path, which camelot's
    vector engine skipped (gluing "八、社会保障和就业支出\\n1,374.63" into one cell, re-read then by the slower
    combined engine); with path-drawn rules (assets/extract/vector_rules.py) the vector engine reads the
    printed 1,374.63 itself (the CSV says 1374.63 too)."""
    from assets.extract.document import extract_document

    result = extract_document(REAL / "jiangsu__江苏省委办公厅__江苏省委办公厅2019年度部门预算公开表格.pdf", "x")
    table = result.table("income_expenditure_summary")
    assert table.flavor == "lattice/vector"
    row = next(r for r in table.rows if r.values.get("expense_item") == "八、社会保障和就业支出")
    assert row.values["expense_amount"] == D("1374.63")


# --------------------------------------------------------------------------- document sets


def test_narrative_and_table_pdfs_are_one_document_set(warehouse):
    _, engine, _, _ = warehouse
    docs = _docs(engine)
    for name in NARRATIVE_ONLY:
        doc = docs[name]
        partner = [n for n, d in docs.items() if d.document_set == doc.document_set and n != name]
        assert len(partner) == 1 and docs[partner[0]].tables_found == 11, name
        # the 说明 of a set is not an error: skipped, naming the table PDF it serves
        assert (doc.status, doc.set_documents) == ("skipped", 2), name
        assert doc.status_reason == (
            "narrative (说明) of a document set; its tables are in "
            f"{docs[partner[0]].document_sha256[:12]} and are checked against this narrative"
        ), name
    # 中国共产党江苏省委员会办公厅 (2017 表格, page 1), 中共江苏省委办公厅 (2018/2019 公开表) and 江苏省委办公厅
    # (title pages) are one department: the reviewed aliases of department_crosswalk.csv
    office = {docs[n].document_set for n in docs if n.startswith("jiangsu__江苏省委办公厅")}
    assert office == {f"320000:中共江苏省委办公厅:{y}" for y in (2017, 2018, 2019)}
    # single-PDF departments are sets of one
    assert docs["jiangsu__江苏省人民检察院__2019年度部门预算公开.pdf"].set_documents == 1


def test_table_pdf_is_checked_against_the_narrative_of_its_set(warehouse):
    """委办公厅 2018: the 公开表 PDF has no 说明 of its own; the validate stage checks the 说明 of its set's
    公开文件 against its tables (assets/validate/assets.py uses linked_narratives)."""
    from assets.extract.document import extract_document
    from assets.extract.document_sets import linked_narratives
    from assets.extract.pdf_text import read_pages
    from assets.records import ManifestEntry
    from assets.validate.narrative import narrative_comparisons

    names = [
        "jiangsu__江苏省委办公厅__江苏省委办公厅2018年度部门预算公开文件.pdf",
        "jiangsu__江苏省委办公厅__江苏省委办公厅2018年度部门预算公开表.pdf",
    ]
    docs = {}
    for i, name in enumerate(names):
        entry = ManifestEntry(url=name, region_code=JIANGSU, sha256=str(i), year=2018, department=DETECTED[name][1])
        docs[str(i)] = (entry, extract_document(REAL / name, str(i)))
    assert linked_narratives(docs) == {"1": ["0"]}
    table_result = docs["1"][1]
    own = narrative_comparisons(table_result, [(None, table_result.narrative)])
    linked = narrative_comparisons(table_result, [(p.number, p.text) for p in read_pages(REAL / names[0])])
    assert own == []
    # 公开文件 page 7: 基本支出 10403.11 万元 占 42.53%, 项目支出 12081.46 万元 占 49.40% of the 公开表's
    # 支出预算总表 (page 5, 合计 24458.43)
    assert [(c.check_name, c.actual, c.page, c.passes()) for c in linked] == [
        ("narrative_basic", D("10403.11"), 7, True),
        ("narrative_basic_pct", D("42.53"), 7, True),
        ("narrative_project", D("12081.46"), 7, True),
        ("narrative_project_pct", D("49.40"), 7, True),
    ]


# --------------------------------------------------------------------------- report


def test_budget_etl_report_lists_tables_rows_and_checks(warehouse):
    from click.testing import CliRunner

    from pipelines.cli import main

    _, engine, url, _ = warehouse
    doc = _docs(engine)["shanghai-putuo__上海市普陀区人民政府万里街道办事处25年预算.pdf"]
    res = CliRunner().invoke(main, ["report", "--warehouse", url, "--document", doc.document_sha256[:10]])
    assert res.exit_code == 0, res.output
    out = res.output
    assert f"{doc.document_sha256[:12]}  上海市普陀区人民政府万里街道办事处  2025  region 310107  loaded" in out
    assert "tables found: 9 (2 published empty)" in out
    assert "gpb_expenditure              pp. 20-24" in out
    assert f"rows loaded: {doc.rows_loaded}" in out
    assert "checks passed: totals_reconcile, codes_valid_and_unique" in out
    assert "checks failed: none  (0 hard, 0 soft findings)" in out
    assert out.rstrip().endswith("(1 document)")
    # a document with findings lists its failed checks and each finding's first page: 检察院 2019 p. 26,
    # the 说明 prints 基本支出 15,844.04 / 合计 24,169.74 as 65.56 % (it is 65.55 %)
    doc = _docs(engine)["jiangsu__江苏省人民检察院__2019年度部门预算公开.pdf"]
    res = CliRunner().invoke(main, ["report", "--warehouse", url, "--document", doc.document_sha256[:12]])
    assert "checks failed: narrative_matches_tables  (0 hard, 1 soft findings)" in res.output
    assert "soft narrative_basic_pct ×1 (first on p. 26)" in res.output
    res = CliRunner().invoke(main, ["report", "--warehouse", url, "--document", "ffffffffffff"])
    assert res.exit_code != 0 and "no document with sha256 starting 'ffffffffffff'" in res.output
