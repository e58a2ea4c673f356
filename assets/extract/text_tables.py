"""Text-heavy tables (绩效目标表): indicator records with named fields.

A text table has head rows (部门名称, 预算总额 …: table-level facts read by
label), then a column header row (一级指标 | 二级指标 | …, or 项目编码 | 项目名称 | …)
and the records.  Columns map to fields by header text (the template's
``columns``), merged cells (one project over several indicator rows) are
repeated on every row (``fill_down``), amounts are parsed exactly.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from assets.extract.cells import AmountError, clean_text, header_text, parse_amount
from assets.extract.grid import Piece
from assets.extract.templates import Template, map_columns
from assets.records import ExtractedRow

_TOTAL = re.compile(r"^(合计|总计)$")


def _dedup(row: list[str]) -> list[str]:
    """Cells of a row with the copies of merged cells removed, in order."""
    out: list[str] = []
    for c in row:
        t = clean_text(c)
        if t and (not out or out[-1] != t):
            out.append(t)
    return out


def _header_fields(row: list[str], tpl: Template) -> dict[int, str]:
    return map_columns(tpl, [[header_text(c)] if clean_text(c) else [] for c in row])


def is_column_header(row: list[str], tpl: Template) -> bool:
    """The row naming the record columns: three or more cells map to fields, none holds an amount."""
    fields = _header_fields(row, tpl)
    return len(set(fields.values())) >= 3 and not any(_amount(c) is not None for c in row)


def _amount(text: str) -> Decimal | None:
    try:
        return parse_amount(clean_text(text))
    except AmountError:
        return None


def read_facts(head: list[list[str]], tpl: Template) -> dict[str, object]:
    """Table-level facts of the head rows: the value right of the first cell carrying a rule's label."""
    facts: dict[str, object] = {}
    for row in head:
        cells = _dedup(row)
        for rule in tpl.facts:
            if rule.field in facts:
                continue
            for i, cell in enumerate(cells):
                if all(w in header_text(cell) for w in rule.label):
                    rest = cells[i + 1 :]
                    if rule.value == "amount":
                        value = next((a for a in (_amount(c) for c in rest) if a is not None), None)
                    else:
                        value = rest[0] if rest else None
                    if value is not None:
                        facts[rule.field] = value
                    break
    return facts


def _record_values(
    raw: list[str], field_of: dict[int, str], tpl: Template, problems: list[str], where: str
) -> dict[str, object]:
    """A record row's values by field: amounts (an unreadable one is a problem) and non-empty texts."""
    values: dict[str, object] = {}
    for j, cell in enumerate(raw):
        fld = field_of.get(j)
        if fld is None:
            continue
        text = clean_text(cell)
        if fld in tpl.amount_fields:
            try:
                amount = parse_amount(text)
            except AmountError as exc:
                problems.append(f"{where}: {fld}: {exc}")
                amount = None
            if amount is not None:
                values[fld] = amount
        elif text:
            values[fld] = text
    return values


def _fill_down(values: dict[str, object], previous: dict[str, object], tpl: Template) -> None:
    """Merged cells left blank below their first row (by the extractor or a page break): outer levels
    first; a level printed on this row starts a new group."""
    for fld in tpl.fill_down:
        if fld in values:
            break
        if fld in previous:
            values[fld] = previous[fld]


def build_text_table(pieces: list[Piece], tpl: Template) -> tuple[list[ExtractedRow], list[str], dict, list[str]]:
    """Records of a (possibly multi-page) text table: rows, field names, table facts, problems."""
    problems: list[str] = []
    rows: list[ExtractedRow] = []
    head: list[list[str]] = []
    field_of: dict[int, str] = {}
    previous: dict[str, object] = {}
    idx = 0
    pieces = _complete_cut_merges(pieces, tpl)
    for piece in pieces:
        for raw in piece.cells:
            if not any(clean_text(c) for c in raw):
                continue
            if field_of and piece is not pieces[0] and tuple(_dedup(raw)) in {tuple(_dedup(h)) for h in head}:
                continue  # a head row repeated on a continuation page (print titles)
            if is_column_header(raw, tpl):
                if not field_of:
                    field_of = _header_fields(raw, tpl)
                continue  # the header, or its repetition on a continuation page
            if not field_of:
                head.append(raw)
                continue
            values = _record_values(raw, field_of, tpl, problems, f"page {piece.page} row {idx}")
            if not values:
                continue
            kind = _kind(values, tpl)
            if kind == "text" and previous.get("_kind") == "text":
                _fill_down(values, previous, tpl)
            rows.append(
                ExtractedRow(
                    page=piece.page,
                    row_index=idx,
                    values=values,
                    kind=kind,
                    raw=list(raw),
                    table_index=piece.table_index,
                )
            )
            previous = dict(values, _kind=kind)
            idx += 1
    if not field_of:
        problems.append(f"{tpl.name}: no column header row found")
    return rows, [field_of[j] for j in sorted(field_of)], read_facts(head, tpl), problems


def _complete_cut_merges(pieces: list[Piece], tpl: Template) -> list[Piece]:
    """A record's merged cells (one project over its indicator rows) cut by a page break: an office suite
    prints them in the part on the next page, so the indicator rows at the foot of a page show them blank.
    Those rows take them from the next page's first record, not from the record above (``fill_down``)."""
    fields = next((_header_fields(r, tpl) for p in pieces for r in p.cells if is_column_header(r, tpl)), {})
    merged = [j for j, f in fields.items() if f in tpl.fill_down]
    if not merged:
        return pieces
    out = [p for p in pieces]
    for k in range(len(pieces) - 1):
        piece = pieces[k]
        rows = [r for r in piece.cells if any(clean_text(c) for c in r)]
        nxt = next(
            (
                r
                for p in pieces[k + 1 :]
                for r in p.cells
                if any(clean_text(c) for c in r) and not is_column_header(r, tpl)
            ),
            None,
        )
        if not rows or nxt is None:
            continue
        last = rows[-1]
        if any(j < len(last) and clean_text(last[j]) for j in merged):
            continue  # the record's own cells are printed here (a unit row, a record not cut)
        cols = [j for j in merged if j in piece.vmerged and j < len(last) and j < len(nxt) and clean_text(nxt[j])]
        if not cols:
            continue
        fixed = list(last)
        for j in cols:
            fixed[j] = nxt[j]
        cells = [fixed if r is last else r for r in piece.cells]
        out[k] = replace(piece, cells=cells)
    return out


def _kind(values: dict[str, object], tpl: Template) -> str:
    names = [str(v) for v in values.values() if isinstance(v, str)]
    if names and _TOTAL.match(names[0]):
        return "total"
    # a unit row of the project table: its code and name and amounts, no indicator
    if "indicator" in {r.field for r in tpl.columns} and not any(
        values.get(f) for f in ("indicator", "indicator_type", "target", "category")
    ):
        return "subtotal"
    return "text"
