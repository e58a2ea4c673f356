"""From a grid of cell strings (what camelot returns) to typed rows.

Pure functions: header rows and their paths, columns → fields (by the vocabulary of
``table_types.yaml``), cells that hold two printed rows or one amount wrapped over two lines, codes in
every printed form (:mod:`assets.extract.printed_codes`), row kinds (total, unit and 类/款 subtotals,
details, last year's and the change rows), tables printed with one row per item (transposed), and the
problems that would otherwise lose data silently: a column printing amounts that maps to nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

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
from assets.extract.printed_codes import (
    CodeCarry,
    bare_name,
    code_cell,
    resolve_names,
    split_code_name,
)
from assets.extract.templates import Template, canonical_path, is_title_line, loaded_field, map_columns, vocabulary
from assets.records import ExtractedRow

CODE_FIELDS = ("class_part", "kuan_part", "xiang_part", "function_code", "unit_code", "econ_code", "gov_econ_code")
TEXT_FIELDS = (
    "name",
    "econ_name",
    "gov_econ_name",
    "category",
    "project_name",
    "project_unit",
    "unit_name",
    "item",
    "year",
    "performance_text",
)
NAME_FIELDS = ("name", "econ_name", "item", "project_name")
_TOTAL_NAMES = re.compile(r"^(合计|总计|本年.*合计|.*合计|.*总计|小计)$")
#: the value of a row's code after a table's codes are resolved from names
HARD, SOFT, INFO = "hard", "soft", "info"


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
    #: per cell, whether camelot's copy_text fills it from the left / from above (a merged cell's parts)
    spans: list[list[tuple[bool, bool]]] | None = None
    #: columns where a cell merges with the one above somewhere (codes printed once for their group)
    vmerged: frozenset[int] = frozenset()


@dataclass
class Problem:
    """Something the reading could not do right: ``hard`` when data would be lost or wrong."""

    severity: str
    page: int | None
    detail: str

    def __str__(self) -> str:
        return self.detail


@dataclass
class Built:
    """A grid table's rows and how they were read."""

    rows: list[ExtractedRow]
    header_keys: list[str]
    field_of: dict[int, str]
    problems: list[Problem] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- rows that are not data


def is_column_numbers(row: list[str]) -> bool:
    """ "栏次 1 2 3 …" / "** 1 2 3" rows that number the columns."""
    cells = [c for c in (clean_text(x) for x in row) if c]
    marks = [c for c in cells if c in ("栏次", "**", "*", "甲", "乙", "丙", "栏号")]
    nums = [c for c in cells if c not in marks]
    if len(nums) < 2 or not all(re.fullmatch(r"\d{1,2}", n) for n in nums):
        return False
    ints = [int(n) for n in nums]
    return ints == list(range(ints[0], ints[0] + len(ints))) and (len(nums) >= 3 or marks)


def row_has_amount(row: list[str]) -> bool:
    for cell in row:
        for line in split_lines(cell):
            t = clean_text(line)
            # a code alone ("201") is not an amount; amounts have a decimal point or separators
            if is_amount(t) and ("." in t or "," in t):
                return True
    return False


def header_row_count(cells: list[list[str]], tpl: Template | None = None) -> int:
    """Leading rows that are header: no amount in them and no known data label."""
    n = 0
    for row in cells:
        if row_has_amount(row):
            break
        if is_column_numbers(row):
            n += 1  # the column-number row closes the header
            break
        texts = [clean_text(c) for c in row if clean_text(c)]
        if texts and n > 0 and _TOTAL_NAMES.match(texts[0]) and all(is_amount_or_blank(t) for t in texts[1:]):
            break  # a 合计 row with every amount blank: data of an empty table
        if (
            texts
            and n > 0
            and (
                is_code(texts[0])
                and len(code_text(texts[0])) >= 3
                or split_code_name(texts[0], tpl.content if tpl else "function")[0]
            )
        ):
            break
        n += 1
        if n >= 6:
            break
    return n


def _header_word(text: str) -> bool:
    return any(
        w in text
        for w in (
            "支出",
            "经费",
            "收入",
            "项目",
            "金额",
            "科目",
            "编码",
            "名称",
            "预算",
            "类",
            "款",
            "项",
            "合计",
            "单位",
            "年度",
        )
    )


_FURNITURE = re.compile(r"(部门名称|编制部门|编制单位|预算单位|单位名称|单位)[:：]")


def strip_page_furniture(piece: Piece) -> Piece:
    """Drop the leading rows a text-alignment parser keeps from above the table: the title line
    and the 部门名称 / 单位：万元 line.  Ruled (lattice) tables start at their top rule."""
    k = 0
    while k < len(piece.cells):
        text = "".join(clean_text(c) for c in piece.cells[k])
        if not text or is_title_line(text) or _FURNITURE.search(text) or re.fullmatch(r"(公开)?\d*表\d*", text):
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
            if t and t not in ("**", "*") and not re.fullmatch(r"\d{1,2}", t) and (not path or path[-1] != t):
                path.append(t)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- cells

