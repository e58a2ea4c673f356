"""The Great Expectations suites of the validate stage, one per Dagster asset check.

Each suite validates one DataFrame built by :mod:`assets.validate.quality`
(every row carries an integer ``rid``; amounts and residuals are exact
integers — 分, or 1/10000 of a percentage point — never floats):

===========================  ==============  =====  ====================================================
suite (= asset check)        frame           sev.   expectations
===========================  ==============  =====  ====================================================
totals_reconcile             comparisons     hard   per identity: ``tolerance ≥ |residual|`` (column pair)
codes_valid_and_unique       codes           hard   code valid for the year (in set); one row per grain
amounts_non_negative         amounts         hard   every amount ≥ 0
required_tables_present      tables          hard   each required table present or explicitly empty
narrative_matches_tables     comparisons     soft   quoted amounts / percentages / change rates
previous_year_matches        comparisons     soft   quoted change against last year's loaded document
fact_keys_unique             facts           hard   one fact row per (document, table, printed row)
===========================  ==============  =====  ====================================================

GX's multicolumn-sum expectation compares with a constant, so identities are
validated as residual columns: ``abs_residual`` (|actual − expected|) against
``tolerance`` (derived from the printed precision), row by row.

Configuration as data, declared with each table type in the registry
(``warehouse_schema/table_types.yaml``): ``required`` (which tables a budget
must publish) and ``non_negative`` (which amount fields must be ≥ 0).
"""

from __future__ import annotations

from functools import cache

from warehouse_schema import registry

RECONCILIATION_CHECKS: dict[str, str] = {
    "total_row_equals_sum_of_details": "合计 row = Σ detail rows (each amount column)",
    "total_equals_basic_plus_project": "合计 = 基本支出 + 项目支出 (every row)",
    "basic_equals_personnel_plus_public": "基本支出 = 工资福利 + 对个人和家庭的补助 + 商品和服务 + 资本性 (every row)",
    "subtotal_equals_children": "类/款 subtotal = Σ its 项 rows",
    "econ_total_equals_personnel_plus_public": "基本支出表: 合计 = 人员经费 + 公用经费 (every row)",
    "three_public_total_equals_parts": "“三公”经费合计 = 因公出国(境) + 公务用车购置及运行 + 公务接待",
    "three_public_vehicle_equals_parts": "公务用车购置及运行费 = 购置费 + 运行费",
    "income_total_equals_expense_total": "部门收支预算表: 收入总计 = 支出总计",
    "revenue_table_equals_summary": "部门收入预算表 合计 = 部门收支 本年收入合计",
    "expenditure_table_equals_summary": "部门支出预算表 合计 = 部门收支 本年支出合计",
    "fiscal_income_equals_expense": "财政拨款收支预算表: 收入合计 = 支出合计",
    "fiscal_within_department_expenditure": "财政拨款 支出合计 ≤ 部门支出 合计",
    "fiscal_gpb_equals_gpb_table": "财政拨款收支 一般公共预算支出 = 一般公共预算支出预算表 合计",
    "basic_expenditure_agrees_across_tables": "一般公共预算支出表 基本支出 = 一般公共预算基本支出表 合计",
}
NARRATIVE_GROUPS: dict[str, str] = {
    "narrative_amounts": "amounts quoted in the 说明 = the tables",
    "narrative_percentages": "shares quoted in the 说明 (占 x%) = the tables' ratio",
    "narrative_change_rates": "change rates quoted in the 说明 = quoted change / last year's figure",
}
PREVIOUS_YEAR_GROUPS: dict[str, str] = {
    "previous_year_change": "the 说明's change from last year = this year's table − last year's loaded document",
}

SUITE_CHECKS: dict[str, str] = {  # suite → asset check description
    "totals_reconcile": "Totals add up within each table and agree across the tables of each document (hard).",
    "codes_valid_and_unique": "Classification codes are valid for the fiscal year; one row per unit × code (hard).",
    "amounts_non_negative": "Expenditure, revenue and 三公 amounts are not negative (hard).",
    "required_tables_present": "The tables of the national template are present or published explicitly empty (hard).",
    "narrative_matches_tables": "Amounts and percentages quoted in the 说明 match the tables (soft: warning).",
    "previous_year_matches": "The 说明's change from last year matches last year's loaded document (soft: warning).",
}
HARD_SUITES = ("totals_reconcile", "codes_valid_and_unique", "amounts_non_negative", "required_tables_present")
SOFT_SUITES = ("narrative_matches_tables", "previous_year_matches")


def required_tables() -> dict[str, str]:
    """table_type → severity (hard | soft) of its absence: the registry's ``required``."""
    return registry.current().required_tables()


def non_negative_fields() -> dict[str, tuple[str, ...]]:
    """table_type → amount fields that must be ≥ 0: the registry's ``non_negative``."""
    return registry.current().non_negative_fields()


def _meta(check: str, severity: str, description: str) -> dict:
    return {"check_name": check, "severity": severity, "description": description}


def _residual_within_tolerance(group: str, severity: str, description: str):
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="tolerance",
        column_B="abs_residual",
        or_equal=True,
        row_condition=Column("group") == group,
        meta=_meta(group, severity, description),
    )


@cache
def suite(name: str):
    """The GX ExpectationSuite called ``name`` (built once per process)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    if name == "totals_reconcile":
        exps = [_residual_within_tolerance(c, "hard", d) for c, d in RECONCILIATION_CHECKS.items()]
    elif name == "narrative_matches_tables":
        exps = [_residual_within_tolerance(c, "soft", d) for c, d in NARRATIVE_GROUPS.items()]
    elif name == "previous_year_matches":
        exps = [_residual_within_tolerance(c, "soft", d) for c, d in PREVIOUS_YEAR_GROUPS.items()]
    elif name == "codes_valid_and_unique":
        exps = [
            gxe.ExpectColumnValuesToBeInSet(
                column="code_status",
                value_set=["ok", "variant_name", "unlisted"],
                meta=_meta(
                    "code_valid_for_year",
                    "hard",
                    "功能/经济分类 code exists in the catalog for the fiscal year and its printed name fits",
                ),
            ),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["document_sha256", "table_type", "unit_key", "code"],
                row_condition=Column("kind") == "detail",
                meta=_meta("one_row_per_grain", "hard", "one detail row per document × table × 单位 × code"),
            ),
        ]
    elif name == "amounts_non_negative":
        exps = [
            gxe.ExpectColumnValuesToBeBetween(
                column="amount_fen",
                min_value=0,
                meta=_meta("amount_non_negative", "hard", "amounts of the registry's non_negative fields are ≥ 0"),
            )
        ]
    elif name == "required_tables_present":
        exps = [
            gxe.ExpectColumnValuesToBeInSet(
                column="presence",
                value_set=["present", "empty"],
                meta=_meta(
                    "required_table_present", "hard", "the registry's required tables are present or explicitly empty"
                ),
            )
        ]
    elif name == "fact_keys_unique":
        exps = [
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["document_sha256", "table_type", "row_index"],
                meta=_meta(
                    "fact_key_unique", "hard", "one fact row per document × table × printed row (the load's key)"
                ),
            )
        ]
    else:
        raise KeyError(f"no suite {name!r}")
    return gx.ExpectationSuite(name=name, expectations=exps)
