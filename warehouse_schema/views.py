"""The analyst contract: views in schema ``mart``.

Amounts are 万元, NUMERIC with 2 decimals (rounded half away from zero from the
exact 元 amounts in ``core``).  Fact views show only documents whose status is
``loaded`` (they passed the blocking data-quality checks).  The SQL is the common
subset of DuckDB and PostgreSQL; views never read other mart views, so they can
be dropped and recreated in any order.

Names are as printed (``function_name``, ``econ_name``, ``department_name``);
``*_canonical`` / ``class_name`` come from the code dimensions, using the name
valid in the document's fiscal year.  README.md "Querying the warehouse"
documents every view with example queries.

Views are replaceable objects: :func:`create_views` (re)creates them and is run
by the migrations and by ``warehouse_schema.create_all`` whenever their
fingerprint changes; on PostgreSQL it grants SELECT to the analyst role.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import sqlalchemy as sa

from warehouse_schema.dictionary import apply_comments, source_text
from warehouse_schema.tables import FACT_TABLES, REVENUE_AMOUNT_COLUMNS, metadata
from warehouse_schema.tables import reference_state as rs

ANALYST_ROLE = "budget_analyst"
#: statement_timeout of the analyst role in the warehouse database (migration 0002; README: give each analyst
#: login the same, role settings are not inherited)
ANALYST_STATEMENT_TIMEOUT = "2min"


def _wan(col: str) -> str:
    """元 → 万元, exact: NUMERIC × 0.0001 stays NUMERIC in both engines (division would be DOUBLE in DuckDB)."""
    return f"CAST(ROUND(CAST({col} AS NUMERIC(20, 2)) * 0.0001, 2) AS NUMERIC(18, 2))"


def _yuan(col: str) -> str:
    """The exact 元 amount of an analyst view: NUMERIC(20, 2) in both engines."""
    return f"CAST({col} AS NUMERIC(20, 2))"


def _z(col: str) -> str:
    """The blank-cell rule: an amount cell printed blank reads 0 (as a printed 0.00, - or — does)."""
    return f"COALESCE({col}, 0)"


def _amounts(alias: str, pairs: list[tuple[str, str]]) -> tuple[str, str]:
    """``(wan columns, yuan columns)`` of a fact view for ``[(core column, view name stem)]``: each amount
    in 万元 (``<stem>_wan``, rounded once from 元) and exact in 元 (``<stem>_yuan``), blank cells as 0."""
    exprs = [(col if "(" in col else _z(f"{alias}.{col}"), stem) for col, stem in pairs]  # a column, or an expression
    wan = ",\n               ".join(f"{_wan(expr)} AS {stem}_wan" for expr, stem in exprs)
    yuan = ", ".join(f"{_yuan(expr)} AS {stem}_yuan" for expr, stem in exprs)
    return wan, yuan


#: the unit a fact's table is printed in (万元 / 元), from core.extracted_table
_UNIT = """
        LEFT JOIN core.extracted_table pu
            ON pu.document_sha256 = {f}.document_sha256 AND pu.table_type = {f}.table_type"""


def _valid(alias: str, year: str) -> str:
    """The version of a code valid in ``year`` (versions of a code never overlap)."""
    return (
        f"({alias}.valid_from IS NULL OR {year} >= {alias}.valid_from) "
        f"AND ({alias}.valid_to IS NULL OR {year} <= {alias}.valid_to)"
    )


#: documents that passed the blocking checks, with their region
_LOADED = """
        JOIN core.document d ON d.document_sha256 = {f}.document_sha256 AND d.status = 'loaded'
        LEFT JOIN core.dim_region r ON r.region_code = d.region_code"""

#: the leaf rows of the 一般公共预算支出预算表: every 项, and a 款 (or 类) printed without rows under it
_GPB_DETAIL = (
    "{f}.table_type = 'gpb_expenditure' AND {f}.row_kind = 'detail' AND LENGTH({f}.function_code) IN (3, 5, 7)"
)

#: a document counted in roll-ups: not a unit's own budget (单位预算) whose department's consolidated budget
#: (部门预算, which includes it) is loaded for the same region and year — each amount is counted once
_COUNTED = """NOT EXISTS (
            SELECT 1 FROM core.document p
            WHERE {d}.budget_level = 'unit' AND p.status = 'loaded' AND p.document_sha256 <> {d}.document_sha256
              AND p.region_code = {d}.region_code AND p.fiscal_year = {d}.fiscal_year
              AND COALESCE(p.budget_level, 'department') = 'department'
              AND (p.department_key = {d}.parent_department_key
                   OR POSITION('|' || {d}.department_name || '|' IN '|' || COALESCE(p.budget_units, '') || '|') > 0))"""

#: department-year rows of the 一般公共预算支出预算表 by 类, under the current department key
_DEPT_CLASS_YEAR = f"""
        SELECT COALESCE(x.new_department_key, d.department_key) AS department_key, d.region_code, d.fiscal_year,
               SUBSTR(f.function_code, 1, 3) AS class_code, SUM(f.total_yuan) AS total_yuan
        FROM core.fact_function_expenditure f
        JOIN core.document d ON d.document_sha256 = f.document_sha256 AND d.status = 'loaded'
        LEFT JOIN core.department_crosswalk x ON x.old_department_key = d.department_key
        WHERE {_GPB_DETAIL.format(f="f")} AND {_COUNTED.format(d="d")}
        GROUP BY COALESCE(x.new_department_key, d.department_key), d.region_code, d.fiscal_year,
                 SUBSTR(f.function_code, 1, 3)"""

#: department-years that have a loaded 一般公共预算支出预算表 (an empty one counts: all 类 are 0)
_DEPT_YEARS = f"""
        SELECT DISTINCT COALESCE(x.new_department_key, d.department_key) AS department_key, d.fiscal_year
        FROM core.document d
        JOIN core.extracted_table t ON t.document_sha256 = d.document_sha256 AND t.table_type = 'gpb_expenditure'
        LEFT JOIN core.department_crosswalk x ON x.old_department_key = d.department_key
        WHERE d.status = 'loaded' AND {_COUNTED.format(d="d")}"""

#: latest published name of each (current) department key
_DEPT_NAME = """
        SELECT k.department_key, MAX(d.department_name) AS department_name
        FROM (SELECT COALESCE(x.new_department_key, d.department_key) AS department_key,
                     MAX(d.fiscal_year) AS last_year
              FROM core.document d
              LEFT JOIN core.department_crosswalk x ON x.old_department_key = d.department_key
              WHERE d.department_key IS NOT NULL
              GROUP BY COALESCE(x.new_department_key, d.department_key)) k
        JOIN core.document d ON d.department_key = k.department_key AND d.fiscal_year = k.last_year
        GROUP BY k.department_key"""

_PROJECT_SOURCES = (
    # (column, fund source, funding)
    ("gpb_yuan", "general_public_budget", "current_year"),
    ("gov_fund_yuan", "government_fund", "current_year"),
    ("soe_capital_yuan", "state_capital", "current_year"),
    ("special_account_yuan", "special_account", "current_year"),
    ("unit_funds_yuan", "other", "current_year"),
    ("carryover_gpb_yuan", "general_public_budget", "carryover"),
    ("carryover_gov_fund_yuan", "government_fund", "carryover"),
    ("carryover_soe_capital_yuan", "state_capital", "carryover"),
)

_DOC_COLS = "d.region_code, r.region_name, d.fiscal_year, d.department_name"

_EF_WAN, _EF_YUAN = _amounts("f", [("total_yuan", "total"), ("basic_yuan", "basic"), ("project_yuan", "project")])
_BE_WAN, _BE_YUAN = _amounts("e", [("personnel_yuan", "personnel"), ("public_yuan", "public"), ("total_yuan", "total")])
_TP_WAN, _TP_YUAN = _amounts(
    "t",
    [
        ("total_yuan", "total"),
        ("outbound_yuan", "outbound"),
        ("vehicle_purchase_yuan", "vehicle_purchase"),
        ("vehicle_operation_yuan", "vehicle_operation"),
        ("vehicle_total_yuan", "vehicle_total"),
        ("reception_yuan", "reception"),
    ],
)
#: 项目支出: 结转 is the sum of its three fund sources (blank cells 0)
_CARRYOVER = (
    "(COALESCE(p.carryover_gpb_yuan, 0) + COALESCE(p.carryover_gov_fund_yuan, 0) + "
    "COALESCE(p.carryover_soe_capital_yuan, 0))"
)
_PE_WAN, _PE_YUAN = _amounts(
    "p",
    [
        ("total_yuan", "total"),
        ("gpb_yuan", "gpb"),
        ("gov_fund_yuan", "gov_fund"),
        ("soe_capital_yuan", "soe_capital"),
        (_CARRYOVER, "carryover"),
        ("special_account_yuan", "special_account"),
        ("unit_funds_yuan", "unit_funds"),
    ],
)

VIEWS: dict[str, str] = {
    "mart.documents": f"""
        SELECT d.document_sha256, d.source_url, d.region_code, d.fiscal_year, d.department_name,
               d.doc_type, d.status, d.status_reason, d.page_count, d.fetched_at,
               d.department_key, d.budget_phase, d.title,
               d.budget_level, d.parent_department,
               CASE WHEN d.status = 'loaded' THEN {_COUNTED.format(d="d")} END AS in_rollups
        FROM core.document d
    """,
    "mart.quality_findings": """
        SELECT f.document_sha256, f.check_name, f.severity, f.expected, f.actual, f.page, f.detail,
               f.table_type, f.row_index
        FROM core.quality_finding f
    """,
    "mart.expenditure_by_function": f"""
        SELECT {_DOC_COLS},
               COALESCE(f.unit_name, d.department_name) AS unit_name,
               f.function_code, f.function_name,
               SUBSTR(f.function_code, 1, 3) AS class_code,
               cc.name AS class_name,
               {_EF_WAN},
               f.document_sha256, f.page,
               fc.name AS function_name_canonical, d.department_key, f.unit_code,
               {_EF_YUAN}, pu.unit AS printed_unit, f.code_printed
        FROM core.fact_function_expenditure f {_LOADED.format(f="f")} {_UNIT.format(f="f")}
        LEFT JOIN core.dim_function_code fc ON fc.function_code = f.function_code AND {_valid("fc", "d.fiscal_year")}
        LEFT JOIN core.dim_function_code cc
            ON cc.function_code = SUBSTR(f.function_code, 1, 3) AND {_valid("cc", "d.fiscal_year")}
        WHERE {_GPB_DETAIL.format(f="f")}
    """,
    "mart.basic_expenditure_by_economic": f"""
        SELECT {_DOC_COLS},
               COALESCE(e.unit_name, d.department_name) AS unit_name,
               e.econ_code, e.econ_name, e.gov_econ_code,
               {_BE_WAN},
               e.document_sha256, e.page,
               ec.name AS econ_name_canonical, e.gov_econ_name, gc.name AS gov_econ_name_canonical,
               d.department_key, {_BE_YUAN}, pu.unit AS printed_unit,
               e.econ_code_printed, e.code_printed
        FROM core.fact_basic_economic e {_LOADED.format(f="e")} {_UNIT.format(f="e")}
        LEFT JOIN core.dim_econ_code ec
            ON ec.scheme = 'dept' AND ec.econ_code = e.econ_code AND {_valid("ec", "d.fiscal_year")}
        LEFT JOIN core.dim_econ_code gc
            ON gc.scheme = 'gov' AND gc.econ_code = e.gov_econ_code AND {_valid("gc", "d.fiscal_year")}
        WHERE e.table_type = 'gpb_basic_expenditure' AND e.row_kind = 'detail' AND LENGTH(e.econ_code) = 5
    """,
    "mart.departments": f"""
        SELECT k.department_key, COALESCE(x.new_department_key, k.department_key) AS current_department_key,
               k.region_code, r.region_name,
               (SELECT MAX(d2.department_name) FROM core.document d2
                WHERE d2.department_key = k.department_key AND d2.fiscal_year = k.last_year
                  AND d2.doc_type = 'budget') AS department_name,
               k.first_year, k.last_year, k.documents, k.published_names,
               n.department_name AS current_department_name
        FROM (SELECT d.department_key, MIN(d.region_code) AS region_code, MIN(d.fiscal_year) AS first_year,
                     MAX(d.fiscal_year) AS last_year, COUNT(*) AS documents,
                     STRING_AGG(DISTINCT d.department_name, ' | ' ORDER BY d.department_name) AS published_names
              FROM core.document d
              WHERE d.department_key IS NOT NULL AND d.doc_type = 'budget'
              GROUP BY d.department_key) k
        LEFT JOIN core.department_crosswalk x ON x.old_department_key = k.department_key
        LEFT JOIN core.dim_region r ON r.region_code = k.region_code
        LEFT JOIN ({_DEPT_NAME}) n ON n.department_key = COALESCE(x.new_department_key, k.department_key)
    """,
    "mart.function_codes": """
        SELECT c.function_code, c.level, c.name, c.parent_code, c.class_code, c.valid_from, c.valid_to, c.version
        FROM core.dim_function_code c
    """,
    "mart.class_totals_by_region_year": f"""
        SELECT x.region_code, r.region_name, r.prefecture, r.province, x.fiscal_year, x.class_code,
               cc.name AS class_name, x.departments, x.documents,
               {_wan("x.total_yuan")} AS total_wan,
               {_wan("x.basic_yuan")} AS basic_wan,
               {_wan("x.project_yuan")} AS project_wan,
               {_yuan("x.total_yuan")} AS total_yuan, {_yuan("x.basic_yuan")} AS basic_yuan,
               {_yuan("x.project_yuan")} AS project_yuan
        FROM (SELECT d.region_code, d.fiscal_year, SUBSTR(f.function_code, 1, 3) AS class_code,
                     COUNT(DISTINCT d.department_key) AS departments,
                     COUNT(DISTINCT d.document_sha256) AS documents,
                     -- summed in 元, rounded to 万元 once
                     SUM({_z("f.total_yuan")}) AS total_yuan, SUM({_z("f.basic_yuan")}) AS basic_yuan,
                     SUM({_z("f.project_yuan")}) AS project_yuan
              FROM core.fact_function_expenditure f
              JOIN core.document d ON d.document_sha256 = f.document_sha256 AND d.status = 'loaded'
              WHERE {_GPB_DETAIL.format(f="f")} AND {_COUNTED.format(d="d")}
              GROUP BY d.region_code, d.fiscal_year, SUBSTR(f.function_code, 1, 3)) x
        LEFT JOIN core.dim_region r ON r.region_code = x.region_code
        LEFT JOIN core.dim_function_code cc ON cc.function_code = x.class_code AND {_valid("cc", "x.fiscal_year")}
    """,
    "mart.expenditure_yoy_by_department_class": f"""
        WITH cur AS ({_DEPT_CLASS_YEAR}),
             years AS ({_DEPT_YEARS}),
             filled AS (
                 -- every year the department published × every 类 it ever had (absent = 0)
                 SELECT y.department_key, y.fiscal_year, c.class_code, c.region_code, a.total_yuan
                 FROM years y
                 JOIN (SELECT DISTINCT department_key, class_code, region_code FROM cur) c
                   ON c.department_key = y.department_key
                 LEFT JOIN cur a ON a.department_key = y.department_key AND a.fiscal_year = y.fiscal_year
                                AND a.class_code = c.class_code),
             w AS (
                 SELECT f.*,
                        LAG(f.fiscal_year) OVER (PARTITION BY f.department_key, f.class_code
                                                 ORDER BY f.fiscal_year) AS prev_year,
                        LAG(f.total_yuan) OVER (PARTITION BY f.department_key, f.class_code
                                                ORDER BY f.fiscal_year) AS prev_yuan
                 FROM filled f)
        SELECT w.region_code, r.region_name, w.department_key, n.department_name, w.class_code,
               cc.name AS class_name, w.fiscal_year,
               {_wan("COALESCE(w.total_yuan, 0)")} AS total_wan,
               -- a previous year only when the department published the year before
               -- (CASE loses a NUMERIC's precision in PostgreSQL: cast again)
               CAST(CASE WHEN w.prev_year = w.fiscal_year - 1 THEN {_wan("COALESCE(w.prev_yuan, 0)")} END
                    AS NUMERIC(18, 2)) AS prev_total_wan,
               CAST(CASE WHEN w.prev_year = w.fiscal_year - 1
                         THEN {_wan("COALESCE(w.total_yuan, 0) - COALESCE(w.prev_yuan, 0)")} END
                    AS NUMERIC(18, 2)) AS change_wan,
               -- NULL when the class had no amount the year before.  Not written as
               -- CASE WHEN COALESCE(x, 0) <> 0: DuckDB 2.0.1 evaluates that to false under a pushed-down filter
               CAST(CASE WHEN w.prev_year = w.fiscal_year - 1
                         THEN ROUND(CAST((COALESCE(w.total_yuan, 0) - w.prev_yuan) * 100 / NULLIF(w.prev_yuan, 0)
                                         AS NUMERIC(30, 6)), 2) END AS NUMERIC(12, 2)) AS change_pct,
               {_yuan("COALESCE(w.total_yuan, 0)")} AS total_yuan,
               {_yuan("CASE WHEN w.prev_year = w.fiscal_year - 1 THEN COALESCE(w.prev_yuan, 0) END")}
                   AS prev_total_yuan,
               {
        _yuan("CASE WHEN w.prev_year = w.fiscal_year - 1 THEN COALESCE(w.total_yuan, 0) - COALESCE(w.prev_yuan, 0) END")
    } AS change_yuan
        FROM w
        LEFT JOIN core.dim_region r ON r.region_code = w.region_code
        LEFT JOIN ({_DEPT_NAME}) n ON n.department_key = w.department_key
        LEFT JOIN core.dim_function_code cc ON cc.function_code = w.class_code AND {_valid("cc", "w.fiscal_year")}
    """,
    "mart.revenue_by_source": f"""
        SELECT {_DOC_COLS}, v.income_item AS item_name, v.revenue_category, rc.name_zh AS revenue_category_name,
               v.fund_source, fs.name_zh AS fund_source_name, v.income_kind AS category_kind, v.is_of_which,
               {_wan(_z("v.income_amount_yuan"))} AS amount_wan,
               v.document_sha256, v.page, v.row_index, d.department_key,
               {_yuan(_z("v.income_amount_yuan"))} AS amount_yuan, pu.unit AS printed_unit
        FROM core.fact_budget_summary v {_LOADED.format(f="v")} {_UNIT.format(f="v")}
        LEFT JOIN core.dim_revenue_category rc ON rc.revenue_category = v.revenue_category
        LEFT JOIN core.dim_fund_source fs ON fs.fund_source = v.fund_source
        WHERE v.income_item IS NOT NULL
    """,
    # one row per amount: a blank cell and a printed 0.00 make none
    "mart.revenue_by_function": f"""
        SELECT {_DOC_COLS}, COALESCE(v.unit_name, d.department_name) AS unit_name,
               v.function_code, v.item_name AS function_name, SUBSTR(v.function_code, 1, 3) AS class_code,
               cc.name AS class_name, v.revenue_category, rc.name_zh AS revenue_category_name,
               rc.fund_source, fs.name_zh AS fund_source_name,
               {_wan("v.amount_yuan")} AS amount_wan,
               v.document_sha256, v.page, d.department_key,
               {_yuan("v.amount_yuan")} AS amount_yuan, pu.unit AS printed_unit
        FROM ({
        " UNION ALL ".join(
            f"SELECT document_sha256, table_type, page, row_kind, function_code, item_name, unit_name, "
            f"'{category}' AS revenue_category, {column} AS amount_yuan "
            f"FROM core.fact_revenue WHERE {column} IS NOT NULL AND {column} <> 0"
            for column, category in REVENUE_AMOUNT_COLUMNS.items()
            if category != "total"
        )
    }) v {_LOADED.format(f="v")}
        {_UNIT.format(f="v")}
        LEFT JOIN core.dim_revenue_category rc ON rc.revenue_category = v.revenue_category
        LEFT JOIN core.dim_fund_source fs ON fs.fund_source = rc.fund_source
        LEFT JOIN core.dim_function_code cc
            ON cc.function_code = SUBSTR(v.function_code, 1, 3) AND {_valid("cc", "d.fiscal_year")}
        WHERE v.row_kind = 'detail' AND LENGTH(v.function_code) = 7
    """,
    "mart.fiscal_appropriation": f"""
        SELECT {_DOC_COLS}, a.side, a.item_name, a.item_kind, a.revenue_category, a.fund_source, a.is_of_which,
               a.class_code, cc.name AS class_name,
               {_wan("a.total_yuan")} AS total_wan,
               {_wan("a.gpb_yuan")} AS gpb_wan,
               {_wan("a.gpb_fiscal_yuan")} AS gpb_fiscal_wan,
               {_wan("a.gov_fund_yuan")} AS gov_fund_wan,
               {_wan("a.soe_capital_yuan")} AS soe_capital_wan,
               a.document_sha256, a.page, a.row_index, d.department_key,
               {_yuan("a.total_yuan")} AS total_yuan, {_yuan("a.gpb_yuan")} AS gpb_yuan,
               {_yuan("a.gpb_fiscal_yuan")} AS gpb_fiscal_yuan, {_yuan("a.gov_fund_yuan")} AS gov_fund_yuan,
               {_yuan("a.soe_capital_yuan")} AS soe_capital_yuan, pu.unit AS printed_unit
        -- blank cells read 0; the 收入 side prints one amount (total): its other columns do not apply (NULL)
        FROM (SELECT document_sha256, table_type, page, row_index, 'income' AS side, income_item AS item_name,
                     income_kind AS item_kind, revenue_category, fund_source, is_of_which,
                     CAST(NULL AS VARCHAR(3)) AS class_code, {_z("income_amount_yuan")} AS total_yuan,
                     CAST(NULL AS NUMERIC(20, 2)) AS gpb_yuan, CAST(NULL AS NUMERIC(20, 2)) AS gpb_fiscal_yuan,
                     CAST(NULL AS NUMERIC(20, 2)) AS gov_fund_yuan, CAST(NULL AS NUMERIC(20, 2)) AS soe_capital_yuan
              FROM core.fact_fiscal_appropriation WHERE income_item IS NOT NULL
              UNION ALL
              SELECT document_sha256, table_type, page, row_index, 'expense', expense_item, expense_kind,
                     NULL, NULL, NULL, class_code, {_z("expense_total_yuan")}, {_z("expense_gpb_yuan")},
                     {_z("expense_gpb_fiscal_yuan")}, {_z("expense_gov_fund_yuan")}, {_z("expense_soe_capital_yuan")}
              FROM core.fact_fiscal_appropriation WHERE expense_item IS NOT NULL) a {_LOADED.format(f="a")}
        {_UNIT.format(f="a")}
        LEFT JOIN core.dim_function_code cc ON cc.function_code = a.class_code AND {_valid("cc", "d.fiscal_year")}
    """,
    "mart.project_expenditure": f"""
        SELECT {_DOC_COLS}, p.project_name, p.category, p.project_unit,
               {_PE_WAN},
               p.document_sha256, p.page, d.department_key,
               {_PE_YUAN}, pu.unit AS printed_unit
        FROM core.fact_project_expenditure p {_LOADED.format(f="p")} {_UNIT.format(f="p")}
        WHERE p.table_type = 'project_expenditure' AND p.row_kind = 'detail'
    """,
    "mart.project_expenditure_by_fund_source": f"""
        SELECT {_DOC_COLS}, p.project_name, p.category, p.project_unit, p.fund_source,
               fs.name_zh AS fund_source_name, p.funding, {_wan("p.amount_yuan")} AS amount_wan,
               p.document_sha256, p.page, d.department_key,
               {_yuan("p.amount_yuan")} AS amount_yuan, pu.unit AS printed_unit
        FROM ({
        " UNION ALL ".join(
            f"SELECT document_sha256, table_type, page, row_kind, project_name, category, project_unit, "
            f"'{source}' AS fund_source, '{funding}' AS funding, {col} AS amount_yuan "
            f"FROM core.fact_project_expenditure WHERE {col} IS NOT NULL AND {col} <> 0"
            for col, source, funding in _PROJECT_SOURCES
        )
    }) p {_LOADED.format(f="p")} {_UNIT.format(f="p")}
        LEFT JOIN core.dim_fund_source fs ON fs.fund_source = p.fund_source
        WHERE p.row_kind = 'detail'
    """,
    "mart.three_public": f"""
        SELECT {_DOC_COLS},
               {_TP_WAN},
               t.document_sha256, t.page, d.department_key,
               {_TP_YUAN}, pu.unit AS printed_unit
        FROM core.fact_three_public t {_LOADED.format(f="t")} {_UNIT.format(f="t")}
    """,
    "mart.performance_targets": f"""
        SELECT {_DOC_COLS},
               CASE WHEN t.table_type = 'dept_performance' THEN 'department' ELSE 'project' END AS target_scope,
               t.project_code, t.project_name, t.category,
               {_wan("t.project_total_yuan")} AS project_total_wan,
               t.indicator_l1, t.indicator_l2, t.indicator_l3, t.target_text, t.target_operator,
               t.target_value, t.target_unit, t.description,
               t.document_sha256, t.page, t.row_index, d.department_key,
               {_yuan("t.project_total_yuan")} AS project_total_yuan, pu.unit AS printed_unit
        FROM core.fact_performance_target t {_LOADED.format(f="t")} {_UNIT.format(f="t")}
        WHERE t.indicator_l1 IS NOT NULL OR t.indicator_l3 IS NOT NULL
    """,
}


def _document_report() -> str:
    """mart.document_report: one row per document — its document set (same region, department after the
    crosswalk's renames/aliases, fiscal year), tables found, unrecognised tables, fact rows loaded, findings,
    and which data-quality suites passed / failed (validated documents only)."""
    facts = " UNION ALL ".join(f"SELECT document_sha256 FROM core.{t.name}" for t in FACT_TABLES)
    # prefixes by SUBSTR, not LIKE '…%': views are created with exec_driver_sql, where psycopg reads % as a placeholder
    suite = """CASE WHEN SUBSTR(f.check_name, 1, 9) = 'narrative' THEN 'narrative_matches_tables'
                    WHEN SUBSTR(f.check_name, 1, 13) = 'previous_year' THEN 'previous_year_matches'
                    WHEN SUBSTR(f.check_name, 1, 5) = 'code_' OR f.check_name = 'one_row_per_grain'
                        THEN 'codes_valid_and_unique'
                    WHEN f.check_name = 'amount_non_negative' THEN 'amounts_non_negative'
                    WHEN f.check_name = 'required_table_present' THEN 'required_tables_present'
                    WHEN f.check_name = 'fact_key_unique' THEN 'loadable_documents_valid'
                    ELSE 'totals_reconcile' END"""
    suites = ", ".join(
        f"('{name}', {i})"
        for i, name in enumerate(
            (
                "totals_reconcile",
                "codes_valid_and_unique",
                "amounts_non_negative",
                "required_tables_present",
                "narrative_matches_tables",
                "previous_year_matches",
            )
        )
    )
    return f"""
        SELECT d.document_sha256, d.region_code, r.region_name, d.fiscal_year, d.department_name,
               ds.document_set, ds.set_documents, d.status, d.status_reason, d.title, d.source_url, d.page_count,
               COALESCE(t.tables_found, 0) AS tables_found, t.table_types,
               CAST(COALESCE(t.empty_tables, 0) AS BIGINT) AS empty_tables,
               COALESCE(u.unrecognised_tables, 0) AS unrecognised_tables, u.unrecognised_titles,
               COALESCE(n.rows_loaded, 0) AS rows_loaded,
               CAST(COALESCE(q.hard_findings, 0) AS BIGINT) AS hard_findings,
               CAST(COALESCE(q.soft_findings, 0) AS BIGINT) AS soft_findings,
               q.checks_failed, p.checks_passed
        FROM core.document d
        LEFT JOIN core.dim_region r ON r.region_code = d.region_code
        LEFT JOIN (SELECT d2.document_sha256,
                          COALESCE(x.new_department_key, d2.department_key) || ':' || CAST(d2.fiscal_year AS TEXT)
                              AS document_set,
                          COUNT(*) OVER (PARTITION BY COALESCE(x.new_department_key, d2.department_key),
                                         d2.fiscal_year) AS set_documents
                   FROM core.document d2
                   LEFT JOIN core.department_crosswalk x ON x.old_department_key = d2.department_key
                   WHERE d2.department_key IS NOT NULL AND d2.fiscal_year IS NOT NULL
                     AND d2.status <> 'superseded') ds ON ds.document_sha256 = d.document_sha256
        LEFT JOIN (SELECT document_sha256, COUNT(*) AS tables_found,
                          STRING_AGG(table_type, ',' ORDER BY first_page, table_type) AS table_types,
                          SUM(CASE WHEN is_empty THEN 1 ELSE 0 END) AS empty_tables
                   FROM core.extracted_table GROUP BY document_sha256) t ON t.document_sha256 = d.document_sha256
        LEFT JOIN (SELECT document_sha256, COUNT(*) AS unrecognised_tables,
                          STRING_AGG(COALESCE(actual, '(untitled)') || ' (p. ' || CAST(page AS TEXT) || ')', '; '
                                     ORDER BY page) AS unrecognised_titles
                   FROM core.quality_finding WHERE check_name = 'unrecognised_table'
                   GROUP BY document_sha256) u ON u.document_sha256 = d.document_sha256
        LEFT JOIN (SELECT document_sha256, COUNT(*) AS rows_loaded FROM ({facts}) a
                   GROUP BY document_sha256) n ON n.document_sha256 = d.document_sha256
        LEFT JOIN (SELECT f.document_sha256,
                          SUM(CASE WHEN f.severity = 'hard' THEN 1 ELSE 0 END) AS hard_findings,
                          SUM(CASE WHEN f.severity = 'soft' THEN 1 ELSE 0 END) AS soft_findings,
                          STRING_AGG(DISTINCT {suite}, ',') AS checks_failed
                   FROM core.quality_finding f WHERE f.severity IN ('hard', 'soft')
                   GROUP BY f.document_sha256) q ON q.document_sha256 = d.document_sha256
        LEFT JOIN (SELECT d3.document_sha256, STRING_AGG(s.suite, ',' ORDER BY s.ord) AS checks_passed
                   FROM core.document d3 CROSS JOIN (VALUES {suites}) AS s(suite, ord)
                   WHERE d3.status IN ('loaded', 'quarantined') AND NOT EXISTS (
                       SELECT 1 FROM core.quality_finding f
                       WHERE f.document_sha256 = d3.document_sha256 AND f.severity IN ('hard', 'soft')
                         AND {suite} = s.suite)
                   GROUP BY d3.document_sha256) p ON p.document_sha256 = d.document_sha256
    """


VIEWS["mart.document_report"] = _document_report()

#: creation order
VIEW_ORDER = list(VIEWS)


_TABLE_REF = re.compile(r"\b(core|mart|raw)\.([a-z_][a-z0-9_]*)\b")


def view_dependencies() -> dict[str, list[str]]:
    """The tables and views each view's SQL reads (``schema.name``, sorted): names that are a table of
    ``warehouse_schema.tables.metadata`` or another view (read from the SQL, not listed by hand)."""
    known = set(metadata.tables) | set(VIEWS)
    return {
        view: sorted({f"{schema}.{name}" for schema, name in _TABLE_REF.findall(sql)} & known - {view})
        for view, sql in VIEWS.items()
    }


def views_fingerprint() -> str:
    """Of the view definitions and of their data dictionary (the comments)."""
    h = hashlib.sha256()
    h.update(b"security_barrier")  # views made before the barrier are recreated
    for name in VIEW_ORDER:
        h.update(name.encode())
        h.update(VIEWS[name].encode())
    h.update(source_text().encode())
    return h.hexdigest()


def create_views(conn: sa.Connection) -> None:
    """Drop and create every mart view with its comments from the data dictionary (in the caller's
    transaction); on PostgreSQL grant SELECT on them to the analyst role when it exists.

    On PostgreSQL every view is a ``security_barrier``: the views filter rows (only ``loaded`` documents),
    and without the barrier the planner may run a cheap function of an analyst's WHERE clause (a
    ``RAISE NOTICE``, a cast that fails with the value in its message) on rows the view filters out."""
    barrier = " WITH (security_barrier = true)" if conn.dialect.name == "postgresql" else ""
    for name in reversed(VIEW_ORDER):
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    for name in VIEW_ORDER:
        conn.exec_driver_sql(f"CREATE VIEW {name}{barrier} AS {VIEWS[name]}")
    apply_comments(conn, VIEW_ORDER)
    if conn.dialect.name == "postgresql":
        grant_analyst(conn)


def grant_analyst(conn: sa.Connection) -> None:
    """SELECT on every mart view for the analyst role (PostgreSQL; no-op if the role is missing)."""
    exists = conn.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{ANALYST_ROLE}'").first()
    if exists:
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA mart TO {ANALYST_ROLE}")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA mart TO {ANALYST_ROLE}")


def sync_views(conn: sa.Connection, *, force: bool = False) -> bool:
    """Recreate the mart views when their definitions changed (fingerprint in
    ``core.reference_state``); returns whether they were recreated."""
    fp = views_fingerprint()
    current = conn.execute(sa.select(rs.c.fingerprint).where(rs.c.name == "views")).scalar()
    if current == fp and not force:
        return False
    create_views(conn)
    conn.execute(sa.delete(rs).where(rs.c.name == "views"))
    conn.execute(
        sa.insert(rs).values(name="views", fingerprint=fp, loaded_at=datetime.now(UTC).isoformat(timespec="seconds"))
    )
    return True