OPEN_BELOW = "\u2193"  # see assets.extract.layout.OPEN_BELOW


def resolve_open_cells(pieces: list[Piece]) -> list[Piece]:
    """Merged cells cut by a page break whose text stands in the part on the next page: the rows at the
    foot of a page take the text of the same column in the next part's first row (where it is printed);
    the last part's, or a column the next part leaves blank, stay blank."""
    out = []
    for k, piece in enumerate(pieces):
        if not any(OPEN_BELOW in c for r in piece.cells for c in r):
            out.append(piece)
            continue
        nxt = next((p for p in pieces[k + 1 :] if p.cells), None)
        cells = []
        for row in piece.cells:
            new = list(row)
            for j, c in enumerate(row):
                if c == OPEN_BELOW:
                    below = _first_text_below(nxt, j) if nxt is not None else ""
                    new[j] = below
            cells.append(new)
        out.append(replace(piece, cells=cells))
    return out


def _first_text_below(piece: Piece, j: int) -> str:
    """The text of column ``j`` in the first data row of a part (its repeated header rows skipped)."""
    for row in piece.cells:
        if j >= len(row) or is_column_numbers(row):
            continue
        if not row_has_amount(row) and not any(
            split_code_name(clean_text(c), "function")[0] or is_code(c) for c in row
        ):
            continue  # a header row repeated on the page
        t = row[j]
        return "" if t == OPEN_BELOW else t
    return ""


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


_COMPLETE_AMOUNT = re.compile(r"^[-(（]?\d{1,3}(,\d{3})*(\.\d+)?[)）]?$|^[-(（]?\d+(\.\d+)?[)）]?$")


def _decimals(t: str) -> int:
    return len(t.split(".", 1)[1].rstrip(")）")) if "." in t else 0


def join_wrapped_amount(cell: str, decimals: int = 2) -> str:
    """An amount wrapped over two lines of its cell ("293,191.8" / "6", "12,672" / ".73") joined again;
    two amounts (two printed rows merged into one cell: "3.35" / "14.28", "-" / "14.28") stay apart."""
    lines = [clean_text(x) for x in split_lines(cell)]
    if len(lines) < 2:
        return cell
    for a, b in zip(lines, lines[1:], strict=False):
        if not re.search(r"[\d.,]$", a) or not re.match(r"^[\d.,]", b):
            return cell
    if _complete(lines[0], decimals):
        return cell
    joined = "".join(lines)
    if not is_amount(joined) or _decimals(joined) != decimals or not _complete(joined, decimals):
        return cell
    return joined


def _complete(t: str, decimals: int) -> bool:
    """A whole printed amount: digits grouped by three (or not at all), the table's decimals."""
    return bool(_COMPLETE_AMOUNT.match(t)) and _decimals(t) == decimals


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
            if _base(field_of.get(j)) not in TEXT_FIELDS:
                counts.append(len(lines))
    if not counts:
        return [row]
    k = max(counts)
    out = [["" for _ in row] for _ in range(k)]
    for j, cell in enumerate(row):
        lines = split_lines(cell)
        numeric = lines and all(is_code(ln) or is_amount(ln) for ln in lines)
        if len(lines) == k and (numeric or _base(field_of.get(j)) in TEXT_FIELDS):
            for i in range(k):
                out[i][j] = lines[i]
        elif numeric and len(lines) == 1 and k > 1 and _base(field_of.get(j)) not in TEXT_FIELDS:
            # ambiguous: one value for k rows; keep it on the first row
            out[0][j] = lines[0]
        else:
            out[0][j] = cell
    return out


def _base(name: str | None) -> str | None:
    return name.split(":", 1)[1] if name and ":" in name else name


# --------------------------------------------------------------------------- building


def build_rows(
    pieces: list[Piece], tpl: Template, fiscal_year: int | None = None
) -> tuple[list[ExtractedRow], list[str], dict[int, str], list[Problem]]:
    """Rows of a (possibly multi-page) table; returns rows, header keys, fields, problems."""
    b = build_table(pieces, tpl, fiscal_year)
    return b.rows, b.header_keys, b.field_of, b.problems


