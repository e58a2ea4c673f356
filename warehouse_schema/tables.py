"""SQLAlchemy metadata for every warehouse table: one definition for DuckDB and PostgreSQL.

Schemas:
* ``raw``  – what the crawler fetched (the manifest);
* ``core`` – dimensions (reference data loaded from the catalogs, see
  :mod:`assets.load.reference`), documents, facts at the printed grain (amounts
  in 元, exact NUMERIC, each row with its document, page and row) and
  data-quality findings;
* ``mart`` – the analysts' views (see :mod:`warehouse_schema.views`).

PostgreSQL gets these tables through the Alembic migrations in
``warehouse_schema/migrations`` (``tests/test_warehouse_pg.py`` checks that the
migrated schema equals this metadata); DuckDB through ``metadata.create_all``.
Never reflect against DuckDB (duckdb-engine's reflection is broken on this
stack): code always uses these Table objects.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

AMOUNT = sa.Numeric(20, 2)  # 元, exact
SCHEMAS = ("raw", "core", "mart")

# -- raw ---------------------------------------------------------------------

manifest = sa.Table(
    "manifest",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),  # "" when nothing was stored
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("fetched_at", sa.Text),
    sa.Column("http_status", sa.Integer),
    sa.Column("content_type", sa.Text),
    sa.Column("bytes", sa.BigInteger),
    sa.Column("year", sa.Integer),  # detected fiscal year
    sa.Column("department", sa.Text),  # detected 部门名称
    sa.Column("doc_type", sa.Text),  # budget | final_accounts | other
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("page_count", sa.Integer),
    schema="raw",
    comment="every fetch of every attachment URL (one row per URL and content version)",
)

# -- core: dimensions (reference data) ----------------------------------------

dim_region = sa.Table(
    "dim_region",
    metadata,
    sa.Column("region_code", sa.String(6), primary_key=True),  # 行政区划代码
    sa.Column("region_name", sa.Text, nullable=False),
    sa.Column("prefecture", sa.Text),  # 地级市
    sa.Column("province", sa.Text),
    sa.Column("level", sa.Text),  # province | prefecture | county
    sa.Column("historical", sa.Boolean),  # code/name only in the 2020 list (renamed since)
    schema="core",
    comment="administrative divisions (国家统计局 codes) from the catalogs, plus regions named in sources.yaml",
)

dim_fiscal_year = sa.Table(
    "dim_fiscal_year",
    metadata,
    sa.Column("fiscal_year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("label", sa.Text, nullable=False),  # "2024年"
    sa.Column("econ_classification", sa.Text, nullable=False),  # pre_2018 | 2018_reform (财预〔2017〕98号)
    schema="core",
)

dim_budget_phase = sa.Table(
    "dim_budget_phase",
    metadata,
    sa.Column("budget_phase", sa.Text, primary_key=True),  # budget | final_accounts
    sa.Column("name_zh", sa.Text, nullable=False),  # 预算 | 决算
    schema="core",
)

dim_fund_source = sa.Table(
    "dim_fund_source",
    metadata,
    sa.Column("fund_source", sa.Text, primary_key=True),  # general_public_budget …
    sa.Column("name_zh", sa.Text, nullable=False),  # 一般公共预算 …
    sa.Column("sort_order", sa.Integer, nullable=False),
    schema="core",
)

dim_revenue_category = sa.Table(
    "dim_revenue_category",
    metadata,
    sa.Column("revenue_category", sa.Text, primary_key=True),  # key in revenue_categories.csv
    sa.Column("name_zh", sa.Text, nullable=False),
    sa.Column("fund_source", sa.Text),  # empty for totals
    sa.Column("kind", sa.Text, nullable=False),  # revenue | carryover | total
    schema="core",
)

dim_table_template = sa.Table(
    "dim_table_template",
    metadata,
    sa.Column("table_type", sa.Text, primary_key=True),  # TABLE_* key of assets/records.py
    sa.Column("name_zh", sa.Text, nullable=False),  # 部门收支预算表 …
    sa.Column("kind", sa.Text, nullable=False),  # grid | two_sided | text
    sa.Column("fact_table", sa.Text),  # core fact table its rows go to (None: kept in extracted_table only)
    schema="core",
)

dim_function_code = sa.Table(
    "dim_function_code",
    metadata,
    sa.Column("function_code", sa.String(7), primary_key=True),  # 支出功能分类科目 3/5/7 digits
    sa.Column("version", sa.Integer, primary_key=True),  # 1 = oldest name of the code
    sa.Column("level", sa.Text, nullable=False),  # class 类 | kuan 款 | xiang 项
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent_code", sa.String(7)),
    sa.Column("class_code", sa.String(3), nullable=False),
    sa.Column("valid_from", sa.Integer),  # inclusive; NULL = open
    sa.Column("valid_to", sa.Integer),  # inclusive; NULL = open
    sa.Column("note", sa.Text),
    schema="core",
    comment="function codes with year-versioned names (catalogs/function_codes.csv)",
)

function_code_crosswalk = sa.Table(
    "function_code_crosswalk",
    metadata,
    sa.Column("link_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("old_code", sa.String(7), nullable=False),
    sa.Column("old_valid_to", sa.Integer),
    sa.Column("new_code", sa.String(7), nullable=False),
    sa.Column("new_valid_from", sa.Integer),
    sa.Column("relation", sa.Text, nullable=False),  # renamed | moved | split | merged
    sa.Column("note", sa.Text),
    schema="core",
)

dim_econ_code = sa.Table(
    "dim_econ_code",
    metadata,
    sa.Column("scheme", sa.Text, primary_key=True),  # dept 部门预算支出经济分类 | gov 政府预算支出经济分类
    sa.Column("econ_code", sa.String(5), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("level", sa.Text, nullable=False),  # class | kuan
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent_code", sa.String(5)),
    sa.Column("valid_from", sa.Integer),
    sa.Column("valid_to", sa.Integer),
    sa.Column("note", sa.Text),
    schema="core",
)

econ_code_correspondence = sa.Table(
    "econ_code_correspondence",
    metadata,
    sa.Column("link_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("dept_code", sa.String(5), nullable=False),
    sa.Column("gov_code", sa.String(5), nullable=False),
    sa.Column("unit_kind", sa.Text, nullable=False),  # admin 机关 | institution 事业单位 | any
    sa.Column("valid_from", sa.Integer),
    sa.Column("valid_to", sa.Integer),
    sa.Column("note", sa.Text),
    schema="core",
    comment="部门预算 → 政府预算 economic-code correspondence",
)

department_crosswalk = sa.Table(
    "department_crosswalk",
    metadata,
    sa.Column("old_department_key", sa.Text, primary_key=True),  # "<region>:<normalized name>"
    sa.Column("new_department_key", sa.Text, nullable=False),  # the current key (chains resolved)
    sa.Column("from_year", sa.Integer),  # first fiscal year under the new name
    sa.Column("relation", sa.Text, nullable=False),  # renamed | merged
    sa.Column("note", sa.Text),
    schema="core",
    comment="renamed/merged departments (warehouse_schema/reference/department_crosswalk.csv)",
)

reference_state = sa.Table(
    "reference_state",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),  # reference_data | views
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("loaded_at", sa.Text),
    schema="core",
    comment="fingerprints of the loaded reference data and view definitions (reloaded when they change)",
)

#: reference tables: replaced together when the catalogs change
REFERENCE_TABLES = (
    dim_region,
    dim_fiscal_year,
    dim_budget_phase,
    dim_fund_source,
    dim_revenue_category,
    dim_table_template,
    dim_function_code,
    function_code_crosswalk,
    dim_econ_code,
    econ_code_correspondence,
    department_crosswalk,
)

# -- core: documents ------------------------------------------------------------

document = sa.Table(
    "document",
    metadata,
    sa.Column("document_sha256", sa.String(64), primary_key=True),
    sa.Column("source_url", sa.Text),
    sa.Column("region_code", sa.String(6)),
    sa.Column("fiscal_year", sa.Integer),
    sa.Column("department_name", sa.Text),  # as published
    sa.Column("department_key", sa.Text),  # "<region>:<normalized name>" (assets/normalize/departments.py)
    sa.Column("doc_type", sa.Text),
    sa.Column("budget_phase", sa.Text, nullable=False, server_default="budget"),  # 预算; 决算 later
    sa.Column("status", sa.Text, nullable=False),  # loaded | quarantined | rejected | skipped | superseded
    sa.Column("status_reason", sa.Text),
    sa.Column("page_count", sa.Integer),
    sa.Column("fetched_at", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("tables_found", sa.Text),  # comma-separated table types
    sa.Column("extractor_version", sa.Text),
    # which budget: department (部门预算, consolidated over its units) | unit (单位预算, one unit of a department)
    sa.Column("budget_level", sa.Text),
    sa.Column("parent_department", sa.Text),  # a unit budget's department, as printed (主管部门 / name without 本级)
    sa.Column("parent_department_key", sa.Text),
    sa.Column("budget_units", sa.Text),  # the units a department budget's tables list, "|"-separated
    schema="core",
)

extracted_table = sa.Table(
    "extracted_table",
    metadata,
    sa.Column("document_sha256", sa.String(64), primary_key=True),
    sa.Column("table_type", sa.Text, primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("first_page", sa.Integer),
    sa.Column("last_page", sa.Integer),
    sa.Column("unit", sa.Text),  # 万元 | 元 as printed
    sa.Column("is_empty", sa.Boolean),
    sa.Column("note", sa.Text),
    sa.Column("flavor", sa.Text),  # camelot flavor that succeeded
    sa.Column("accuracy", sa.Float),
    sa.Column("row_count", sa.Integer),
    # how the table was read (JSON): its type's evidence, codes resolved from names, the identities that
    # decided an ambiguous reading (which rows are the total and the units, what 合计 adds up …)
    sa.Column("reading", sa.Text),
    schema="core",
)

# -- core: facts (printed grain, 元) ------------------------------------------


def _provenance() -> list[sa.Column]:
    return [
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("table_type", sa.Text, nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("row_kind", sa.Text, nullable=False),  # detail | subtotal | total | text
    ]


fact_function_expenditure = sa.Table(
    "fact_function_expenditure",
    metadata,
    *_provenance(),
    sa.Column("function_code", sa.String(7)),  # 功能分类科目编码 (3/5/7 digits)
    sa.Column("function_name", sa.Text),  # as printed
    sa.Column("unit_code", sa.Text),  # 单位代码 (carried down from the unit's subtotal row)
    sa.Column("unit_name", sa.Text),  # 单位名称 (idem)
    sa.Column("total_yuan", AMOUNT),  # 合计
    sa.Column("basic_yuan", AMOUNT),  # 基本支出
    sa.Column("wages_yuan", AMOUNT),  # 工资福利支出
    sa.Column("household_transfers_yuan", AMOUNT),  # 对个人和家庭的补助
    sa.Column("goods_services_yuan", AMOUNT),  # 商品和服务支出
    sa.Column("capital_yuan", AMOUNT),  # 资本性支出
    sa.Column("project_yuan", AMOUNT),  # 项目支出
    sa.Column("project_other_operating_yuan", AMOUNT),  # 项目支出/其他运转类
    sa.Column("project_specific_yuan", AMOUNT),  # 项目支出/特定目标类
    sa.Column("code_printed", sa.Boolean),  # false: the document prints names only, the code is the catalog's
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="expenditure by 功能分类 × expense type (一般公共预算/部门/政府性基金/国有资本经营 支出表)",
)

fact_basic_economic = sa.Table(
    "fact_basic_economic",
    metadata,
    *_provenance(),
    sa.Column("econ_code", sa.String(5)),  # 部门预算支出经济分类科目编码
    sa.Column("econ_name", sa.Text),
    sa.Column("gov_econ_code", sa.String(5)),  # 政府预算支出经济分类科目编码
    sa.Column("gov_econ_name", sa.Text),
    sa.Column("total_yuan", AMOUNT),
    sa.Column("personnel_yuan", AMOUNT),  # 人员经费
    sa.Column("public_yuan", AMOUNT),  # 公用经费
    sa.Column("unit_name", sa.Text),  # 单位名称 (carried down from the unit's row)
    sa.Column("econ_code_printed", sa.String(9)),  # an extended code as printed (3010201 → econ_code 30102)
    sa.Column("code_printed", sa.Boolean),  # false: the document prints names only, the code is the catalog's
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="一般公共预算基本支出 by 经济分类 × personnel/public",
)

#: 部门收入预算表 amount columns (field of the extracted row → revenue category key)
REVENUE_AMOUNT_COLUMNS = {
    "total": "total",  # 合计
    "gpb": "general_public_budget",  # 一般公共预算
    "gov_fund": "government_fund",  # 政府性基金预算
    "soe_capital": "state_capital",  # 国有资本经营预算
    "special_account": "special_account",  # 财政专户管理资金
    "institution_revenue": "institution_revenue",  # 事业收入
    "operating_revenue": "institution_operating",  # 事业单位经营收入
    "superior_subsidy": "superior_subsidy",  # 上级补助收入
    "affiliated_remittance": "affiliated_remittance",  # 附属单位上缴收入
    "other_revenue": "other_revenue",  # 其他收入
    "unit_funds": "unit_funds",  # 单位资金
    "carryover": "carryover",  # 上年结转
    "fiscal_appropriation": "fiscal_allocation",  # 财政拨款 (a group some templates print)
}

fact_revenue = sa.Table(
    "fact_revenue",
    metadata,
    *_provenance(),
    sa.Column("function_code", sa.String(7)),  # 功能分类科目编码
    sa.Column("item_name", sa.Text),  # 科目名称 / 单位名称 as printed
    sa.Column("unit_code", sa.Text),
    sa.Column("unit_name", sa.Text),
    *[sa.Column(f"{field}_yuan", AMOUNT) for field in REVENUE_AMOUNT_COLUMNS],
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="部门收入预算表: revenue by 功能分类 row × source column",
)


def _two_sided_income() -> list[sa.Column]:
    return [
        sa.Column("income_item", sa.Text),  # 收入 label as printed
        sa.Column("revenue_category", sa.Text),  # dim_revenue_category key (NULL: unclassified label)
        sa.Column("fund_source", sa.Text),  # dim_fund_source key
        sa.Column("income_kind", sa.Text),  # revenue | carryover | total
        sa.Column("is_of_which", sa.Boolean),  # printed as 其中：… (a breakdown, not an addend)
        sa.Column("income_amount_yuan", AMOUNT),
        sa.Column("expense_item", sa.Text),  # 支出 label as printed
        sa.Column("expense_kind", sa.Text),  # expenditure | carryover | total
        sa.Column("class_code", sa.String(3)),  # the 类 the 支出 label names
    ]


fact_budget_summary = sa.Table(
    "fact_budget_summary",
    metadata,
    *_provenance(),
    *_two_sided_income(),
    sa.Column("expense_amount_yuan", AMOUNT),
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="部门收支预算表: 收入 by source (left) and 支出 by 类 (right), one row per printed row",
)

fact_fiscal_appropriation = sa.Table(
    "fact_fiscal_appropriation",
    metadata,
    *_provenance(),
    *_two_sided_income(),
    sa.Column("expense_total_yuan", AMOUNT),  # 合计
    sa.Column("expense_gpb_yuan", AMOUNT),  # 一般公共预算 小计
    sa.Column("expense_gpb_fiscal_yuan", AMOUNT),  # 一般公共预算 其中：财政拨款
    sa.Column("expense_gov_fund_yuan", AMOUNT),  # 政府性基金
    sa.Column("expense_soe_capital_yuan", AMOUNT),  # 国有资本经营预算
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="财政拨款收支预算表, both sides, one row per printed row",
)

fact_project_expenditure = sa.Table(
    "fact_project_expenditure",
    metadata,
    *_provenance(),
    sa.Column("category", sa.Text),  # 项目类型: 特定目标类 | 其他运转类 …
    sa.Column("project_name", sa.Text),  # as printed (unit code on unit subtotal rows)
    sa.Column("project_unit", sa.Text),  # 项目单位
    sa.Column("total_yuan", AMOUNT),  # 合计
    sa.Column("gpb_yuan", AMOUNT),  # 本年拨款/一般公共预算
    sa.Column("gov_fund_yuan", AMOUNT),
    sa.Column("soe_capital_yuan", AMOUNT),
    sa.Column("carryover_gpb_yuan", AMOUNT),  # 财政拨款结转结余/一般公共预算
    sa.Column("carryover_gov_fund_yuan", AMOUNT),
    sa.Column("carryover_soe_capital_yuan", AMOUNT),
    sa.Column("special_account_yuan", AMOUNT),  # 财政专户管理资金
    sa.Column("unit_funds_yuan", AMOUNT),  # 单位资金
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="项目支出预算表: one row per printed project (and unit subtotal) row",
)

fact_three_public = sa.Table(
    "fact_three_public",
    metadata,
    *_provenance(),
    sa.Column("total_yuan", AMOUNT),  # “三公”经费合计
    sa.Column("outbound_yuan", AMOUNT),  # 因公出国(境)费
    sa.Column("vehicle_total_yuan", AMOUNT),  # 公务用车购置及运行费
    sa.Column("vehicle_purchase_yuan", AMOUNT),  # 公务用车购置费
    sa.Column("vehicle_operation_yuan", AMOUNT),  # 公务用车运行费
    sa.Column("reception_yuan", AMOUNT),  # 公务接待费
    sa.Column("operating_funds_yuan", AMOUNT),  # 机关运行经费 (printed in some 三公 tables)
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="一般公共预算“三公”经费预算表",
)

fact_performance_target = sa.Table(
    "fact_performance_target",
    metadata,
    *_provenance(),
    sa.Column("project_code", sa.Text),  # 项目编码 (unit code on unit rows)
    sa.Column("project_name", sa.Text),
    sa.Column("category", sa.Text),  # 项目分类
    sa.Column("project_total_yuan", AMOUNT),  # 资金总额
    sa.Column("project_gpb_yuan", AMOUNT),  # 政府预算资金
    sa.Column("indicator_l1", sa.Text),  # 一级指标 / 指标类别 (产出指标 …)
    sa.Column("indicator_l2", sa.Text),  # 二级指标
    sa.Column("indicator_l3", sa.Text),  # 三级指标 (the indicator)
    sa.Column("target_text", sa.Text),  # 指标值 as printed: "≥91%", "相关"
    sa.Column("target_operator", sa.Text),  # >= | <= | > | < | = (NULL when not numeric)
    sa.Column("target_value", sa.Numeric(24, 6)),
    sa.Column("target_unit", sa.Text),  # % | 人次 | 万元 …
    sa.Column("description", sa.Text),  # 指标解释
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="绩效目标: 部门整体 and 项目 performance indicators",
)

quality_finding = sa.Table(
    "quality_finding",
    metadata,
    sa.Column("document_sha256", sa.String(64), nullable=False),
    sa.Column("check_name", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),  # hard | soft | info
    sa.Column("expected", sa.Text),
    sa.Column("actual", sa.Text),
    sa.Column("page", sa.Integer),
    sa.Column("row_index", sa.Integer),
    sa.Column("table_type", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Index("ix_quality_finding_document", "document_sha256"),
    schema="core",
)

FACT_TABLES = (
    fact_function_expenditure,
    fact_basic_economic,
    fact_revenue,
    fact_budget_summary,
    fact_fiscal_appropriation,
    fact_project_expenditure,
    fact_three_public,
    fact_performance_target,
)

#: tables whose rows belong to one document (replaced together on reload)
DOCUMENT_TABLES = (extracted_table, *FACT_TABLES, quality_finding)
