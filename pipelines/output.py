"""Query results as text: an aligned table (CJK-aware), CSV or JSON (``budget-etl query --format``).

Pure functions of (column names, rows). Amounts are ``Decimal`` and stay exact in every format: the table and
CSV print them as written (``1120.30``), JSON as numbers with the same digits (never through a float).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

FORMATS = ("table", "csv", "json")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def cell_text(v: Any) -> str:
    """A value as CSV / table text: NULL empty, booleans true/false, everything else as written."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned by display width (a CJK character takes two cells: tabulate measures with wcwidth),
    numbers right-aligned, then the row count."""
    from tabulate import tabulate

    align = []
    for i in range(len(columns)):
        values = [r[i] for r in rows if r[i] is not None]
        align.append("right" if values and all(_is_number(v) for v in values) else "left")
    body = [[cell_text(v) for v in r] for r in rows]
    table = (
        tabulate(body, headers=list(columns), tablefmt="simple", disable_numparse=True, colalign=align)
        if columns
        else ""
    )
    n = len(rows)
    return f"{table}\n({n} row{'s' if n != 1 else ''})" if table else f"({n} row{'s' if n != 1 else ''})"


def format_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """RFC 4180 CSV with a header row; NULL is an empty field."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([cell_text(v) for v in r])
    return buf.getvalue().rstrip("\n")


def json_value(v: Any) -> str:
    """One JSON value; a Decimal becomes a number with exactly its digits."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return str(v) if v.is_finite() else json.dumps(str(v))
    if isinstance(v, (int, float)):
        return json.dumps(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return json.dumps(v.isoformat())
    return json.dumps(v if isinstance(v, str) else str(v), ensure_ascii=False)


def format_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A JSON array of objects, one per row, keys in column order."""
    keys = [json.dumps(c, ensure_ascii=False) for c in columns]
    objects = ["{" + ", ".join(f"{k}: {json_value(v)}" for k, v in zip(keys, r, strict=False)) + "}" for r in rows]
    if not objects:
        return "[]"
    return "[\n  " + ",\n  ".join(objects) + "\n]"


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table") -> str:
    if fmt == "table":
        return format_table(columns, rows)
    if fmt == "csv":
        return format_csv(columns, rows)
    if fmt == "json":
        return format_json(columns, rows)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