def build_table(pieces: list[Piece], tpl: Template, fiscal_year: int | None = None) -> Built:
    first = pieces[0].cells
    ncols = max((len(r) for p in pieces for r in p.cells), default=0)
    nh = header_row_count(first, tpl)
    header = first[:nh] if pieces[0].flavor.startswith("lattice") else fill_header_right(first[:nh])
    paths = header_paths(header, ncols)
    field_of = map_columns(tpl, paths, fiscal_year)
    header_keys = ["/".join(p) for p in paths]
    problems: list[Problem] = []
    body = _body_rows(pieces, nh, header_keys, ncols, tpl)
    _complete_cut_codes(body, field_of)
    decimals = _typical_decimals(body, field_of, tpl)
    item_col = _item_column(field_of, header_keys, [r for _, r in body])
    name_col = next((j for j, f in field_of.items() if f == "name"), None)

    if tpl.transposable and _is_transposed(field_of, tpl, body):
        rows = _transposed_rows(body, field_of, paths, tpl, fiscal_year, problems)
        _check_unmapped(body, field_of, paths, tpl, problems, transposed=True)
        return Built(rows, header_keys, field_of, problems, {"transposed": True})

    rows: list[ExtractedRow] = []
    carry = CodeCarry()
    row_index = 0
    for piece, raw in body:
        item = ""
        if item_col is not None and item_col < len(raw):
            raw, item = _with_item(raw, name_col, item_col)
        raw = [
            join_wrapped_amount(c, decimals) if _is_amount_field(field_of.get(j), tpl) else c for j, c in enumerate(raw)
        ]
        for sub in split_merged_row(unglue_cells(raw), field_of):
            row = _typed_row(sub, field_of, carry, problems, piece.page, row_index, tpl, fiscal_year)
            if row is None:
                continue
            if item:  # a row of its own under its category, even without an amount
                row.kind = "subtotal" if item == "小计" else ("total" if row.kind == "total" else "detail")
            row.table_index = piece.table_index
            if row.kind == "continuation":
                if rows:  # a name wrapped into a row of its own: glue it to the previous row
                    prev = rows[-1]
                    for key, val in row.values.items():
                        if _base(key) in TEXT_FIELDS and val:
                            prev.values[key] = (prev.values.get(key) or "") + val
                continue
            rows.append(row)
            row_index += 1
    extra: dict = {}
    _resolve_uncoded(rows, tpl, fiscal_year, problems, extra)
    _economic_extensions(rows, tpl)
    _mark_subtotals(rows)
    _unit_rows(rows, tpl)
    if tpl.one_total:
        _one_total(rows)
    else:
        _total_by_identity(rows, extra)
    _check_unmapped(body, field_of, paths, tpl, problems)
    _decide_total_components(rows, set(field_of.values()), extra)
    return Built(rows, header_keys, field_of, problems, extra)


def _complete_cut_codes(body: list[tuple[Piece, list[str]]], field_of: dict[int, str]) -> None:
    """A code printed once for its group (类/款 cells merged down the group) whose group is cut by a page
    break: an office suite prints the code in the part on the next page, leaving the rows at the foot of
    the page blank there.  Such a row (its 项 printed, its 类/款 blank, in a column that merges cells) takes
    the part from the first row of the next page instead of the group above."""
    parts = {f: j for j, f in field_of.items() if f in ("class_part", "kuan_part", "xiang_part")}
    if not parts:
        return
    for k in range(len(body) - 1):
        piece, row = body[k]
        nxt_piece, nxt = body[k + 1]
        if nxt_piece is piece:
            continue
        deeper = False
        for name in ("xiang_part", "kuan_part", "class_part"):
            j = parts.get(name)
            if j is None or j >= len(row):
                continue
            if clean_text(row[j]):
                deeper = True
            elif deeper and j in piece.vmerged and j < len(nxt) and clean_text(nxt[j]):
                row[j] = nxt[j]


def _body_rows(
    pieces: list[Piece], nh: int, header_keys: list[str], ncols: int, tpl: Template
) -> list[tuple[Piece, list[str]]]:
    """The data rows of every piece (repeated headers and column-number rows dropped), with their piece."""
    out = []
    for pi, piece in enumerate(pieces):
        body = piece.cells
        if pi > 0:
            # a continuation page: drop its repeated header, if any
            skip = header_row_count(body, tpl)
            if (
                skip
                and ["/".join(p) for p in header_paths(body[:skip], ncols)][: len(header_keys)]
                == header_keys[: len(header_keys)]
            ):
                body = body[skip:]
            elif (
                skip
                and not any(row_has_amount(r) for r in body[:skip])
                and all(any(_header_word(clean_text(c)) for c in r) or is_column_numbers(r) for r in body[:skip])
            ):
                body = body[skip:]
        else:
            body = body[nh:]
        for raw in body:
            if not is_column_numbers(raw):
                out.append((piece, list(raw)))
    return out


def _is_amount_field(name: str | None, tpl: Template) -> bool:
    return name is not None and tpl.role(_base(name)) == "amount"


