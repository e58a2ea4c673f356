"""SQLAlchemy metadata for every warehouse table: one definition for DuckDB and PostgreSQL.

Schemas:
* ``raw``  – what the crawler fetched (the manifest);
* ``core`` – documents, dimensions, facts at the printed grain (amounts in 元,
  exact NUMERIC) and data-quality findings;
* ``mart`` – the analysts' views (see :mod:`warehouse_schema.views`).

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

# -- core: dimensions ---------------------------------------------------------

dim_region = sa.Table(
    "dim_region",
    metadata,
    sa.Column("region_code", sa.String(6), primary_key=True),  # 行政区划代码
    sa.Column("region_name", sa.Text, nullable=False),
    sa.Column("prefecture", sa.Text),  # 地级市
    sa.Column("province", sa.Text),
    schema="core",
)

document = sa.Table(
    "document",
    metadata,
    sa.Column("document_sha256", sa.String(64), primary_key=True),
    sa.Column("source_url", sa.Text),
    sa.Column("region_code", sa.String(6)),
    sa.Column("fiscal_year", sa.Integer),
    sa.Column("department_name", sa.Text),  # as published
    sa.Column("doc_type", sa.Text),
    sa.Column("budget_phase", sa.Text, nullable=False, server_default="budget"),  # 预算; 决算 later
    sa.Column("status", sa.Text, nullable=False),  # loaded | quarantined | rejected | skipped
    sa.Column("status_reason", sa.Text),
    sa.Column("page_count", sa.Integer),
    sa.Column("fetched_at", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("tables_found", sa.Text),  # comma-separated table types
    sa.Column("extractor_version", sa.Text),
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
    schema="core",
)

# -- core: facts (printed grain, 元) ------------------------------------------

_provenance = lambda: [  # noqa: E731 - a column factory
    sa.Column("document_sha256", sa.String(64), nullable=False),
    sa.Column("table_type", sa.Text, nullable=False),
    sa.Column("page", sa.Integer, nullable=False),
    sa.Column("row_index", sa.Integer, nullable=False),
    sa.Column("row_kind", sa.Text, nullable=False),  # detail | subtotal | total
]

fact_function_expenditure = sa.Table(
    "fact_function_expenditure",
    metadata,
    *_provenance(),
    sa.Column("function_code", sa.String(7)),  # 功能分类科目编码 (3/5/7 digits)
    sa.Column("function_name", sa.Text),  # as printed
    sa.Column("unit_code", sa.Text),  # 单位代码
    sa.Column("total_yuan", AMOUNT),  # 合计
    sa.Column("basic_yuan", AMOUNT),  # 基本支出
    sa.Column("wages_yuan", AMOUNT),  # 工资福利支出
    sa.Column("household_transfers_yuan", AMOUNT),  # 对个人和家庭的补助
    sa.Column("goods_services_yuan", AMOUNT),  # 商品和服务支出
    sa.Column("capital_yuan", AMOUNT),  # 资本性支出
    sa.Column("project_yuan", AMOUNT),  # 项目支出
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
    sa.PrimaryKeyConstraint("document_sha256", "table_type", "row_index"),
    schema="core",
    comment="一般公共预算基本支出 by 经济分类 × personnel/public",
)

quality_finding = sa.Table(
    "quality_finding",
    metadata,
    sa.Column("document_sha256", sa.String(64), nullable=False),
    sa.Column("check_name", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),  # hard | soft
    sa.Column("expected", sa.Text),
    sa.Column("actual", sa.Text),
    sa.Column("page", sa.Integer),
    sa.Column("row_index", sa.Integer),
    sa.Column("table_type", sa.Text),
    sa.Column("detail", sa.Text),
    schema="core",
)

#: tables whose rows belong to one document (replaced together on reload)
DOCUMENT_TABLES = (extracted_table, fact_function_expenditure, fact_basic_economic, quality_finding)
