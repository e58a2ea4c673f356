"""From a grid of cell strings (what camelot returns) to typed rows.

Pure functions: header detection, header paths, the split of cells that hold
two printed rows, codes from 类|款|项 columns, row kinds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assets.extract.cells import (
    AmountError,
    clean_text,
    code_text,
    header_text,
    is_amount,
    is_amount_or_blank,
    is_code,
    parse_amount,
    split_lines,
)
from assets.extract.templates import Template, map_columns
from assets.records import ExtractedRow

CODE_FIELDS = ("class_part", "kuan_part", "xiang_part", "function_code", "unit_code", "econ_code", "gov_econ_code")
TEXT_FIELDS = ("name", "econ_name", "gov_econ_name", "category", "project_name", "project_unit")
_TOTAL_NAMES = re.compile(r"^(合计|总计|本年.*合计|.*合计|.*总计|小计)$")


@dataclass
class Piece:
    """One camelot table (or page slice of one) with its page."""

    page: int
    cells: list[list[str]]
    table_index: int = 0
    flavor: str = "lattice"
    accuracy: float | None = None
    #: camelot's table box (x1, y1, x2, y2) and each row's (top, bottom), PDF points; None when unknown
    bbox: tuple[float, float, float, float] | None = None
    rows_y: list[tuple[float, float]] | None = None
    cols_x: list[tuple[float, float]] | None = None  # each column's (left, right)


def _is_column_numbers(row: list[str]) -> bool:
    """"栏次 1 2 3 …" rows that number the columns."""
    nums = [c for c in (clean_text(x) for x in row) if c]
    if len(nums) < 3 or not all(re.fullmatch(r"\d{1,2}|栏次", n) for n in nums):
        return False
    ints = [int(n) for n in nums if n.isdigit()]
    return ints == list(range(ints[0], ints[0] + len(ints)))


def _row_has_amount(row: list[str]) -> bool:
    for cell in row:
        for line in split_lines(cell):
            t = clean_text(line)
            # a code alone ("201") is not an amount; amounts have a decimal point or separators
            if is_amount(t) and ("." in t or "," in t):
                return True
    return False


def header_row_count(cells: list[list[str]], tpl: Template) -> int:
    """Leading rows that are header: no amount in them and no known data label."""
    n = 0
    for row in cells:
        if _row_has_amount(row):
            break
        texts = [clean_text(c) for c in row if clean_text(c)]
        if texts and all(_TOTAL_NAMES.match(t) for t in texts[:1]) and n > 0 and all(
            is_amount_or_blank(t) for t in texts[1:]
        ):
            # a 合计 row with every amount blank: data of an empty table
            break
        if texts and is_code(texts[0]) and len(code_text(texts[0])) >= 3 and n > 0:
            break
        n += 1
        if n >= 6:
            break
    return n


def _header_word(text: str) -> bool:
    return any(w in text for w in ("支出", "经费", "收入", "项目", "金额", "科目", "编码", "名称", "预算", "类", "款", "项"))


_FURNITURE = re.compile(r"(部门名称|编制部门|编制单位|预算单位|单位名称|单位)[:：]")


def strip_page_furniture(piece: Piece) -> Piece:
    """Drop the leading rows a text-alignment parser keeps from above the table: the title line
    and the 部门名称 / 单位：万元 line.  Ruled (lattice) tables start at their top rule."""
    from assets.extract.templates import is_title_line

    k = 0
    while k < len(piece.cells):
        text = "".join(clean_text(c) for c in piece.cells[k])
        if not text or is_title_line(text) or _FURNITURE.search(text):
            k += 1
            continue
        break
    if k == 0:
        return piece
    return replace(piece, cells=piece.cells[k:], rows_y=piece.rows_y[k:] if piece.rows_y else piece.rows_y)


def fill_header_right(header: list[list[str]]) -> list[list[str]]:
    """Merged header cells as a text-alignment parser returns them: the text in the first column of
    the span, the rest empty.  Repeat it rightwards in every header row but the lowest (what
    lattice's ``copy_text=['h']`` does from the ruled spans)."""
    out = [list(r) for r in header]
    for row in out[:-1]:
        for j in range(1, len(row)):
            if not clean_text(row[j]) and clean_text(row[j - 1]):
                row[j] = row[j - 1]
    return out


def header_paths(header: list[list[str]], ncols: int) -> list[list[str]]:
    """Per column, its header cells top to bottom (merged cells repeated by camelot's copy_text)."""
    paths: list[list[str]] = []
    for j in range(ncols):
        path: list[str] = []
        for row in header:
            if j >= len(row):
                continue
            t = header_text(row[j])
            if t and (not path or path[-1] != t):
                path.append(t)
        paths.append(path)
    return paths


_GLUED_LEFT = re.compile(r"^([-(（]?[\d,，]+\.\d{1,2}[)）]?)(\D.*)$", re.S)
_GLUED_RIGHT = re.compile(r"^(.*\D)([-(（]?[\d,，]+\.\d{1,2}[)）]?)$", re.S)


def unglue_cells(row: list[str]) -> list[str]:
    """Text of adjacent cells glued together by the extractor, put back.

    "371,514,655.00一、一般公共服务支出" in a label cell whose left neighbour is
    empty: the amount belongs to the neighbour.  Likewise a label glued before
    an amount whose right neighbour is empty.
    """
    row = list(row)
    han = re.compile(r"[\u4e00-\u9fff]")
    for j, cell in enumerate(row):
        t = clean_text(cell)
        left_free = j > 0 and not clean_text(row[j - 1])
        right_free = j + 1 < len(row) and not clean_text(row[j + 1])
        m = _GLUED_LEFT.match(t)
        if m and han.search(m.group(2)):
            if left_free:
                row[j - 1], row[j] = m.group(1), m.group(2)
            elif right_free:
                row[j], row[j + 1] = m.group(1), m.group(2)
            continue
        m = _GLUED_RIGHT.match(t)
        if m and han.search(m.group(1)):
            if right_free:
                row[j], row[j + 1] = m.group(1), m.group(2)
            elif left_free:
                row[j - 1], row[j] = m.group(1), m.group(2)
    return row


def split_merged_row(row: list[str], field_of: dict[int, str]) -> list[list[str]]:
    """Two printed rows merged into one cell by the extractor ("208\\n208", "3.35\\n14.28") → rows.

    Only numeric cells (codes and amounts) decide how many rows were merged; a
    text cell is split too when it has exactly that many lines, else it stays
    whole on the first row (a name wrapped inside its cell).
    """
    counts = []
    for j, cell in enumerate(row):
        lines = split_lines(cell)
        if len(lines) > 1 and all(is_code(ln) or is_amount(ln) for ln in lines):
            if field_of.get(j) not in TEXT_FIELDS:
                counts.append(len(lines))
    if not counts:
        return [row]
    k = max(counts)
    out = [["" for _ in row] for _ in range(k)]
    for j, cell in enumerate(row):
        lines = split_lines(cell)
        numeric = lines and all(is_code(ln) or is_amount(ln) for ln in lines)
        if len(lines) == k and (numeric or field_of.get(j) in TEXT_FIELDS):
            for i in range(k):
                out[i][j] = lines[i]
        elif numeric and len(lines) == 1 and k > 1 and field_of.get(j) not in TEXT_FIELDS:
            # ambiguous: one value for k rows; keep it on the first row
            out[0][j] = lines[0]
        else:
            out[0][j] = cell
    return out


def build_rows(
    pieces: list[Piece], tpl: Template
) -> tuple[list[ExtractedRow], list[str], dict[int, str], list[str]]:
    """Rows of a (possibly multi-page) table; returns rows, header paths, fields, problems."""
    problems: list[str] = []
    first = pieces[0].cells
    ncols = max(len(r) for r in first) if first else 0
    nh = header_row_count(first, tpl)
    header = first[:nh] if pieces[0].flavor.startswith("lattice") else fill_header_right(first[:nh])
    paths = header_paths(header, ncols)
    field_of = map_columns(tpl, paths)
    header_keys = ["/".join(p) for p in paths]
    item_col = _item_column(field_of, header_keys, [r for p in pieces for r in p.cells[nh:]])
    name_col = next((j for j, f in field_of.items() if f == "name"), None)

    rows: list[ExtractedRow] = []
    carry = {"class_part": "", "kuan_part": ""}
    row_index = 0
    for pi, piece in enumerate(pieces):
        body = piece.cells
        if pi > 0:
            # a continuation page: drop its repeated header, if any
            skip = header_row_count(body, tpl)
            if skip and ["/".join(p) for p in header_paths(body[:skip], ncols)][: len(header_keys)] == header_keys[
                : len(header_keys)
            ]:
                body = body[skip:]
            elif skip and not any(_row_has_amount(r) for r in body[:skip]) and all(
                any(_header_word(clean_text(c)) for c in r) for r in body[:skip]
            ):
                body = body[skip:]
        else:
            body = body[nh:]
        for raw in body:
            if _is_column_numbers(raw):
                continue
            item = ""
            if item_col is not None and item_col < len(raw):
                raw, item = _with_item(raw, name_col, item_col)
            for sub in split_merged_row(unglue_cells(raw), field_of):
                row = _typed_row(sub, field_of, carry, problems, piece.page, row_index, tpl.code_field)
                if row is None:
                    continue
                if item:  # a row of its own under its category, even without an amount
                    row.kind = "subtotal" if item == "小计" else ("total" if row.kind == "total" else "detail")
                if tpl.row_kind and row.kind == "detail":
                    row.kind = tpl.row_kind
                row.table_index = piece.table_index
                # a name wrapped into a row of its own: glue it to the previous row
                if row.kind == "continuation" and rows:
                    prev = rows[-1]
                    for key, val in row.values.items():
                        if key in TEXT_FIELDS and val:
                            prev.values[key] = (prev.values.get(key) or "") + val
                    continue
                rows.append(row)
                row_index += 1
    _mark_subtotals(rows)
    return rows, header_keys, field_of, problems


def _item_column(field_of: dict[int, str], header_keys: list[str], body: list[list[str]]) -> int | None:
    """江苏 收入预算总表: 项目名称 spans two columns, a category (一般公共预算资金, merged down its rows)
    and its items (小计, 公共财政拨款(补助)资金 …).  The column right of the name column, with no field,
    headed like it or not at all, holding text: the item column."""
    name_col = next((j for j, f in field_of.items() if f == "name"), None)
    if name_col is None:
        return None
    j = name_col + 1
    while j not in field_of and j < len(header_keys) and header_keys[j] in ("", header_keys[name_col]):
        cells = [(clean_text(r[name_col]), clean_text(r[j])) for r in body if j < len(r)]
        texts = [t for _, t in cells if t]
        if texts and all(t == c for c, t in cells if t):
            j += 1  # a thin column repeating the category (a rule drawn inside its merged cell)
            continue
        if not texts or sum(1 for t in texts if is_amount(t)) * 2 >= len(texts):
            return None
        return j
    return None


def _with_item(raw: list[str], name_col: int, j: int) -> tuple[list[str], str]:
    """The row with its name set from category and item: a 小计 row is named by its category, an item
    row by its item (债务资金(银行贷款) spans both); returns the row and the item ("" when none)."""
    category, item = clean_text(raw[name_col]), clean_text(raw[j])
    row = list(raw)
    for k in range(name_col + 1, j + 1):
        row[k] = ""
    if item and item != category:
        # a category camelot left blank (its text astride a rule of the merged cell): the item alone
        row[name_col] = category if item == "小计" and category else item
        return row, item
    return row, ""


def _typed_row(
    cells: list[str],
    field_of: dict[int, str],
    carry: dict[str, str],
    problems: list[str],
    page: int,
    row_index: int,
    code_field: str = "function_code",
) -> ExtractedRow | None:
    values: dict[str, object] = {}
    for j, cell in enumerate(cells):
        fld = field_of.get(j)
        if fld is None:
            continue
        if fld in CODE_FIELDS:
            code = code_text(cell)
            if code and not code.isdigit():
                # a label spanning the code columns ("合计" merged over 类|款|项)
                label = clean_text(cell)
                name_field = "econ_name" if code_field == "econ_code" else "name"
                if label and label not in str(values.get(name_field, "")):
                    values[name_field] = str(values.get(name_field, "")) + label
                code = ""
            values[fld] = code
        elif fld in TEXT_FIELDS:
            values[fld] = clean_text(cell) or values.get(fld, "")
        else:
            try:
                amount = parse_amount(clean_text(cell))
            except AmountError as exc:
                problems.append(f"page {page} row {row_index}: {fld}: {exc}")
                amount = None
            if amount is not None:
                values[fld] = amount
    if not any(v not in ("", None) for v in values.values()):
        return None

    # codes printed in three columns, as a tree, or in one column
    if "class_part" in field_of.values() or "kuan_part" in field_of.values():
        cls, kuan, xiang = (str(values.pop(k, "") or "") for k in ("class_part", "kuan_part", "xiang_part"))
        # 款 and 项 are two digits; a spreadsheet export may drop the leading zero ("301 | 2" is 30102)
        kuan, xiang = (p.zfill(2) if len(p) == 1 and p.isdigit() else p for p in (kuan, xiang))
        if cls and len(cls) >= 3 and not kuan and not xiang and len(cls) in (5, 7):
            code = cls  # a code printed whole in the 类 column
        elif cls:
            carry["class_part"], carry["kuan_part"] = cls[:3], kuan
            code = cls + kuan + xiang
        elif kuan or xiang:
            if kuan:
                carry["kuan_part"] = kuan
            code = carry["class_part"] + (kuan or carry["kuan_part"]) + xiang
        else:
            code = ""
        values[code_field] = code
    code = str(values.get("function_code") or values.get("econ_code") or "")
    name = str(values.get("name") or values.get("econ_name") or values.get("project_name") or "")
    has_amount = any(not isinstance(v, str) for v in values.values())

    if code and not re.fullmatch(r"\d{3}|\d{5}|\d{7}", code):
        problems.append(f"page {page} row {row_index}: malformed code {code!r}")
    if not code and name and _TOTAL_NAMES.match(name):
        kind = "total"
    elif not code and values.get("unit_code"):
        kind = "subtotal"  # a budget unit's row (单位代码 + 单位名称)
    elif "project_name" in values and not code and not values.get("category"):
        # 项目支出预算表: the 合计 row prints amounts only; a unit row its code (in the
        # 项目名称 column) and name
        project = str(values.get("project_name") or "")
        if not project and not values.get("project_unit") and has_amount:
            kind = "total"
        elif re.fullmatch(r"\d{3,9}", project) and has_amount:
            kind = "subtotal"
        elif not has_amount and project:
            kind = "continuation"
        else:
            kind = "detail"
    elif not code and not has_amount and name and not values.get("category"):
        kind = "continuation"
    else:
        kind = "detail"
    return ExtractedRow(page=page, row_index=row_index, values=values, kind=kind, raw=list(cells))


def _mark_subtotals(rows: list[ExtractedRow]) -> None:
    """类 (3) and 款 (5) rows with children below them are subtotals, not details."""
    codes = [str(r.values.get("function_code") or r.values.get("econ_code") or "") for r in rows]
    for i, code in enumerate(codes):
        if rows[i].kind != "detail" or len(code) not in (3, 5):
            continue
        if any(len(other) > len(code) and other.startswith(code) for other in codes):
            rows[i].kind = "subtotal"
