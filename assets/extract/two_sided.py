"""Two-sided tables: 收入 on the left, 支出 on the right (部门收支预算表, 财政拨款收支预算表).

Columns fall into sides, each an item column (the 项目 label) followed by its
amount columns.  The side is read from the header ("收入" / "支出"; 江苏's third
支出用途 side is ``use``), the amount fields from the header text under it:
合计 → ``<side>_total``, 一般公共预算 (小计) → ``<side>_gpb``, 其中：财政拨款 →
``<side>_gpb_fiscal``, 政府性基金 → ``<side>_gov_fund``, 国有资本经营 →
``<side>_soe``, 财政专户 → ``<side>_special_account``, a single 金额 / 预算数
column → ``<side>_amount``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from assets.extract.cells import AmountError, clean_text, header_text, parse_amount
from assets.extract.grid import Piece, header_paths, is_column_numbers, row_has_amount, unglue_cells
from assets.records import ExtractedRow

SIDES = ("income", "expense", "use")
#: a row label, never a header: "一、…", "（一）…", "1.…", "…合计" / "…总计" with text before
_ORDINAL = re.compile(r"^([一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\d+[.、])")
_TOTAL = re.compile(r"^(.*(合计|总计))$")
#: the header of an item (label) column: 项目, 项目名称, 科目名称, 收入项目 … (not 项目支出)
_ITEM_HEADER = re.compile(r"^(收入|支出)?(项目|科目)(名称)?$|名称$|^支出用途$")
#: (words all in the column's header path, field suffix); first match wins
_AMOUNT_RULES = (
    (("其中", "财政拨款"), "gpb_fiscal"),
    (("一般公共预算",), "gpb"),
    (("政府性基金",), "gov_fund"),
    (("国有资本",), "soe"),
    (("财政专户",), "special_account"),
    (("人员经费",), "personnel"),
    (("公用经费",), "public"),
    (("基本支出",), "basic"),
    (("项目支出",), "project"),
    (("合计",), "total"),
    (("小计",), "total"),
)


def _is_amount_text(text: str) -> bool:
    try:
        return parse_amount(text) is not None
    except AmountError:
        return False


def is_header_row(row: list[str]) -> bool:
    """A header row: text only, no amount, no item label ("一、…", "…合计")."""
    texts = [clean_text(c) for c in row if clean_text(c)]
    if not texts or row_has_amount(row):
        return False
    for t in texts:
        if _ORDINAL.match(t) or _is_amount_text(t):
            return False
        if _TOTAL.match(t) and header_text(t) not in ("合计", "总计"):
            return False
    return True


def _column_is_text(cells: list[list[str]], j: int) -> bool:
    texts = [clean_text(r[j]) for r in cells if j < len(r) and clean_text(r[j])]
    if not texts:
        return False
    amounts = sum(1 for t in texts if _is_amount_text(t))
    return amounts * 2 < len(texts)


def column_fields(paths: list[list[str]], body: list[list[str]], ncols: int) -> dict[int, str]:
    """Column index → field name, from the header paths (the body decides where the header is silent)."""
    fields: dict[int, str] = {}
    side_index = -1
    side = ""
    used: set[str] = set()
    sides: set[str] = set()
    for j in range(ncols):
        path = paths[j] if j < len(paths) else []
        joined = "/".join(path)
        last = path[-1] if path else ""
        is_item = bool(_ITEM_HEADER.search(last)) if path else _column_is_text(body, j)
        if is_item:
            side_index += 1
            if "收入" in joined:
                side = "income"
            elif "支出用途" in joined or "用途" in joined:
                side = "use"
            elif "支出" in joined:
                side = "expense"
            else:
                side = ""
            if not side or side in sides:  # no side word, or a centred 收入 read over both sides
                side = next((s for s in SIDES if s not in sides), f"side{side_index}")
            sides.add(side)
            fields[j] = f"{side}_item"
            continue
        if side_index < 0:
            continue
        suffix = next((s for words, s in _AMOUNT_RULES if all(w in joined for w in words)), "amount")
        name = f"{side}_{suffix}"
        n = 2
        while name in used:
            name = f"{side}_{suffix}_{n}"
            n += 1
        used.add(name)
        fields[j] = name
    return fields


_NUMERAL_LINE = re.compile(r"^[一二三四五六七八九十]+$")


def repair_ordinal(cell: str) -> str:
    """A label whose ordinal numeral was read as a line of its own, set slightly off the line
    ("、单位预留机动\n三\n经费" for "三、单位预留机动经费"): the numeral goes back in front."""
    lines = [ln.strip() for ln in str(cell).split("\n") if ln.strip()]
    if len(lines) < 2 or not lines[0].startswith("、"):
        return cell
    numerals = [ln for ln in lines[1:] if _NUMERAL_LINE.match(ln)]
    if len(numerals) != 1:
        return cell
    rest = [ln for ln in lines if ln is not numerals[0]]
    return numerals[0] + "".join(rest)


_MAX_FRAGMENT = 6  # characters of a label's wrapped tail


def _rest_of_row(raw: list[str], previous: ExtractedRow, fields: dict[int, str]) -> bool:
    """The first row of a continuation page is the tail of the previous page's last row: only short
    label text, each under a label the previous row printed, none starting a new item ("九、", "（一）",
    "1.", "其中"), no amount."""
    texts = [(j, clean_text(c)) for j, c in enumerate(raw) if clean_text(c)]
    if not texts:
        return False
    for j, t in texts:
        fld = fields.get(j, "")
        if _is_amount_text(t) or len(t) > _MAX_FRAGMENT or _ORDINAL.match(t) or t.startswith("其中"):
            return False
        if fld.endswith("_item"):
            if not previous.values.get(fld):
                return False
        elif not any(t == clean_text(raw[i]) for i in range(len(raw)) if fields.get(i, "").endswith("_item")):
            return False  # text in an amount column that is no copy of a merged label
    return any(fields.get(j, "").endswith("_item") for j, _ in texts)


def _header_rows(first: list[list[str]]) -> int:
    """How many of the first page's rows are header rows (at most 4)."""
    nh = 0
    while nh < min(len(first), 4) and is_header_row(first[nh]):
        nh += 1
    return nh


