"""Last year's loaded document of the same region and department, read from the warehouse."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from assets.validate.narrative import PreviousYear
from warehouse_schema import tables as t

WAN = Decimal(10000)


def previous_year(engine: sa.Engine, region_code: str, fiscal_year: int, department: str | None) -> PreviousYear | None:
    """Totals (万元) of the ``loaded`` budget of ``fiscal_year - 1``, or None when the warehouse has none.

    ``total`` is the 部门支出预算表 合计 (the 收支总计 when nothing is carried
    over), ``gpb`` the 一般公共预算支出预算表 合计; a table without a printed
    合计 row is summed over its detail rows.
    """
    if not department or not fiscal_year:
        return None
    d, f = t.document, t.fact_function_expenditure
    with engine.connect() as conn:
        doc = conn.execute(
            sa.select(d.c.document_sha256, d.c.source_url)
            .where(
                d.c.region_code == region_code,
                d.c.fiscal_year == fiscal_year - 1,
                d.c.department_name == department,
                d.c.doc_type == "budget",
                d.c.status == "loaded",
            )
            .order_by(d.c.fetched_at.desc())
        ).first()
        if doc is None:
            return None
        totals: dict[str, Decimal] = {}
        for table_type, key in (("expenditure", "total"), ("gpb_expenditure", "gpb")):
            base = sa.select(f.c.total_yuan).where(
                f.c.document_sha256 == doc.document_sha256, f.c.table_type == table_type
            )
            amount = conn.execute(base.where(f.c.row_kind == "total").order_by(f.c.row_index).limit(1)).scalar()
            if amount is None:
                amount = conn.execute(
                    sa.select(sa.func.sum(f.c.total_yuan)).where(
                        f.c.document_sha256 == doc.document_sha256,
                        f.c.table_type == table_type,
                        f.c.row_kind == "detail",
                    )
                ).scalar()
            if amount is not None:
                totals[key] = Decimal(str(amount)) / WAN
    return PreviousYear(doc.document_sha256, fiscal_year - 1, totals, doc.source_url) if totals else None
