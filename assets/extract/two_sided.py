"""Two-sided tables: 收入 on the left, 支出 on the right (部门收支预算表, 财政拨款收支预算表).

Columns fall into groups, each a text column (the 项目 label) followed by its
amount columns.  Group 0 is the revenue side, group 1 the expenditure side,
group 2 (江苏's 支出用途 side) the expenditure by use.
"""

from __future__ import annotations

import re

from assets.extract.cells import AmountError, clean_text, header_text, parse_amount
from assets.extract.grid import Piece, _is_column_numbers, _row_has_amount, header_paths
from assets.records import ExtractedRow

SIDES = ("income", "expense", "use")
# a row label, not a header: "一、…", "（一）…", "1.…", "其中：…", "…合计"/"…总计" with text before
_ITEM_LABEL = re.compile(r"^([一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\d+[.、]|其中[:：]|.+(合计|总计)$)")
_EXTRA_AMOUNT_FIELDS = (
    ("其中", "of_which"),
    ("一般公共预算", "gpb"),
    ("政府性基金", "gov_fund"),
    ("国有资本", "soe_capital"),
    ("财政专户", "special_account"),
)


def _column_is_text(cells: list[list[str]], j: int) -> bool:
    texts = [clean_text(r[j]) for r in cells if j < len(r) and clean_text(r[j])]
    if not texts:
        return False
    amounts = 0
    for t in texts:
        try:
            if parse_amount(t) is not None:
                amounts += 1
        except AmountError:
            pass
    return amounts * 2 < len(texts)


def build_two_sided(pieces: list[Piece]) -> tuple[list[ExtractedRow], list[str], list[str]]:
    problems: list[str] = []
    all_cells = [r for p in pieces for r in p.cells]
    ncols = max(len(r) for r in all_cells) if all_cells else 0
    nh = 0
    for row in pieces[0].cells:
        if _row_has_amount(row) or nh >= 4:
            break
        if nh > 0 and any(_ITEM_LABEL.match(clean_text(c)) for c in row):
            break
        nh += 1
    paths = header_paths(pieces[0].cells[:nh], ncols)
    from assets.extract.grid import unglue_cells

    pieces = [Piece(p.page, [unglue_cells(r) for r in p.cells], p.table_index, p.flavor, p.accuracy) for p in pieces]
    body_all = pieces[0].cells[nh:] + [r for p in pieces[1:] for r in p.cells]
    # columns: group starts at each text column
    fields: dict[int, str] = {}
    side = -1
    amount_n = 0
    for j in range(ncols):
        if _column_is_text(body_all, j):
            side += 1
            amount_n = 0
            if side < len(SIDES):
                fields[j] = f"{SIDES[side]}_item"
            continue
        if side < 0 or side >= len(SIDES):
            continue
        label = "/".join(paths[j]) if j < len(paths) else ""
        name = f"{SIDES[side]}_amount"
        if amount_n > 0:
            for word, suffix in _EXTRA_AMOUNT_FIELDS:
                if word in label:
                    name = f"{SIDES[side]}_{suffix}"
                    break
            else:
                name = f"{SIDES[side]}_amount_{amount_n}"
            if name in fields.values():
                name = f"{name}_{amount_n}"
        fields[j] = name
        amount_n += 1

    rows: list[ExtractedRow] = []
    idx = 0
    for pi, piece in enumerate(pieces):
        body = piece.cells[nh:] if pi == 0 else piece.cells
        for raw in body:
            if _is_column_numbers(raw) or (pi > 0 and not _row_has_amount(raw) and _looks_like_header(raw)):
                continue
            values: dict[str, object] = {}
            for j, cell in enumerate(raw):
                fld = fields.get(j)
                if not fld:
                    continue
                if fld.endswith("_item"):
                    t = clean_text(cell)
                    if t:
                        values[fld] = t
                else:
                    try:
                        a = parse_amount(clean_text(cell))
                    except AmountError as exc:
                        problems.append(f"page {piece.page} row {idx}: {fld}: {exc}")
                        a = None
                    if a is not None:
                        values[fld] = a
            if not values:
                continue
            rows.append(ExtractedRow(page=piece.page, row_index=idx, values=values, kind="detail", raw=list(raw),
                                     table_index=piece.table_index))
            idx += 1
    return rows, ["/".join(p) for p in paths], problems


def _looks_like_header(row: list[str]) -> bool:
    texts = [header_text(c) for c in row if clean_text(c)]
    return bool(texts) and all(t in ("收入", "支出", "项目", "金额", "项目名称", "合计", "预算数") or "项目" in t for t in texts)


def build_text_rows(pieces: list[Piece]) -> list[ExtractedRow]:
    """绩效 tables and other text-heavy tables: every row kept as text cells."""
    rows = []
    idx = 0
    for piece in pieces:
        for raw in piece.cells:
            cells = [clean_text(c) for c in raw]
            if not any(cells):
                continue
            rows.append(ExtractedRow(page=piece.page, row_index=idx, values={"cells": cells}, kind="text",
                                     raw=list(raw), table_index=piece.table_index))
            idx += 1
    return rows
