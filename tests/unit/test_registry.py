"""The table-type registry (warehouse_schema/table_types.yaml): one declaration, everything else generated."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
import sqlalchemy as sa
import yaml

from assets import records
from assets.extract.templates import load_templates, loaded_field
from assets.normalize.facts import DERIVATIONS, ROW_FILTERS, normalize_document, table_facts
from assets.records import ExtractedRow, ExtractedTable, ExtractionResult
from assets.validate.rules import TABLE_RULES, table_comparisons
from expectations.suites import non_negative_fields, required_tables
from warehouse_schema import registry
from warehouse_schema import tables as t
from warehouse_schema.dictionary import render_markdown

REG = registry.current()


def _data() -> dict:
    return copy.deepcopy(yaml.safe_load(registry.REGISTRY_FILE.read_text(encoding="utf-8")))


def test_every_fact_table_of_the_schema_is_generated_from_the_registry():
    assert [f.name for f in REG.facts] == [x.name for x in t.FACT_TABLES]
    for fact in REG.facts:
        table = t.fact_table(fact.name)
        provenance = ["document_sha256", "table_type", "page", "row_index", "row_kind"]
        assert [c.name for c in table.columns] == provenance + [c.name for c in fact.columns]
        assert {c.name: c.comment for c in table.columns if c.name not in provenance} == {
            c.name: c.description for c in fact.columns
        }
        assert table.comment == fact.description
    revenue = t.fact_table("fact_revenue")
    assert isinstance(revenue.c.gpb_yuan.type, sa.Numeric) and revenue.c.gpb_yuan.type.scale == 2
    assert isinstance(t.fact_table("fact_function_expenditure").c.function_code.type, sa.String)
    assert t.fact_table("fact_function_expenditure").c.function_code.type.length == 7
    assert t.REVENUE_AMOUNT_COLUMNS["gpb_yuan"] == "general_public_budget"
    assert "total_yuan" in t.REVENUE_AMOUNT_COLUMNS and t.REVENUE_AMOUNT_COLUMNS["total_yuan"] == "total"


def test_the_registry_names_only_what_is_implemented():
    assert set(registry.DERIVATIONS) == set(DERIVATIONS)
    assert set(registry.ROW_FILTERS) == set(ROW_FILTERS)
    assert set(registry.TABLE_RULES) == set(TABLE_RULES)
    keys = {t.key for t in REG.types}
    assert {t.key for t in load_templates()} == keys
    constants = {v for k, v in vars(records).items() if k.startswith("TABLE_") and v != records.TABLE_UNKNOWN}
    assert constants <= keys


def test_required_and_non_negative_lists_come_from_the_types():
    assert required_tables() == {
        "income_expenditure_summary": "hard",
        "fiscal_appropriation": "hard",
        "revenue": "hard",
        "expenditure": "hard",
        "gpb_expenditure": "hard",
        "gpb_basic_expenditure": "hard",
        "three_public": "hard",
        "gov_fund_expenditure": "hard",
    }
    nn = non_negative_fields()
    assert nn["three_public"] == (
        "total",
        "outbound",
        "vehicle_total",
        "vehicle_purchase",
        "vehicle_operation",
        "reception",
    )
    assert nn["gpb_basic_expenditure"] == ("total", "personnel", "public")
    assert nn["expenditure"] == nn["gov_fund_expenditure"] == nn["soe_capital_expenditure"]
    assert "income_expenditure_summary" not in nn  # 结转结余 may be negative


def test_loaded_fields_are_the_fields_a_fact_column_reads():
    tpl = {t.key: t for t in load_templates()}
    expenditure = tpl["expenditure"]
    assert loaded_field(expenditure, "total") and loaded_field(expenditure, "reserve")
    assert loaded_field(expenditure, "personnel")  # 人员经费 is read where 工资福利 is not printed
    assert not loaded_field(expenditure, "procurement")  # 政府采购: recorded, not kept
    assert not loaded_field(expenditure, "gpb_part")
    assert not loaded_field(expenditure, "total:gpb")  # a qualified column
    three = tpl["three_public"]
    assert loaded_field(three, "operating_funds") and not loaded_field(three, "meeting")
    assert loaded_field(tpl["fiscal_expenditure"], "procurement")  # no fact table: every field counts


def _table(table_type: str, rows: list[tuple[str, dict]], unit: str = "万元", columns=()) -> ExtractedTable:
    return ExtractedTable(
        table_type=table_type,
        title="t",
        pages=[3],
        unit=unit,
        rows=[ExtractedRow(page=3, row_index=i, values=v, kind=k) for i, (k, v) in enumerate(rows)],
        columns=list(columns),
    )


def test_fact_rows_follow_the_declaration():
    table = _table(
        "gpb_expenditure",
        [
            (
                "total",
                {
                    "name": "合计",
                    "total": Decimal("12.5"),
                    "basic_total": Decimal("10"),
                    "personnel": Decimal("8"),
                    "public": Decimal("2"),
                    "project_total": Decimal("2.5"),
                },
            ),
            (
                "detail",
                {
                    "function_code": "2010301",
                    "name": "行政运行",
                    "total": Decimal("12.5"),
                    "wages": Decimal("7"),
                    "household_transfers": Decimal("1"),
                    "reserve": Decimal("0.3"),
                },
            ),
        ],
    )
    rows = table_facts("sha", table, 2026, REG.fact_table("fact_function_expenditure"))
    assert rows[0]["total_yuan"] == Decimal("125000.00") and rows[0]["basic_yuan"] == Decimal("100000.00")
    # a table printing only 人员经费 / 公用经费 under 基本支出: they stand in for 工资福利 / 商品和服务
    assert rows[0]["wages_yuan"] == Decimal("80000.00") and rows[0]["goods_services_yuan"] == Decimal("20000.00")
    assert rows[0]["code_printed"] is None
    assert rows[1]["function_code"] == "2010301" and rows[1]["function_name"] == "行政运行"
    assert rows[1]["wages_yuan"] == Decimal("70000.00") and rows[1]["goods_services_yuan"] is None
    assert rows[1]["reserve_yuan"] == Decimal("3000.00") and rows[1]["code_printed"] is True
    assert (rows[1]["page"], rows[1]["row_index"], rows[1]["row_kind"]) == (3, 1, "detail")

    three = _table(
        "three_public",
        [
            ("prior", {"total": Decimal("5")}),
            (
                "total",
                {
                    "total": Decimal("4"),
                    "outbound": Decimal("1"),
                    "vehicle_total": Decimal("2"),
                    "reception": Decimal("1"),
                },
            ),
            ("change", {"total": Decimal("-1")}),
        ],
        unit="元",
    )
    rows = table_facts("sha", three, 2026, REG.fact_table("fact_three_public"))
    assert [(r["row_index"], r["total_yuan"]) for r in rows] == [(1, Decimal("4.00"))]

    perf = _table(
        "dept_performance",
        [
            ("text", {"department": "x"}),
            ("text", {"indicator_l1": "产出指标", "indicator_l3": "人数", "target": "≥91%"}),
        ],
    )
    rows = table_facts("sha", perf, 2026, REG.fact_table("fact_performance_target"))
    assert [(r["indicator_l1"], r["target_operator"], r["target_value"], r["target_unit"]) for r in rows] == [
        ("产出指标", ">=", Decimal("91"), "%")
    ]


def test_adding_a_column_is_one_edit_of_the_registry():
    data = _data()
    data["fact_tables"]["fact_three_public"]["columns"]["meeting_yuan"] = {
        "type": "amount",
        "from": "meeting",
        "description": "会议费",
    }
    reg = registry.parse(data)
    fact = reg.fact_table("fact_three_public")
    assert fact.column("meeting_yuan").sources == ("meeting",)
    assert "meeting" in reg.loaded_fields("three_public")
    table = _table("three_public", [("total", {"total": Decimal("4"), "meeting": Decimal("0.5")})])
    row = table_facts("sha", table, 2026, fact)[0]
    assert row["meeting_yuan"] == Decimal("5000.00")
    generated = sa.Table(
        fact.name,
        sa.MetaData(),
        *[sa.Column(c.name, t.COLUMN_TYPES[c.type](), comment=c.description) for c in fact.columns],
    )
    assert generated.c.meeting_yuan.comment == "会议费"


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d["fact_tables"]["fact_three_public"]["columns"].update(
                x={"type": "money", "from": "total", "description": "x"}
            ),
            "fact_tables.fact_three_public.columns.x: type 'money'",
        ),
        (
            lambda d: d["fact_tables"]["fact_three_public"]["columns"].update(
                x={"type": "amount", "from": "nonesuch", "description": "x"}
            ),
            "fact_tables.fact_three_public: reads fields no table type feeding it declares: nonesuch",
        ),
        (
            lambda d: d["fact_tables"]["fact_three_public"]["columns"].update(
                x={"type": "amount", "derive": "magic", "description": "x"}
            ),
            "unknown derivation 'magic'",
        ),
        (
            lambda d: d["fact_tables"]["fact_three_public"]["columns"].update(x={"type": "amount", "from": "total"}),
            "fact_tables.fact_three_public.columns.x: no description",
        ),
        (
            lambda d: d["types"]["three_public"].update(fact_table="fact_nonesuch"),
            "types.three_public: fact_table 'fact_nonesuch' is not declared",
        ),
        (lambda d: d["types"]["three_public"].update(rules=["sums_up"]), "types.three_public: unknown rule 'sums_up'"),
        (lambda d: d["types"]["three_public"].update(required="maybe"), "types.three_public: required 'maybe'"),
        (
            lambda d: d["types"]["three_public"].update(non_negative=["nonesuch"]),
            "types.three_public: non_negative names fields it does not declare: nonesuch",
        ),
    ],
)
def test_an_inconsistent_declaration_is_refused_with_the_entry_named(edit, message):
    data = _data()
    edit(data)
    with pytest.raises(registry.RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        registry.parse(data)


def test_rules_apply_where_the_registry_declares_them():
    three = _table(
        "three_public",
        [
            (
                "total",
                {
                    "total": Decimal("5"),
                    "outbound": Decimal("1"),
                    "vehicle_total": Decimal("2"),
                    "reception": Decimal("1"),
                },
            )
        ],
    )
    result = ExtractionResult(document_sha256="sha", page_count=4, tables=[three])
    failing = [c for c in table_comparisons(result) if not c.passes()]
    assert [c.check_name for c in failing] == ["three_public_total_equals_parts"]
    # the same table under a type that declares no rule: nothing checked
    result.tables = [_table("project_expenditure", three.rows and [("total", three.rows[0].values)])]
    assert table_comparisons(result) == []


def test_normalize_and_the_dictionary_cover_every_fact_table():
    result = ExtractionResult(document_sha256="sha", page_count=1, tables=[])
    assert set(normalize_document(result, 2026).facts) == {f.name for f in REG.facts}
    text = render_markdown()
    for fact in REG.facts:
        assert f"## core.{fact.name}" in text
    assert "| `reserve_yuan` | amount | `reserve` | 单位预留机动经费 |" in text