def _without_repeated_header(body: list[list[str]], header_words: set[str]) -> list[list[str]]:
    """A continuation page's body without its repeated header rows (the first page's header words)."""
    k = 0
    while (
        k < min(len(body), 4)
        and is_header_row(body[k])
        and all(clean_text(c) in header_words for c in body[k] if clean_text(c))
    ):
        k += 1
    return body[k:]


def _join_cut_row(
    body: list[list[str]], rows: list[ExtractedRow], page: int, fields: dict[int, str]
) -> list[list[str]]:
    """The page break cut a row ("八、社会保障和就" | "业支出", "当 年 收 入" | "小计"): the tail printed
    first on the continuation page is joined to the previous row's labels; returns the rest of the body."""
    if not (body and rows and rows[-1].page != page and _rest_of_row(body[0], rows[-1], fields)):
        return body
    for j, cell in enumerate(body[0]):
        fld = fields.get(j, "")
        if clean_text(cell) and fld.endswith("_item"):
            rows[-1].values[fld] = f"{rows[-1].values[fld]}{clean_text(cell)}"
    return body[1:]


def _side_amount(
    cell: str, raw: list[str], fld: str, fields: dict[int, str], problems: list[str], where: str
) -> Decimal | None:
    """An amount cell of a side; unreadable text is a problem unless it copies a label of the row."""
    try:
        return parse_amount(clean_text(cell))
    except AmountError as exc:
        # a label merged over the item and amount columns ("当年支出小计" spanning 功能分类's
        # 名称 and 金额), copied into each by camelot: not an amount, not a problem
        if not any(clean_text(cell) == clean_text(c) for i, c in enumerate(raw) if fields.get(i, "").endswith("_item")):
            problems.append(f"{where}: {fld}: {exc}")
        return None


def _side_values(raw: list[str], fields: dict[int, str], problems: list[str], where: str) -> dict[str, object]:
    """A body row's values by field: the labels (``*_item``) and the amounts of both sides."""
    values: dict[str, object] = {}
    for j, cell in enumerate(raw):
        fld = fields.get(j)
        if not fld:
            continue
        if fld.endswith("_item"):
            t = clean_text(repair_ordinal(cell))
            if t:
                values[fld] = t
        else:
            a = _side_amount(cell, raw, fld, fields, problems, where)
            if a is not None:
                values[fld] = a
    return values


def build_two_sided(pieces: list[Piece]) -> tuple[list[ExtractedRow], list[str], list[str]]:
    """Rows of a two-sided table; returns rows, field names by column, problems."""
    problems: list[str] = []
    pieces = [Piece(p.page, [unglue_cells(r) for r in p.cells], p.table_index, p.flavor, p.accuracy) for p in pieces]
    first = pieces[0].cells
    ncols = max((len(r) for p in pieces for r in p.cells), default=0)
    nh = _header_rows(first)
    paths = header_paths(first[:nh], ncols)
    header_words = {clean_text(c) for r in first[:nh] for c in r}
    body_all = first[nh:] + [r for p in pieces[1:] for r in p.cells]
    fields = column_fields(paths, body_all, ncols)

    rows: list[ExtractedRow] = []
    idx = 0
    for pi, piece in enumerate(pieces):
        body = piece.cells[nh:] if pi == 0 else piece.cells
        if pi > 0:  # a continuation page
            body = _join_cut_row(_without_repeated_header(body, header_words), rows, piece.page, fields)
        for raw in body:
            if is_column_numbers(raw):
                continue
            values = _side_values(raw, fields, problems, f"page {piece.page} row {idx}")
            if not values:
                continue
            items = [v for k, v in values.items() if k.endswith("_item")]
            kind = "total" if any(_TOTAL.match(str(v)) for v in items) else "detail"
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
            idx += 1
    return rows, [fields.get(j, "") for j in range(ncols)], problems