def _typical_decimals(body: list[tuple[Piece, list[str]]], field_of: dict[int, str], tpl: Template) -> int:
    """The decimals most amounts of the table print (2; 0 for whole-元 tables)."""
    counts: dict[int, int] = {}
    for _, raw in body[:60]:
        for j, cell in enumerate(raw):
            if not _is_amount_field(field_of.get(j), tpl):
                continue
            whole = clean_text(cell)  # an amount wrapped in its cell counts as printed whole
            for t in [whole] if is_amount(whole) else [clean_text(ln) for ln in split_lines(cell)]:
                if is_amount(t) and t not in ("0", "-", "—"):
                    counts[_decimals(t)] = counts.get(_decimals(t), 0) + 1
    return max(counts, key=counts.get) if counts else 2


def _item_column(field_of: dict[int, str], header_keys: list[str], body: list[list[str]]) -> int | None:
    """A name spanning two columns, a category (merged down its rows) and its items (小计, …): the column
    right of the name column, with no field, headed like it or not at all, holding text."""
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
    row by its item; returns the row and the item ("" when none)."""
    category, item = clean_text(raw[name_col]), clean_text(raw[j])
    row = list(raw)
    for k in range(name_col + 1, j + 1):
        row[k] = ""
    if item and item != category:
        row[name_col] = category if item == "小计" and category else item
        return row, item
    return row, ""


def _label_kind(label: str) -> str | None:
    """``total`` / ``prior`` / ``change`` for a row label that says so (else None)."""
    v = vocabulary()
    t = header_text(label)
    if not t:
        return None
    if any(w in t for w in v.change_rows):
        return "change"
    if any(p.search(t) for p in v.prior_rows):
        return "prior"
    if any(p.search(t) for p in v.total_rows):
        return "total"
    return None


def _year_kind(text: str, fiscal_year: int | None) -> str | None:
    t = header_text(text)
    if not t:
        return None
    if any(w in t for w in vocabulary().change_rows):
        return "change"
    m = re.search(r"((?:19|20)\d{2})", t)
    if m and fiscal_year is not None:
        return "current" if int(m.group(1)) == fiscal_year else "prior"
    return None


def _code_part_cell(cell: str) -> tuple[str, str | None]:
    """A 类|款|项 part's cell: ``(digits, None)``, or ``("", label)`` for text printed there ("合计")."""
    t = code_text(cell)
    if t and not t.isdigit():
        return "", clean_text(cell)
    return t, None


def _code_column_cell(cell: str, fld: str, content: str) -> tuple[str, str]:
    """A code column's cell: ``(code, text printed with it)``; a 单位编码 is digits or nothing."""
    if fld == "unit_code":
        t = code_text(cell)
        return (t, "") if t.isdigit() else ("", clean_text(cell))
    return code_cell(cell, content)


def _printed_as_text(text: str, cells: list[str], j: int, field_of: dict[int, str], tpl: Template) -> bool:
    """The cell's text is also printed in a text or code column of the row (a name spilled into an amount)."""
    return any(
        text == clean_text(c)
        for i, c in enumerate(cells)
        if i != j and tpl.role(_base(field_of.get(i) or "")) in ("text", "unit", "code", "code_part")
    )


def _amount_cell(
    cells: list[str],
    j: int,
    fld: str,
    field_of: dict[int, str],
    tpl: Template,
    problems: list[Problem],
    page: int,
    row_index: int,
) -> Decimal | None:
    """An amount column's cell: its amount, or None (unreadable text is a finding unless the row prints it
    as text too)."""
    t = clean_text(cells[j])
    try:
        return parse_amount(t)
    except AmountError as exc:
        if t and not _printed_as_text(t, cells, j, field_of, tpl):
            problems.append(
                Problem(
                    SOFT if not loaded_field(tpl, fld) else HARD, page, f"page {page} row {row_index}: {fld}: {exc}"
                )
            )
        return None


def _read_cells(
    cells: list[str], field_of: dict[int, str], tpl: Template, problems: list[Problem], page: int, row_index: int
) -> tuple[dict[str, object], list[str], dict[str, str]]:
    """The row's cells by the role of their field: ``(values, labels, parts)``: the values by field, the text
    printed in code columns ("合计" merged over 类|款|项), and the 类|款|项 parts."""
    values: dict[str, object] = {}
    labels: list[str] = []
    parts: dict[str, str] = {}
    for j, cell in enumerate(cells):
        fld = field_of.get(j)
        if fld is None:
            continue
        role = tpl.role(_base(fld))
        if role == "code_part":
            t, label = _code_part_cell(cell)
            if label is not None:
                labels.append(label)
            parts[fld] = t
        elif role == "code":
            code, rest = _code_column_cell(cell, fld, tpl.content)
            if rest:
                labels.append(rest)
            values[fld] = code
        elif role in ("text", "unit", "year"):
            t = clean_text(cell)
            if t or fld not in values:
                values[fld] = t
        else:
            amount = _amount_cell(cells, j, fld, field_of, tpl, problems, page, row_index)
            if amount is not None:
                values[fld] = amount
    return values, labels, parts


