"""how a figure was read: codes printed or resolved from names, extended economic codes, units; budget level

* ``core.fact_function_expenditure.code_printed`` / ``core.fact_basic_economic.code_printed``: false when the
  document prints names only and the code is the catalog's (resolved through the year's catalog);
* ``core.fact_basic_economic.unit_name`` (the 单位 of the row, multi-unit documents) and ``econ_code_printed``
  (an extended code as printed, 3010201, whose 款 30102 is ``econ_code``);
* ``core.extracted_table.reading``: how the table was read (JSON: its type's evidence, codes resolved from
  names, the identities that decided an ambiguous reading);
* ``core.document.budget_level`` (department | unit), ``parent_department`` / ``parent_department_key`` (a unit
  budget's department) and ``budget_units`` (the units a department budget lists): roll-ups count each amount
  once, never a unit budget together with its department's consolidated budget.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse_schema.views import VIEW_ORDER

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fact_function_expenditure", sa.Column("code_printed", sa.Boolean(), nullable=True), schema="core")
    op.add_column("fact_basic_economic", sa.Column("unit_name", sa.Text(), nullable=True), schema="core")
    op.add_column(
        "fact_basic_economic", sa.Column("econ_code_printed", sa.String(length=9), nullable=True), schema="core"
    )
    op.add_column("fact_basic_economic", sa.Column("code_printed", sa.Boolean(), nullable=True), schema="core")
    op.add_column("extracted_table", sa.Column("reading", sa.Text(), nullable=True), schema="core")
    for name, type_ in (
        ("budget_level", sa.Text()),
        ("parent_department", sa.Text()),
        ("parent_department_key", sa.Text()),
        ("budget_units", sa.Text()),
    ):
        op.add_column("document", sa.Column(name, type_, nullable=True), schema="core")


def downgrade() -> None:
    # the mart views read these columns: dropped here, recreated (as of the revision reached) by env.py at head
    for name in reversed(VIEW_ORDER):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for name in ("budget_units", "parent_department_key", "parent_department", "budget_level"):
        op.drop_column("document", name, schema="core")
    op.drop_column("extracted_table", "reading", schema="core")
    op.drop_column("fact_basic_economic", "code_printed", schema="core")
    op.drop_column("fact_basic_economic", "econ_code_printed", schema="core")
    op.drop_column("fact_basic_economic", "unit_name", schema="core")
    op.drop_column("fact_function_expenditure", "code_printed", schema="core")
