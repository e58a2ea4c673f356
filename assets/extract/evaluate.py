"""Compare an :class:`ExtractionResult` with the sample generator's ground truth.

The truth JSON (``examples/sample_portal/truth.py``) lists, per table key, its
title, unit, pages, empty flag and rows; amounts are strings in the printed
unit ("1120.30"), a blank cell is an omitted key.  ``compare_document`` returns
every difference as a readable line plus cell counts of amounts per table type,
from which the benchmark prints precision and recall.  Pure; used by the tests
and ``bench/bench_extract.py``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from assets.extract.cells import clean_text
from assets.records import ExtractedRow, ExtractedTable, ExtractionResult

_AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
#: truth keys of a table that are not table-level facts
_TABLE_KEYS = {"title", "unit", "pages", "empty", "rows", "note", "defect_detail"}
_LABEL_KEYS = (
    "function_code",
    "econ_code",
    "unit_code",
    "project_code",
    "name",
    "econ_name",
    "project_name",
    "income_item",
    "expense_item",
    "indicator_l3",
    "indicator",
)


@dataclass
class CellCounts:
    truth: int = 0  # amount cells in the truth
    extracted: int = 0  # amount cells extracted
    correct: int = 0  # extracted amount cells equal to the truth's, on the matching row

    def add(self, other: CellCounts) -> None:
        self.truth += other.truth
        self.extracted += other.extracted
        self.correct += other.correct

    @property
    def precision(self) -> float:
        return self.correct / self.extracted if self.extracted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.truth if self.truth else 1.0


@dataclass
class Comparison:
    differences: list[str] = field(default_factory=list)
    cells: dict[str, CellCounts] = field(default_factory=dict)  # per table type

    @property
    def exact(self) -> bool:
        return not self.differences


def is_truth_amount(value: Any) -> bool:
    return isinstance(value, str) and bool(_AMOUNT.match(value))


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in ("", None) and k != "cells"}


def _label(values: dict[str, Any]) -> str:
    return "|".join(str(values.get(k, "")) for k in _LABEL_KEYS)


def _same(truth_value: Any, got: Any) -> bool:
    if isinstance(got, Decimal):
        return is_truth_amount(truth_value) and Decimal(truth_value) == got
    return isinstance(truth_value, str) and str(got) == truth_value


def compare_rows(table_type: str, truth_rows: list[dict], rows: list[ExtractedRow], out: Comparison) -> CellCounts:
    counts = CellCounts()
    counts.truth = sum(1 for t in truth_rows for v in t.values() if is_truth_amount(v))
    counts.extracted = sum(1 for r in rows for v in r.values.values() if isinstance(v, Decimal))
    t_keys = [f"{t.get('kind')}:{_label(t)}" for t in truth_rows]
    e_keys = [f"{r.kind}:{_label(_present(r.values))}" for r in rows]
    matcher = difflib.SequenceMatcher(a=t_keys, b=e_keys, autojunk=False)
    pairs: list[tuple[int | None, int | None]] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            pairs += list(zip(range(a0, a1), range(b0, b1), strict=False))
        else:  # replace / delete / insert: pair what can be paired, in order
            n = max(a1 - a0, b1 - b0)
            for k in range(n):
                pairs.append((a0 + k if a0 + k < a1 else None, b0 + k if b0 + k < b1 else None))
    for ti, ei in pairs:
        if ei is None:
            out.differences.append(f"{table_type}: missing row {ti}: {truth_rows[ti]}")
            continue
        got = rows[ei]
        values = _present(got.values)
        if ti is None:
            out.differences.append(f"{table_type}: extra row {ei} (page {got.page}): {got.kind} {_show(values)}")
            continue
        want = {k: v for k, v in truth_rows[ti].items() if v != ""}  # an empty truth text is no value
        if got.kind != want.get("kind"):
            out.differences.append(
                f"{table_type} row {ti}: kind {got.kind!r}, truth {want.get('kind')!r}: {_show(values)}"
            )
        for key in sorted(set(want) | set(values)):
            if key == "kind":
                continue
            if key not in values:
                out.differences.append(f"{table_type} row {ti}: {key} missing (truth {want[key]!r}): {_show(values)}")
            elif key not in want:
                out.differences.append(f"{table_type} row {ti}: extra {key}={values[key]!s} (truth has none)")
            elif not _same(want[key], values[key]):
                out.differences.append(f"{table_type} row {ti}: {key}={values[key]!s}, truth {want[key]!r}")
            elif isinstance(values[key], Decimal):
                counts.correct += 1
    return counts


def _show(values: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v!s}" for k, v in values.items()) + "}"


def compare_document(result: ExtractionResult, truth: dict) -> Comparison:
    """Every difference between an extraction and its truth (empty list: exact round trip)."""
    out = Comparison()
    variants = set(truth.get("variants", ()))
    if "scanned" in variants or "cid_font" in variants:
        want = "scanned" if "scanned" in variants else "(cid:"
        if result.status != "rejected" or want not in (result.reason or ""):
            out.differences.append(
                f"document: expected rejection mentioning {want!r}, got {result.status} {result.reason!r}"
            )
        return out
    if truth.get("doc_type") != "budget":
        if result.status != "skipped":
            out.differences.append(f"document: a {truth.get('doc_type')} document must be skipped, got {result.status}")
        return out
    if result.status != "ok":
        out.differences.append(f"document: status {result.status}: {result.reason}")
        return out
    if truth.get("page_count") is not None and result.page_count != truth["page_count"]:
        out.differences.append(f"document: page_count {result.page_count}, truth {truth['page_count']}")
    if result.fiscal_year != truth.get("fiscal_year"):
        out.differences.append(f"document: fiscal_year {result.fiscal_year}, truth {truth.get('fiscal_year')}")
    if result.department != truth.get("department"):
        out.differences.append(f"document: department {result.department!r}, truth {truth.get('department')!r}")
    for key, want in truth["tables"].items():
        counts = out.cells.setdefault(key, CellCounts())
        found = [t for t in result.tables if t.table_type == key]
        if not found:
            out.differences.append(f"{key}: table not found (truth title {want['title']!r} on pages {want['pages']})")
            counts.truth += sum(1 for r in want["rows"] for v in r.values() if is_truth_amount(v))
            continue
        if len(found) > 1:
            out.differences.append(f"{key}: found {len(found)} times")
        table = found[0]
        _compare_table(key, want, table, out)
        counts.add(compare_rows(key, want["rows"], table.rows, out))
    for t in result.tables:
        if t.table_type not in truth["tables"]:
            out.differences.append(f"{t.table_type}: extra table {t.title!r} on pages {t.pages}")
    for item in result.unrecognised:
        out.differences.append(f"unrecognised: {item}")
    return out


def _compare_table(key: str, want: dict, table: ExtractedTable, out: Comparison) -> None:
    if clean_text(table.title) != clean_text(want["title"]):
        out.differences.append(f"{key}: title {table.title!r}, truth {want['title']!r}")
    if table.unit != want["unit"]:
        out.differences.append(f"{key}: unit {table.unit!r}, truth {want['unit']!r}")
    if table.pages != want["pages"]:
        out.differences.append(f"{key}: pages {table.pages}, truth {want['pages']}")
    if table.empty != want["empty"]:
        out.differences.append(f"{key}: empty {table.empty}, truth {want['empty']}")
    if want.get("note") and clean_text(table.note or "") != clean_text(want["note"]):
        out.differences.append(f"{key}: note {table.note!r}, truth {want['note']!r}")
    for k, v in want.items():
        if k in _TABLE_KEYS:
            continue
        got = table.extra.get(k)
        if got is None or not _same(v, got):
            out.differences.append(f"{key}: {k}={got!s}, truth {v!r}")