def _set_code_and_name(
    values: dict[str, object],
    parts: dict[str, str],
    labels: list[str],
    carry: CodeCarry,
    tpl: Template,
    name_field: str,
) -> None:
    """The code: split 类|款|项 parts, a code column, or a code printed in front of the name; the name: the
    text printed in code columns when no name column says it."""
    content, code_field = tpl.content, tpl.code_field
    if parts:
        composed = carry.compose(parts.get("class_part", ""), parts.get("kuan_part", ""), parts.get("xiang_part", ""))
        if composed and not values.get(code_field):
            values[code_field] = composed
    if labels and not values.get(name_field) and not values.get("item"):
        values[name_field] = "".join(dict.fromkeys(labels))
    if content in ("function", "economic") and not values.get(code_field):
        code, rest = split_code_name(str(values.get(name_field) or ""), content)
        if code:
            values[code_field] = code
            values[name_field] = rest
    if code_field not in values and content in ("function", "economic"):
        values[code_field] = ""


def _typed_row(
    cells: list[str],
    field_of: dict[int, str],
    carry: CodeCarry,
    problems: list[Problem],
    page: int,
    row_index: int,
    tpl: Template,
    fiscal_year: int | None,
) -> ExtractedRow | None:
    code_field = tpl.code_field
    name_field = "econ_name" if code_field == "econ_code" else "name"
    values, labels, parts = _read_cells(cells, field_of, tpl, problems, page, row_index)
    if not any(v not in ("", None) for v in values.values()) and not any(parts.values()) and not labels:
        return None
    _set_code_and_name(values, parts, labels, carry, tpl, name_field)
    code = str(values.get(code_field) or "")
    name = str(values.get(name_field) or values.get("item") or values.get("project_name") or "")
    unit_text = str(values.get("unit_name") or "")
    has_amount = any(isinstance(v, Decimal) for k, v in values.items() if ":" not in k)

    if code and not re.fullmatch(r"\d{3}|\d{5}|\d{7}", code):
        problems.append(Problem(HARD, page, f"page {page} row {row_index}: malformed code {code!r}"))
    kind = _row_kind(values, code, name, unit_text, has_amount, tpl, fiscal_year)
    return ExtractedRow(page=page, row_index=row_index, values=values, kind=kind, raw=list(cells))


def _row_kind(
    values: dict, code: str, name: str, unit_text: str, has_amount: bool, tpl: Template, fiscal_year: int | None
) -> str:
    year_text = str(values.get("year") or "")
    yk = _year_kind(year_text, fiscal_year) if year_text else None
    if yk in ("prior", "change"):
        return yk
    lk = _label_kind(name) if not code else None
    if lk in ("prior", "change"):
        return lk
    if not code and (lk == "total" or (not name and _label_kind(unit_text) == "total")):
        return "total"
    if not code and (values.get("unit_code") or unit_text) and not name:
        return "unit"
    if "project_name" in values and not code and not values.get("category"):
        # 项目支出预算表: the 合计 row prints amounts only; a unit row its code (in the
        # 项目名称 column) and name
        project = str(values.get("project_name") or "")
        if not project and not values.get("project_unit") and has_amount:
            return "total"
        if re.fullmatch(r"\d{3,9}", project) and has_amount:
            return "subtotal"
        if not has_amount and project:
            return "continuation"
        return "detail"
    if not code and values.get("unit_code"):
        return "unit"
    if not code and not has_amount and name and not values.get("category"):
        return "continuation"
    return "detail"


# --------------------------------------------------------------------------- after all rows


def _resolve_uncoded(
    rows: list[ExtractedRow], tpl: Template, year: int | None, problems: list[Problem], extra: dict
) -> None:
    """Rows of a function/economic table printed without codes: resolved by name through the year's
    catalog when the whole table prints none; a coded table's uncoded detail row is a finding."""
    if tpl.content not in ("function", "economic"):
        return
    cf = tpl.code_field
    nf = "econ_name" if cf == "econ_code" else "name"
    data = [r for r in rows if r.kind == "detail"]
    if not data:
        return
    if (
        not _row_label(data[0], nf)
        and not data[0].values.get(cf)
        and not any(r.kind == "total" for r in rows)
        and rows
        and rows[0] is data[0]
    ):
        data[0].kind = "total"  # the first row, amounts only (a 合计 printed without its label)
        data = data[1:]
        if not data:
            return
    coded = [r for r in data if r.values.get(cf)]
    if coded:
        _uncoded_units(rows, tpl, problems, extra)
        return
    names = [str(r.values.get(nf) or "") for r in data]
    totals = [_first_amount(r, tpl) for r in data]
    resolved = resolve_names(names, totals, tpl.content, year)
    if not any(res.code for res in resolved):
        return  # rows of units or projects, not of the classification: nothing to resolve
    unresolved = []
    for r, res in zip(data, resolved, strict=False):
        if res.code:
            r.values[cf] = res.code
            r.values["code_printed"] = False
        else:
            unresolved.append((r, res))
    extra["codes"] = "resolved from names (no codes printed)"
    for r, res in unresolved:
        problems.append(
            Problem(
                HARD,
                r.page,
                f"page {r.page} row {r.row_index}: {r.values.get(nf)!r}: no code "
                f"printed and the name does not resolve in the {year} catalog ({res.how})",
            )
        )


