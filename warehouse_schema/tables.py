"""SQLAlchemy metadata for every warehouse table: one definition for DuckDB and PostgreSQL.

Schemas:
* ``raw``  – what the crawler fetched (the manifest);
* ``core`` – dimensions (reference data loaded from the catalogs, see
  :mod:`assets.load.reference`), documents, facts at the printed grain (amounts
  in 元, exact NUMERIC, each row with its document, page and row) and
  data-quality findings;
* ``mart`` – the analysts' views (see :mod:`warehouse_schema.views`).

PostgreSQL gets these tables through the Alembic migrations in
``warehouse_schema/migrations`` (``tests/integration/test_warehouse_pg.py`` checks that the
migrated schema equals this metadata); DuckDB through ``metadata.create_all``.
Never reflect against DuckDB (duckdb-engine's reflection is broken on this
stack): code always uses these Table objects.
"""

from __future__ import annotations

import sqlalchemy as sa

from warehouse_schema import registry

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
    sa.Column("table_type", sa.Text, primary_key=True),  # key in warehouse_schema/table_types.yaml
    sa.Column("name_zh", sa.Text, nullable=False),  # 部门收支预算表 …
    sa.Column("kind", sa.Text, nullable=False),  # grid | two_sided | text
    sa.Column("fact_table", sa.Text),  # core fact table its rows go to (None: kept in extracted_table only)
    sa.Column("required", sa.Text),  # hard | soft: a budget must publish it (None: optional)
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
    # a load looks up the current versions at its documents' URLs (supersede): without it PostgreSQL scans
    # core.document once per partition (20 ms at 20 000 documents). PostgreSQL only: DuckDB scans the one
    # column fast, and an ART index costs it at every insert and checkpoint
    sa.Index("ix_document_source_url", "source_url").ddl_if(dialect="postgresql"),
    schema="core",
)


def not_on_duckdb(ddl, target, bind, **kw) -> bool:
    """A ``ddl_if`` condition: create the thing on every engine but DuckDB."""
    return kw["dialect"].name != "duckdb"


def loader_checked_key(*columns: str) -> sa.PrimaryKeyConstraint:
    """The primary key of a table whose rows belong to one document: a constraint on PostgreSQL (several loads
    write at once), not created on DuckDB, where the load checks it instead.

    On DuckDB a key is an ART index that every insert and every checkpoint maintains (DuckDB's indexing guide:
    use keys only where needed to enforce a constraint; an index on several columns never serves a query), and
    it cost a load more than half its time. The key still holds: a load checks it over every row it inserts
    before writing (:func:`assets.load.warehouse.check_keys`), and it first deletes every row of its
    documents in the same transaction; ``core.document`` keeps its key, so two loads of one document cannot
    both commit. Files made with the keys lose them once (:func:`warehouse_schema.drop_loader_checked_keys`)."""
    return sa.PrimaryKeyConstraint(*columns).ddl_if(callable_=not_on_duckdb)


extracted_table = sa.Table(
    "extracted_table",
    metadata,
    sa.Column("document_sha256", sa.String(64), nullable=False),
    sa.Column("table_type", sa.Text, nullable=False),
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
    loader_checked_key("document_sha256", "table_type"),
    schema="core",
)

# -- core: facts (printed grain, 元) ------------------------------------------
#
# Generated from the registry (warehouse_schema/table_types.yaml, ``fact_tables``): each fact table is the
# provenance columns, then its declared columns with their descriptions as column comments.

COLUMN_TYPES = {
    "text": sa.Text,
    "code3": lambda: sa.String(3),
    "code5": lambda: sa.String(5),
    "code7": lambda: sa.String(7),
    "code9": lambda: sa.String(9),
    "amount": lambda: AMOUNT,
    "bool": sa.Boolean,
    "decimal": lambda: sa.Numeric(24, 6),
}


def _provenance() -> list[sa.Column]:
    return [
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("table_type", sa.Text, nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("row_kind", sa.Text, nullable=False),  # detail | subtotal | total | text
    ]


def _fact_table(spec: registry.FactTable) -> sa.Table:
    return sa.Table(
        spec.name,
        metadata,
        *_provenance(),
        *[sa.Column(c.name, COLUMN_TYPES[c.type](), comment=c.description) for c in spec.columns],
        loader_checked_key("document_sha256", "table_type", "row_index"),
        schema="core",
        comment=spec.description,
    )


#: the core fact tables, in the registry's order
FACT_TABLES = tuple(_fact_table(spec) for spec in registry.current().facts)
_FACTS = {table.name: table for table in FACT_TABLES}
fact_function_expenditure = _FACTS["fact_function_expenditure"]  # read by assets/validate/previous.py

#: fact_revenue amount column → its dim_revenue_category key (the mart's revenue views)
REVENUE_AMOUNT_COLUMNS = registry.current().revenue_columns()


def fact_table(name: str) -> sa.Table:
    """The SQLAlchemy table of a fact table of the registry."""
    return _FACTS[name]


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

#: tables whose rows belong to one document (replaced together on reload)
DOCUMENT_TABLES = (extracted_table, *FACT_TABLES, quality_finding)
#: the tables of documents with a key: the load checks it (no constraint on DuckDB: :func:`loader_checked_key`)
LOADER_CHECKED_TABLES = tuple(tb for tb in DOCUMENT_TABLES if tb.primary_key.columns)
