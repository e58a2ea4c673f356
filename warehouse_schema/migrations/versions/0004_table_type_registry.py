"""the table-type registry: fact columns described once; 单位预留机动经费 kept; which tables are required

The fact tables are generated from ``warehouse_schema/table_types.yaml`` (the registry), each column with
its description as its COMMENT; this revision writes those comments (as of this revision: later ones change
their own), adds

* ``core.fact_function_expenditure.reserve_yuan`` (单位预留机动经费: read by the extractor, never kept before);
* ``core.dim_table_template.required`` (hard | soft: a budget must publish the table).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse_schema.views import VIEW_ORDER

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: fact table → column → its description (the registry's, at this revision)
COMMENTS = {
    "fact_function_expenditure": {
        "function_code": "功能分类科目编码 (3/5/7 digits)",
        "function_name": "功能分类科目名称 as printed",
        "unit_code": "单位代码 (carried down from the unit's subtotal row)",
        "unit_name": "单位名称 (idem)",
        "total_yuan": "合计",
        "basic_yuan": "基本支出",
        "wages_yuan": "工资福利支出 (人员经费 where the table prints only 人员经费 and 公用经费)",
        "household_transfers_yuan": "对个人和家庭的补助",
        "goods_services_yuan": "商品和服务支出 (公用经费 where the table prints only 人员经费 and 公用经费)",
        "capital_yuan": "资本性支出",
        "project_yuan": "项目支出",
        "project_other_operating_yuan": "项目支出/其他运转类",
        "project_specific_yuan": "项目支出/特定目标类",
        "code_printed": "false: the document prints names only, the code is the catalog's",
        "reserve_yuan": "单位预留机动经费",
    },
    "fact_basic_economic": {
        "econ_code": "部门预算支出经济分类科目编码",
        "econ_name": "经济分类科目名称 as printed",
        "gov_econ_code": "政府预算支出经济分类科目编码",
        "gov_econ_name": "政府预算支出经济分类科目名称 as printed",
        "total_yuan": "合计 (a table printing 基本支出 and 项目支出 by 经济分类 gives its 基本支出)",
        "personnel_yuan": "人员经费",
        "public_yuan": "公用经费",
        "unit_name": "单位名称 (carried down from the unit's row)",
        "econ_code_printed": "an extended code as printed (3010201 → econ_code 30102)",
        "code_printed": "false: the document prints names only, the code is the catalog's",
    },
    "fact_revenue": {
        "function_code": "功能分类科目编码",
        "item_name": "科目名称 / 单位名称 as printed",
        "unit_code": "单位代码 (carried down from the unit's subtotal row)",
        "unit_name": "单位名称 (idem)",
        "total_yuan": "合计",
        "gpb_yuan": "一般公共预算",
        "gov_fund_yuan": "政府性基金预算",
        "soe_capital_yuan": "国有资本经营预算",
        "special_account_yuan": "财政专户管理资金",
        "institution_revenue_yuan": "事业收入",
        "operating_revenue_yuan": "事业单位经营收入",
        "superior_subsidy_yuan": "上级补助收入",
        "affiliated_remittance_yuan": "附属单位上缴收入",
        "other_revenue_yuan": "其他收入",
        "unit_funds_yuan": "单位资金",
        "carryover_yuan": "上年结转",
        "fiscal_appropriation_yuan": "财政拨款 (a group some templates print)",
    },
    "fact_budget_summary": {
        "income_item": "收入 label as printed",
        "revenue_category": "dim_revenue_category key (NULL: unclassified label)",
        "fund_source": "dim_fund_source key",
        "income_kind": "revenue | carryover | total",
        "is_of_which": "printed as 其中：… (a breakdown, not an addend)",
        "income_amount_yuan": "收入 amount",
        "expense_item": "支出 label as printed",
        "expense_kind": "expenditure | carryover | total",
        "class_code": "the 类 the 支出 label names",
        "expense_amount_yuan": "支出 amount",
    },
    "fact_fiscal_appropriation": {
        "income_item": "收入 label as printed",
        "revenue_category": "dim_revenue_category key (NULL: unclassified label)",
        "fund_source": "dim_fund_source key",
        "income_kind": "revenue | carryover | total",
        "is_of_which": "printed as 其中：… (a breakdown, not an addend)",
        "income_amount_yuan": "收入 amount",
        "expense_item": "支出 label as printed",
        "expense_kind": "expenditure | carryover | total",
        "class_code": "the 类 the 支出 label names",
        "expense_total_yuan": "合计",
        "expense_gpb_yuan": "一般公共预算 小计",
        "expense_gpb_fiscal_yuan": "一般公共预算 其中：财政拨款",
        "expense_gov_fund_yuan": "政府性基金",
        "expense_soe_capital_yuan": "国有资本经营预算",
    },
    "fact_project_expenditure": {
        "category": "项目类型: 特定目标类 | 其他运转类 …",
        "project_name": "项目名称 as printed (unit code on unit subtotal rows)",
        "project_unit": "项目单位",
        "total_yuan": "合计",
        "gpb_yuan": "本年拨款/一般公共预算",
        "gov_fund_yuan": "本年拨款/政府性基金",
        "soe_capital_yuan": "本年拨款/国有资本经营预算",
        "carryover_gpb_yuan": "财政拨款结转结余/一般公共预算",
        "carryover_gov_fund_yuan": "财政拨款结转结余/政府性基金",
        "carryover_soe_capital_yuan": "财政拨款结转结余/国有资本经营预算",
        "special_account_yuan": "财政专户管理资金",
        "unit_funds_yuan": "单位资金",
    },
    "fact_three_public": {
        "total_yuan": "“三公”经费合计",
        "outbound_yuan": "因公出国(境)费",
        "vehicle_total_yuan": "公务用车购置及运行费",
        "vehicle_purchase_yuan": "公务用车购置费",
        "vehicle_operation_yuan": "公务用车运行费",
        "reception_yuan": "公务接待费",
        "operating_funds_yuan": "机关运行经费 (printed in some 三公 tables)",
    },
    "fact_performance_target": {
        "project_code": "项目编码 (unit code on unit rows)",
        "project_name": "项目名称",
        "category": "项目分类",
        "project_total_yuan": "资金总额",
        "project_gpb_yuan": "政府预算资金",
        "indicator_l1": "一级指标 / 指标类别 (产出指标 …)",
        "indicator_l2": "二级指标",
        "indicator_l3": "三级指标 (the indicator)",
        "target_text": '指标值 as printed: "≥91%", "相关"',
        "target_operator": ">= | <= | > | < | = (NULL when not numeric)",
        "target_value": "the 指标值's number",
        "target_unit": "% | 人次 | 万元 …",
        "description": "指标解释",
    },
}


def _comment(table: str, column: str, comment: str | None) -> None:
    op.alter_column(table, column, comment=comment, existing_nullable=True, schema="core")


def upgrade() -> None:
    op.add_column(
        "fact_function_expenditure", sa.Column("reserve_yuan", sa.Numeric(20, 2), nullable=True), schema="core"
    )
    op.add_column("dim_table_template", sa.Column("required", sa.Text(), nullable=True), schema="core")
    for table, columns in COMMENTS.items():
        for column, comment in columns.items():
            _comment(table, column, comment)


def downgrade() -> None:
    # the mart views read these columns: dropped here, recreated (as of the revision reached) by env.py at head
    for name in reversed(VIEW_ORDER):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table, columns in COMMENTS.items():
        for column in columns:
            if (table, column) != ("fact_function_expenditure", "reserve_yuan"):
                _comment(table, column, None)
    op.drop_column("dim_table_template", "required", schema="core")
    op.drop_column("fact_function_expenditure", "reserve_yuan", schema="core")