def _uncoded_units(rows: list[ExtractedRow], tpl: Template, problems: list[Problem], extra: dict) -> None:
    """A row with amounts but no code in a table that prints codes: a unit's row (单位 printed by name, no
    单位代码 column) when its amount is the sum of the 项 rows under it down to the next such row — the
    identity decides; otherwise a finding (the row cannot be placed in the classification)."""
    cf = tpl.code_field
    nf = "econ_name" if cf == "econ_code" else "name"
    uncoded = [
        i
        for i, r in enumerate(rows)
        if r.kind == "detail"
        and not r.values.get(cf)
        and any(isinstance(v, Decimal) and v != 0 for v in r.values.values())
    ]
    decided = []
    for n, i in enumerate(uncoded):
        end = next((k for k in uncoded[n + 1 :]), len(rows))
        end = next((k for k in range(i + 1, end) if rows[k].kind == "total"), end)
        below = [
            r
            for r in rows[i + 1 : end]
            if r.kind == "detail"
            and len(str(r.values.get(cf) or "")) in (5, 7)
            and not any(
                len(str(o.values.get(cf) or "")) > len(str(r.values.get(cf)))
                and str(o.values.get(cf)).startswith(str(r.values.get(cf)))
                for o in rows[i + 1 : end]
            )
        ]
        key = _first_key(rows[i])
        if key and below and _sums_to(rows[i].values[key], [r.values.get(key) for r in below]):
            rows[i].kind = "unit"
            decided.append(
                f"{_row_label(rows[i], nf)} (page {rows[i].page}) = the sum of the {len(below)} rows "
                "under it: a unit's row"
            )
            continue
        r = rows[i]
        problems.append(
            Problem(
                HARD,
                r.page,
                f"page {r.page} row {r.row_index}: {_row_label(r, nf) or '(no name)'}: "
                "a row with amounts but no code in a table that prints codes (not the sum of the "
                "rows under it either)",
            )
        )
    if decided:
        extra["unit_rows"] = decided


def _first_key(row: ExtractedRow) -> str | None:
    return next((k for k in ("total", "basic_total") if isinstance(row.values.get(k), Decimal)), None)


def _sums_to(total: Decimal, parts: list) -> bool:
    nums = [p for p in parts if isinstance(p, Decimal)]
    exp = total.as_tuple().exponent
    unit = Decimal(1).scaleb(exp) if isinstance(exp, int) else Decimal("0.01")
    return bool(nums) and abs(sum(nums, Decimal(0)) - total) <= unit * Decimal("0.5") * (len(nums) + 1)


def _row_label(row: ExtractedRow, name_field: str) -> str:
    return str(row.values.get(name_field) or row.values.get("unit_name") or row.values.get("item") or "")


def _first_amount(row: ExtractedRow, tpl: Template) -> Decimal | None:
    for key in ("total", "basic_total"):
        v = row.values.get(key)
        if isinstance(v, Decimal):
            return v
    return None


def _economic_extensions(rows: list[ExtractedRow], tpl: Template) -> None:
    """Extended economic codes (3010201: a breakdown of 款 30102): the printed code is kept, the row
    is an ``extension`` of its 款 when that row is printed, else a detail of the 款."""
    if tpl.content != "economic":
        return
    printed = {str(r.values.get("econ_code") or "") for r in rows}
    for r in rows:
        code = str(r.values.get("econ_code") or "")
        if len(code) == 7:
            r.values["econ_code_printed"] = code
            r.values["econ_code"] = code[:5]
            if code[:5] in printed:
                r.kind = "extension"


def _mark_subtotals(rows: list[ExtractedRow]) -> None:
    """类 (3) and 款 (5) rows with children below them are subtotals, not details."""
    codes = [
        str(r.values.get("function_code") or r.values.get("econ_code") or "") if r.kind == "detail" else ""
        for r in rows
    ]
    for i, code in enumerate(codes):
        if rows[i].kind != "detail" or len(code) not in (3, 5):
            continue
        if any(len(other) > len(code) and other.startswith(code) for other in codes):
            rows[i].kind = "subtotal"


