"""Where things stand on a page: text lines with their y position, table titles among them, and the
pairing of titles with camelot's tables top-down.

江苏's single PDFs (说明 and tables in one file) print tables one after the other: a title may stand
mid-page under the end of the previous table, a table runs over the page break (its continuation has no
title), a title may wrap ("…培训费支出预算" / "表") or stand alone at the foot of a page with its table on
the next.  Reading titles from the first lines of a page cannot follow that; their y position can.

Coordinates are PDF points, origin bottom-left (pdfium's char boxes and camelot's ``_bbox`` / ``rows``).
Pure functions except :func:`page_lines`, which reads the char boxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from assets.extract.cells import clean_text, header_text, to_halfwidth
from assets.extract.grid import Piece, row_has_amount
from assets.extract.templates import Template, is_title_line, match_title


@dataclass(frozen=True)
class Line:
    """A run of text on one printed line (a line split where a wide gap separates its parts)."""

    text: str
    top: float
    bottom: float
    x0: float
    x1: float

    @property
    def height(self) -> float:
        return self.top - self.bottom


@dataclass(frozen=True)
class Title:
    """A table title with the template it names (``None``: a table no template knows)."""

    text: str
    tpl: Template | None
    top: float
    bottom: float


class Char(NamedTuple):
    """A printed char and its tight glyph box, in the coordinates of the page as displayed."""

    ch: str
    left: float
    bottom: float
    right: float
    top: float


#: the text of a merged cell that runs past the foot of its page and prints nothing there (an office suite
#: prints it in the part on the next page): resolved by :func:`assets.extract.grid.resolve_open_cells`
OPEN_BELOW = "\u2193"


def page_chars(path: str | Path, numbers: list[int] | None = None) -> dict[int, list[Char]]:
    """The printed chars of some pages (all when ``numbers`` is None) with their tight glyph boxes
    (pdfium), in the coordinates of the page as displayed; whitespace and text outside the page box
    (a spreadsheet export may leave the next sheets' tables below the page, clipped) are left out."""
    import pypdfium2 as pdfium

    out: dict[int, list[Char]] = {}
    pdf = pdfium.PdfDocument(str(path))
    try:
        wanted = range(1, len(pdf) + 1) if numbers is None else numbers
        for n in wanted:
            page = pdf[n - 1]
            width, height = page.get_size()  # as displayed (rotation applied)
            turn = page.get_rotation() % 360
            textpage = page.get_textpage()
            try:
                count = textpage.count_chars()
                text = textpage.get_text_range(0, count) if count else ""
                chars = []
                for i, ch in enumerate(text[:count]):
                    if ch.isspace():
                        continue
                    left, bottom, right, top = _displayed(textpage.get_charbox(i), turn, width, height)
                    if top >= bottom and 0 <= (top + bottom) / 2 <= height and 0 <= (left + right) / 2 <= width:
                        chars.append(Char(ch, left, bottom, right, top))
                out[n] = chars
            finally:
                textpage.close()
                page.close()
    finally:
        pdf.close()
    return out


def page_lines(
    path: str | Path, numbers: list[int] | None = None, chars: dict[int, list[Char]] | None = None
) -> dict[int, list[Line]]:
    """Printed lines of some pages (all when ``numbers`` is None), top-down, from pdfium's char boxes."""
    chars = chars if chars is not None else page_chars(path, numbers)
    return {n: group_lines(cs) for n, cs in chars.items()}


def refill_cells(piece: Piece, chars: list[Char]) -> Piece:
    """A ruled table's cells filled again from the page's glyph boxes.

    camelot places a text line by the middle of its font box; fonts whose boxes are far taller than
    their glyphs (an amount's box reaching into the row below) land in the wrong row, and a number
    drawn as separate glyph runs ("5,293" + ".75", one glyph per word) comes back split over lines.
    Here each glyph goes to the cell holding the centre of its (tight) box; the cells of a merged cell
    (no rule between them) are one region, read line by line, and every cell of the region holds its
    text, as camelot's ``copy_text=['h', 'v']`` fills them."""
    if not piece.flavor.startswith("lattice") or not piece.rows_y or not piece.cols_x or piece.spans is None:
        return piece
    rows, cols = piece.rows_y, piece.cols_x
    if len(piece.spans) != len(rows) or any(len(r) != len(cols) for r in piece.spans):
        return piece
    root = {(i, j): (i, j) for i in range(len(rows)) for j in range(len(cols))}

    def find(c):
        while root[c] != c:
            root[c] = root[root[c]]
            c = root[c]
        return c

    for i, row in enumerate(piece.spans):
        for j, (from_left, from_above) in enumerate(row):
            if from_left and j > 0:
                root[find((i, j))] = find((i, j - 1))
            if from_above and i > 0:
                root[find((i, j))] = find((i - 1, j))
    regions: dict[tuple[int, int], list[Char]] = {}
    top, bottom = rows[0][0], rows[-1][1]
    left, right = cols[0][0], cols[-1][1]
    for c in map(Char._make, chars):
        cx, cy = (c.left + c.right) / 2, (c.bottom + c.top) / 2
        if not (bottom <= cy <= top and left <= cx <= right):
            continue
        i = next((k for k, (t, b) in enumerate(rows) if b <= cy <= t), None)
        j = next((k for k, (a, z) in enumerate(cols) if a <= cx <= z), None)
        if i is not None and j is not None:
            regions.setdefault(find((i, j)), []).append(c)
    text = {r: _cell_text(cs) for r, cs in regions.items()}
    last = len(rows) - 1
    for j in range(len(cols)):
        r = find((last, j))
        # a merged cell cut by the page's foot, its text printed in the part on the next page
        if not text.get(r) and any(find((i, j)) == r for i in range(last)):
            text[r] = OPEN_BELOW
    cells = [[text.get(find((i, j)), "") for j in range(len(cols))] for i in range(len(rows))]
    # columns merging data cells down their group (a header's merged cells do not count)
    data = [i for i, row in enumerate(cells) if row_has_amount(row)]
    vmerged = frozenset(
        j for i in data for j, (_, from_above) in enumerate(piece.spans[i]) if from_above and i - 1 in data
    )
    return replace(piece, cells=cells, vmerged=vmerged)


def _cell_text(chars: list[Char]) -> str:
    """A cell's glyphs as text: lines top-down joined by a newline, parts of one line apart by a space."""
    if not chars:
        return ""
    out: list[list[Line]] = []
    for ln in sorted(group_lines(chars), key=lambda ln: (-ln.top, ln.x0)):
        if out and _overlap((out[-1][0].bottom, out[-1][0].top), (ln.bottom, ln.top)):
            out[-1].append(ln)
        else:
            out.append([ln])
    return "\n".join(" ".join(p.text for p in sorted(parts, key=lambda p: p.x0)) for parts in out)


def _displayed(
    box: tuple[float, float, float, float], turn: int, width: float, height: float
) -> tuple[float, float, float, float]:
    """A char box of the unrotated page in the coordinates of the page as displayed (``/Rotate``
    applied, as camelot reports its tables): a landscape table page is often a portrait page turned 90°."""
    left, bottom, right, top = box
    if turn == 0:
        return box
    if turn == 90:  # clockwise: (x, y) → (y, h - x), h = the displayed height = the unrotated width
        return bottom, height - right, top, height - left
    if turn == 180:
        return width - right, height - top, width - left, height - bottom
    if turn == 270:  # (x, y) → (w - y, x)
        return width - top, left, width - bottom, right
    return box


def group_lines(chars: list[Char] | list[tuple[str, float, float, float, float]]) -> list[Line]:
    """Chars ``(ch, left, bottom, right, top)`` → lines top-down, each split at wide horizontal gaps."""
    rows: list[list[Char]] = []
    extent: list[list[float]] = []  # [bottom, top] of each row
    for c in sorted(map(Char._make, chars), key=lambda c: -(c.bottom + c.top) / 2):
        # the char overlaps the line so far by half the smaller height: flat glyphs ("一", "、") and
        # quotes (“三公”) have boxes far thinner than the line, and off its centre
        k = next(
            (k for k in range(len(rows) - 1, max(len(rows) - 4, -1), -1) if _overlap(extent[k], (c.bottom, c.top))),
            None,
        )
        if k is not None:
            rows[k].append(c)
            extent[k][0] = min(extent[k][0], c.bottom)
            extent[k][1] = max(extent[k][1], c.top)
        else:
            rows.append([c])
            extent.append([c.bottom, c.top])
    lines: list[Line] = []
    # a row started by a quote mark and the row of its line's other chars are one line
    merged: list[list] = []
    merged_extent: list[list[float]] = []
    for row, ext in sorted(zip(rows, extent, strict=False), key=lambda re_: -re_[1][1]):
        if merged and _overlap(merged_extent[-1], (ext[0], ext[1])):
            merged[-1].extend(row)
            merged_extent[-1] = [min(merged_extent[-1][0], ext[0]), max(merged_extent[-1][1], ext[1])]
        else:
            merged.append(list(row))
            merged_extent.append(list(ext))
    rows = merged
    for row in rows:
        row.sort(key=lambda c: c.left)
        size = max(c.top - c.bottom for c in row)
        run = [row[0]]
        for c in row[1:]:
            if c.left - run[-1].right > 1.5 * size:
                lines.append(_line(run))
                run = []
            run.append(c)
        lines.append(_line(run))
    return lines


def _overlap(a: list[float] | tuple[float, float], b: tuple[float, float]) -> bool:
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return shared >= 0.5 * max(min(a[1] - a[0], b[1] - b[0]), 0.01)


def _line(run: list[Char]) -> Line:
    return Line(
        "".join(c.ch for c in run),
        max(c.top for c in run),
        min(c.bottom for c in run),
        min(c.left for c in run),
        max(c.right for c in run),
    )


#: titles of published tables no template knows (recorded as unrecognised, with their page)
OTHER_TABLE_TITLE = re.compile(r"(预算|采购|经费|收支|支出|收入).*表(\(.*\))?$")
#: "第二部分 2018年度部门预算表": a part heading, not a table
_PART_HEADING = re.compile(r"^第[一二三四五六七八九十]+部分")
#: sentence punctuation: a line of the 说明 that quotes a table's name, not a title
_SENTENCE = re.compile(r"[《》。，；;,!?？！]")


def title_of(text: str) -> tuple[str, Template | None] | None:
    """``(title as printed, template or None)`` when ``text`` is a table title, else None."""
    line = clean_text(text)
    key = header_text(line)
    if not is_title_line(line) or _PART_HEADING.match(key) or _SENTENCE.search(to_halfwidth(line)):
        return None
    tpl = match_title(line)
    if tpl is None and not OTHER_TABLE_TITLE.search(key):
        return None
    return line, tpl


def find_titles(lines: list[Line]) -> list[Title]:
    """The table titles among a page's lines, top-down.  A title wrapped over two lines
    ("…培训费支出预算" / "表", "…培训费" / "支出预算表") is joined: a line that is no title, then a short
    line right under it that makes one."""
    titles: list[Title] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        found = title_of(line.text)
        if found is None and i + 1 < len(lines):
            nxt = lines[i + 1]
            if (
                len(clean_text(nxt.text)) <= 8
                and line.bottom - nxt.top < 1.5 * line.height
                and not clean_text(line.text).endswith("表")
            ):
                joined = title_of(line.text + nxt.text)
                if joined is not None:
                    titles.append(Title(joined[0], joined[1], line.top, nxt.bottom))
                    i += 2
                    continue
        if found is not None:
            titles.append(Title(found[0], found[1], line.top, line.bottom))
        i += 1
    return titles


_TOL = 2.0  # points


def inside(title: Title, piece: Piece) -> bool:
    """The title's line lies within the piece's box (a cell's text, or a text-alignment parse that
    kept the lines above its table)."""
    return piece.bbox is not None and piece.bbox[1] - _TOL <= (title.top + title.bottom) / 2 <= piece.bbox[3] + _TOL


def split_at_titles(piece: Piece, titles: list[Title]) -> list[Piece]:
    """A text-alignment parse (hybrid / network) spanning titles, cut into one piece per titled part:
    rows above a title, rows below it; the title's own rows are dropped."""
    if piece.rows_y is None or not titles:
        return [piece]
    cuts = sorted((t for t in titles if inside(t, piece)), key=lambda t: -t.top)
    if not cuts:
        return [piece]
    parts: list[list[int]] = [[]]
    for i, (top, bottom) in enumerate(piece.rows_y):
        mid = (top + bottom) / 2
        k = sum(1 for t in cuts if mid < t.bottom)  # titles above this row
        if any(t.bottom - _TOL <= mid <= t.top + _TOL for t in cuts):
            continue  # the title itself
        while len(parts) <= k:
            parts.append([])
        parts[k].append(i)
    out = []
    for idx in parts:
        if not idx:
            continue
        out.append(
            replace(
                piece,
                cells=[piece.cells[i] for i in idx],
                rows_y=[piece.rows_y[i] for i in idx],
                bbox=(piece.bbox[0], piece.rows_y[idx[-1]][1], piece.bbox[2], piece.rows_y[idx[0]][0]),
            )
        )
    return out


def overlap_share(a: Piece, b: Piece) -> float:
    """The share of the smaller box covered by the other (0 without boxes)."""
    if a.bbox is None or b.bbox is None or a.page != b.page:
        return 0.0
    w = min(a.bbox[2], b.bbox[2]) - max(a.bbox[0], b.bbox[0])
    h = min(a.bbox[3], b.bbox[3]) - max(a.bbox[1], b.bbox[1])
    if w <= 0 or h <= 0:
        return 0.0
    area = min((p.bbox[2] - p.bbox[0]) * (p.bbox[3] - p.bbox[1]) for p in (a, b))
    return w * h / area if area > 0 else 0.0


def page_events(pieces: list[Piece], titles: list[Title]) -> list[Title | Piece]:
    """Titles and tables of one page top-down.  A title inside a ruled table's box is cell text and
    dropped; a text-alignment table spanning titles is cut at them.  Pieces without a box (no position
    known) come after the titles, in camelot's order."""
    ruled = [p for p in pieces if p.bbox is not None and p.rows_y is not None and p.flavor.startswith("lattice")]
    kept = []
    for t in titles:
        frame = next((p for p in ruled if inside(t, p)), None)
        if frame is None:
            kept.append(t)
        elif _heads(t, frame):
            # a table frame that starts above its title (the title printed in the frame's first row): the
            # title is the table's, placed just above it; its row is page furniture, dropped when built
            kept.append(replace(t, top=frame.bbox[3] + _TOL, bottom=frame.bbox[3] + _TOL / 2))
        # else: cell text that reads like a title
    titles = kept
    cut: list[Piece] = []
    for p in pieces:
        cut.extend(split_at_titles(p, titles) if not p.flavor.startswith("lattice") else [p])
    placed = [(t.top, 0, t) for t in titles] + [(p.bbox[3], 1, p) for p in cut if p.bbox is not None]
    placed.sort(key=lambda e: (-e[0], e[1]))
    return [e[2] for e in placed] + [p for p in cut if p.bbox is None]


def _heads(title: Title, piece: Piece) -> bool:
    """The title stands in the piece's top rows, above every row of numbers: the frame's own title row."""
    if not piece.rows_y:
        return False
    mid = (title.top + title.bottom) / 2
    row = next((i for i, (top, bottom) in enumerate(piece.rows_y) if bottom - _TOL <= mid <= top + _TOL), None)
    if row is None or row > 2:
        return False
    key = header_text(title.text)
    cells = "".join(header_text(c) for c in piece.cells[row]) if row < len(piece.cells) else ""
    return bool(key) and key in cells and not any(row_has_amount(r) for r in piece.cells[: row + 1])


def align_columns(piece: Piece, ref: Piece) -> Piece | None:
    """A table's continuation on the next page read with other columns than its first part (a column
    empty on one page has no rule there, a merged cell spans two): its cells put under ``ref``'s
    columns by x position; cells landing in one column are joined top to bottom.  None when a column
    of ``piece`` lies under no column of ``ref`` (another table)."""
    if piece.cols_x is None or ref.cols_x is None:
        return None
    target: list[list[int]] = []
    for left, right in piece.cols_x:
        # the columns of ref this one covers (a merged cell spans several), else the one under its middle
        covered = [i for i, (a, b) in enumerate(ref.cols_x) if left - _TOL <= (a + b) / 2 <= right + _TOL]
        if not covered:
            mid = (left + right) / 2
            covered = [i for i, (a, b) in enumerate(ref.cols_x) if a - _TOL <= mid <= b + _TOL][:1]
        if not covered:
            return None
        target.append(covered)
    cells = []
    for row in piece.cells:
        out = [""] * len(ref.cols_x)
        for j, cell in enumerate(row):
            for k in target[j]:  # a merged cell's text in each column it spans (camelot's copy_text)
                if cell and cell not in out[k].split("\n"):
                    out[k] = f"{out[k]}\n{cell}" if out[k] else cell
        cells.append(out)
    return replace(piece, cells=cells, cols_x=list(ref.cols_x))
