"""The load's row handling without a database: one Arrow table per table of documents, exact or not at all,
and the key check that stands for DuckDB's missing constraints."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from assets.load.warehouse import DocumentLoad, DuplicateKey, TableRows, _document_rows, check_keys
from warehouse_schema import tables as t

THREE_PUBLIC = t.fact_table("fact_three_public")


def fact(i: int, amount: str | None = "1.00", **kw) -> dict:
    return {
        "table_type": "three_public",
        "page": 2,
        "row_index": i,
        "row_kind": "detail",
        "total_yuan": None if amount is None else Decimal(amount),
        **kw,
    }


def test_rows_become_one_exact_arrow_table_in_the_tables_column_order():
    rows = TableRows([fact(0, "12345678901234567.89"), fact(1, None), fact(2, "7")], ["a" * 64, "a" * 64, "b" * 64])
    arrow = rows.arrow(THREE_PUBLIC)
    assert arrow.column_names == [c.name for c in THREE_PUBLIC.columns]
    assert arrow.schema.field("total_yuan").type == pa.decimal128(20, 2)
    assert arrow.column("total_yuan").to_pylist() == [Decimal("12345678901234567.89"), None, Decimal("7.00")]
    assert arrow.column("document_sha256").to_pylist() == ["a" * 64, "a" * 64, "b" * 64]
    assert arrow.column("row_index").to_pylist() == [0, 1, 2]
    # a column no row gives is NULL, as INSERT gives it
    absent = next(c.name for c in THREE_PUBLIC.columns if c.name not in rows.names(THREE_PUBLIC))
    assert arrow.column(absent).null_count == 3


@pytest.mark.parametrize(
    "bad",
    [
        {"total_yuan": Decimal("1.005")},  # more places than the column: SQL rounds it on the text path
        {"row_index": "3"},  # a string where an integer goes
        {"page": 2.5},
    ],
)
def test_a_value_that_does_not_fit_exactly_gives_no_arrow_table(bad):
    assert TableRows([fact(0), fact(1, **bad)], ["a" * 64] * 2).arrow(THREE_PUBLIC) is None


def test_an_unknown_column_is_an_error_not_a_silent_drop():
    with pytest.raises(KeyError, match=r"core\.fact_three_public has no column\(s\) \['totl_yuan'\]"):
        TableRows([fact(0, totl_yuan=Decimal(1))], ["a" * 64]).arrow(THREE_PUBLIC)


def test_rows_keep_the_document_they_came_with():
    loads = [
        DocumentLoad({"document_sha256": sha}, facts={"fact_three_public": [fact(0, document_sha256="x"), fact(1)]})
        for sha in ("a" * 64, "b" * 64)
    ]
    per = _document_rows(loads)
    assert per["fact_three_public"].shas == ["a" * 64, "a" * 64, "b" * 64, "b" * 64]
    assert per["fact_three_public"].values("document_sha256") == per["fact_three_public"].shas
    assert len(per["extracted_table"]) == 0
    with pytest.raises(KeyError, match="unknown fact table 'fact_nothing'"):
        _document_rows([DocumentLoad({"document_sha256": "c"}, facts={"fact_nothing": [fact(0)]})])


def test_the_key_check_names_the_first_repeated_key():
    check_keys(THREE_PUBLIC, TableRows([fact(0), fact(1), fact(0)], ["a", "a", "b"]))  # two documents: no repeat
    with pytest.raises(DuplicateKey, match=r"'document_sha256': 'a', 'table_type': 'three_public', 'row_index': 0"):
        check_keys(THREE_PUBLIC, TableRows([fact(0), fact(1), fact(0)], ["a", "a", "a"]))
    tables = TableRows([{"table_type": "expenditure"}, {"table_type": "expenditure"}], ["a", "a"])
    with pytest.raises(DuplicateKey, match=r"core\.extracted_table"):
        check_keys(t.extracted_table, tables)