def _unit_rows(rows: list[ExtractedRow], tpl: Template) -> None:
    """Unit (单位) rows between the department total and its items: subtotals, their name carried down
    to the rows under them.  Without a 合计 row, the first unit row is the table's total when it is the
    only one, or when another unit row follows it directly (the department, then its units)."""
    units = [i for i, r in enumerate(rows) if r.kind == "unit"]
    if not units:
        return
    has_total = any(r.kind == "total" for r in rows)
    first = units[0]
    if not has_total and not any(r.kind == "detail" for r in rows[:first]):
        if len(units) == 1 or (first + 1 < len(rows) and rows[first + 1].kind == "unit"):
            rows[first].kind = "total"
    current = None
    for r in rows:
        if r.kind == "unit":
            current = r.values.get("unit_name") or r.values.get("name") or r.values.get("econ_name")
            r.kind = "subtotal"
            continue
        if r.kind == "total":
            current = None
            continue
        if current and not r.values.get("unit_name"):
            r.unit = current


def _total_by_identity(rows: list[ExtractedRow], extra: dict) -> None:
    """No row says 合计: the first row is the table's total when its amount equals the sum of the rows
    below it of the same kind (a department's row over its units' rows)."""
    if any(r.kind == "total" for r in rows):
        return
    data = [r for r in rows if r.kind in ("detail", "subtotal")]
    if len(data) < 3:
        return
    first, rest = data[0], data[1:]
    key = next((k for k in ("total", "basic_total") if isinstance(first.values.get(k), Decimal)), None)
    if key is None or first.values.get("function_code") or first.values.get("econ_code"):
        return
    same = [r for r in rest if r.kind == first.kind and isinstance(r.values.get(key), Decimal)]
    total = sum((r.values[key] for r in same), Decimal(0))
    tol = Decimal("0.005") * (len(same) + 1) * (1 if _decimals(str(first.values[key])) else 100)
    if same and abs(total - first.values[key]) <= tol:
        first.kind = "total"
        for r in same:
            r.kind = "detail" if r.kind == "detail" else r.kind
        extra["total_row"] = (
            f"the first row is the total: {first.values[key]} = the sum of the {len(same)} rows below it"
        )


#: what a spending table's 合计 adds up: 基本支出 (or its parts) and 项目支出, and maybe the other spending columns
CORE_COMPONENTS = ("basic_total", "project_total", "reserve")
EXTRA_COMPONENTS = ("operating_expenditure", "affiliated_subsidy", "superior_remittance")


def _decide_total_components(rows: list[ExtractedRow], fields: set[str], extra: dict) -> None:
    """Whether a table's 合计 includes its 事业单位经营支出 / 对附属单位补助支出 / 上缴上级支出 columns: publishers
    print them both as parts of the total and as a breakdown beside it.  The reading under which the table's
    own identity (合计 = the parts) holds on its rows is taken, and recorded with the count that decided it."""
    extras = [c for c in EXTRA_COMPONENTS if c in fields]
    if "total" not in fields or not extras:
        return
    core = [c for c in CORE_COMPONENTS if c in fields]
    if "basic_total" not in fields:
        core = [c for c in ("personnel", "public") if c in fields] + [c for c in core if c != "basic_total"]
    if not core:
        return
    data = [r for r in rows if r.kind in ("detail", "subtotal", "total") and isinstance(r.values.get("total"), Decimal)]
    if not data:
        return

    def holds(parts: list[str]) -> int:
        return sum(1 for r in data if _sums_to(r.values["total"], [r.values.get(c, Decimal(0)) for c in parts]))

    with_extras, without = holds(core + extras), holds(core)
    chosen = core + extras if with_extras >= without else core
    extra["total_components"] = chosen
    extra["total_identity"] = (
        f"合计 = {' + '.join(chosen)}: holds on {max(with_extras, without)} of {len(data)} rows "
        f"(with {', '.join(extras)}: {with_extras}; without: {without})"
    )


def _one_total(rows: list[ExtractedRow]) -> None:
    """A table whose data is one row (三公): its first row of this year with amounts is the total, the
    others (one per unit) subtotals; last year's and the change rows stay what they are."""
    seen_total = False
    for r in rows:
        if r.kind in ("prior", "change", "continuation"):
            continue
        if not any(isinstance(v, Decimal) for k, v in r.values.items() if ":" not in k):
            continue
        if not seen_total:
            r.kind = "total"
            seen_total = True
        elif r.kind in ("detail", "total", "subtotal"):
            r.kind = "subtotal"


# --------------------------------------------------------------------------- tables printed one row per item


def _is_transposed(field_of: dict[int, str], tpl: Template, body: list[tuple[Piece, list[str]]]) -> bool:
    """Items as rows (“三公”经费 / （一）因公出国（境）… / 公务接待费), funds or totals as columns."""
    item_fields = {f.name for f in tpl.fields if f.role == "amount" and f.name not in ("total", "total_with_meetings")}
    if any(_base(f) in item_fields for f in field_of.values()):
        return False
    labels = _row_labels(body, field_of, tpl)
    hits = {f for f in (_label_field(lb, tpl) for lb in labels) if f}
    return len(hits & item_fields) >= 2


def _row_labels(body: list[tuple[Piece, list[str]]], field_of: dict[int, str], tpl: Template) -> list[str]:
    col = next((j for j, f in field_of.items() if tpl.role(_base(f)) == "text"), None)
    out = []
    for _, raw in body:
        if col is not None and col < len(raw):
            out.append(clean_text(raw[col]))
        else:
            out.append(next((clean_text(c) for c in raw if clean_text(c) and not is_amount(clean_text(c))), ""))
    return out


def _label_field(label: str, tpl: Template) -> str | None:
    if not label:
        return None
    got = map_columns(tpl, [[bare_name(label)]])
    name = got.get(0)
    return name if name and tpl.role(_base(name)) == "amount" else None


def _transposed_rows(
    body: list[tuple[Piece, list[str]]],
    field_of: dict[int, str],
    paths: list[list[str]],
    tpl: Template,
    fiscal_year: int | None,
    problems: list[Problem],
) -> list[ExtractedRow]:
    """One row of the table's fields from a table printed one row per item: each item's amount from the
    column of the type's fund (一般公共预算), else the 合计 column."""
    value_col = None
    for j, p in enumerate(paths):
        cp = canonical_path(p, None, fiscal_year)
        raw_words = [header_text(x) for x in p]
        if tpl.fund and any(vocabulary().funds.get(w) == tpl.fund for w in raw_words) and cp.year == "current":
            value_col = j
            break
    if value_col is None:
        value_col = next((j for j, f in field_of.items() if f in ("total", "total_with_meetings")), None)
    if value_col is None:
        value_col = next((j for j, f in field_of.items() if _is_amount_field(f, tpl)), None)
    labels = _row_labels(body, field_of, tpl)
    values: dict[str, object] = {}
    pages = []
    raws = []
    for (piece, raw), label in zip(body, labels, strict=False):
        fld = _label_field(label, tpl)
        if fld is None or value_col is None or value_col >= len(raw):
            continue
        try:
            amount = parse_amount(clean_text(raw[value_col]))
        except AmountError as exc:
            problems.append(Problem(HARD, piece.page, f"page {piece.page}: {label}: {exc}"))
            continue
        if fld in values:
            continue
        values[fld] = amount
        values.setdefault("item", label)
        pages.append(piece.page)
        raws.append(label)
    if not any(v is not None for k, v in values.items() if k != "item"):
        return []
    values = {k: v for k, v in values.items() if v is not None and k != "item"}
    return [
        ExtractedRow(page=pages[0] if pages else body[0][0].page, row_index=0, values=values, kind="total", raw=raws)
    ]


# --------------------------------------------------------------------------- never lose data silently


def _nonzero_amount(cell: str) -> bool:
    for ln in split_lines(cell):
        t = clean_text(ln)
        try:
            a = parse_amount(t)
        except AmountError:
            continue
        if a is not None and a != 0 and ("." in t or "," in t):
            return True
    return False


def _check_unmapped(
    body: list[tuple[Piece, list[str]]],
    field_of: dict[int, str],
    paths: list[list[str]],
    tpl: Template,
    problems: list[Problem],
    transposed: bool = False,
) -> None:
    """A column printing amounts that maps to no field, or a table printing amounts none of whose
    columns maps to a field of the warehouse: a hard problem naming the page (never an empty table)."""
    if transposed:
        return
    ncols = max((len(r) for _, r in body), default=0)
    loaded = [j for j, f in field_of.items() if _is_amount_field(f, tpl) and loaded_field(tpl, f)]
    for j in range(ncols):
        if j in field_of:
            continue
        pages = sorted({p.page for p, r in body if j < len(r) and _nonzero_amount(r[j])})
        if pages:
            head = "/".join(paths[j]) if j < len(paths) and paths[j] else f"column {j + 1} (no header)"
            problems.append(
                Problem(
                    HARD,
                    pages[0],
                    f"{tpl.name}: column {head!r} prints amounts (page "
                    f"{', '.join(map(str, pages))}) but maps to no field: its amounts would be lost",
                )
            )
    if any(_nonzero_amount(c) for _, r in body for c in r):
        page = body[0][0].page if body else None
        if not loaded:
            problems.append(
                Problem(
                    HARD,
                    page,
                    f"{tpl.name}: the table prints amounts but none of its columns maps "
                    "to a field (header not understood): nothing would be loaded",
                )
            )
            return
        mapped = set(field_of.values())
        for alternatives in tpl.requires:
            if not any(a in mapped for a in alternatives):
                problems.append(
                    Problem(
                        HARD,
                        page,
                        f"{tpl.name}: no column read as {' or '.join(alternatives)} "
                        f"(header {['/'.join(p) for p in paths]}): the table's amounts would be wrong",
                    )
                )
