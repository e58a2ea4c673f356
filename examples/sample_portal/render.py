"""Render a :class:`~.model.Document` to a PDF that looks like the published ones.

``render_pdf(doc, path) -> dict[table_key, list[page]]`` writes the PDF and
returns the 1-based pages each table occupies (for the ground truth).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .model import Document
from .narrative import narrative_sections
from .tables import TableData, build_tables

FONT = "WQY"
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
_registered = False


def register_fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))
        _registered = True


def _style(size: float, align=TA_LEFT, leading: float | None = None, indent: float = 0) -> ParagraphStyle:
    return ParagraphStyle(
        f"s{size}{align}{indent}",
        fontName=FONT,
        fontSize=size,
        leading=leading or size * 1.35,
        alignment=align,
        wordWrap="CJK",
        firstLineIndent=indent,
    )


class _Marker(Flowable):
    """Zero-size flowable recording the page it lands on."""

    def __init__(self, rec: dict, key: str):
        super().__init__()
        self.rec, self.key = rec, key

    def wrap(self, aw, ah):
        return 0, 0

    def draw(self):
        self.rec.setdefault(self.key, []).append(self.canv.getPageNumber())


def _footer(canv, doc):
    canv.saveState()
    canv.setFont(FONT, 9)
    w, _h = canv._pagesize
    canv.drawCentredString(w / 2, 10 * mm, f"- {canv.getPageNumber()} -")
    canv.restoreState()


def _orientation(doc: Document, t: TableData) -> str:
    if "portrait" in doc.variants:
        return "portrait"
    if "landscape" in doc.variants:
        return "landscape"
    return "landscape" if t.wide else "portrait"


def _grid(doc: Document, t: TableData, avail: float) -> Table:
    sw = sum(t.weights)
    widths = [avail * w / sw for w in t.weights]
    # font size: the widest amount must fit its column
    fs = 8.0
    for r in t.body:
        for c in t.right_cols:
            if c < len(r) and r[c]:
                need = len(r[c]) * 0.56 + 0.8
                fs = min(fs, widths[c] / need)
    fs = max(5.0, round(fs * 2) / 2)
    hstyle = _style(fs, TA_CENTER)
    lstyle = _style(fs, TA_LEFT)
    data: list[list] = []
    for row in t.header:
        data.append([Paragraph(x, hstyle) if x else "" for x in row])
    nh = len(t.header)
    for row in t.body:
        cells: list = []
        for c, x in enumerate(row):
            if c in t.left_cols and x:
                cells.append(Paragraph(x, lstyle))
            elif x and c not in t.right_cols and stringWidth(x, FONT, fs) > widths[c] - 4:
                cells.append(Paragraph(x, hstyle))  # too wide for its cell: wrap it, never overprint a rule
            else:
                cells.append(x)
        data.append(cells)
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, fs),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, nh - 1), "CENTER"),
        ("ALIGN", (0, nh), (-1, -1), "CENTER"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
    for c in t.right_cols:
        style.append(("ALIGN", (c, nh), (c, -1), "RIGHT"))
    for c0, r0, c1, r1 in t.header_spans:
        style.append(("SPAN", (c0, r0), (c1, r1)))
    for c0, r0, c1, r1 in t.body_spans:
        style.append(("SPAN", (c0, r0 + nh), (c1, r1 + nh)))
    repeat = nh if "multipage_no_header" not in doc.variants else 0
    tbl = Table(data, colWidths=widths, repeatRows=repeat, style=TableStyle(style))
    return tbl


def _story(doc: Document, tables: list[TableData], rec: dict) -> list:
    st: list = []
    title = _style(22, TA_CENTER, 32)
    st += [
        Spacer(1, 60 * mm),
        Paragraph(doc.title, title),
        Spacer(1, 80 * mm),
        Paragraph(f"{doc.published[:4] or doc.fiscal_year}年{int(doc.published[5:7] or 3)}月", _style(14, TA_CENTER)),
    ]
    st.append(PageBreak())
    styles = {
        "title": _style(16, TA_CENTER, 24),
        "h1": _style(14, TA_CENTER, 22),
        "h2": _style(11.5, TA_LEFT, 18),
        "p": _style(10.5, TA_LEFT, 17, indent=21),
    }
    for kind, text in narrative_sections(doc, tables):
        if kind == "pagebreak":
            st.append(PageBreak())
            continue
        st.append(Paragraph(text, styles[kind]))
        if kind != "p":
            st.append(Spacer(1, 2 * mm))
    cur = "portrait"
    for t in tables:
        orient = _orientation(doc, t)
        if orient != cur:
            st.append(NextPageTemplate(orient))
            cur = orient
        st.append(PageBreak())
        avail = (landscape(A4)[0] if orient == "landscape" else A4[0]) - 30 * mm
        st.append(_Marker(rec, t.key))
        st.append(Paragraph(t.title, _style(15, TA_CENTER, 22)))
        st.append(Spacer(1, 2 * mm))
        meta = Table(
            [[Paragraph(f"部门名称：{doc.department}", _style(9)), Paragraph(f"单位：{t.unit}", _style(9, 2))]],
            colWidths=[avail * 0.7, avail * 0.3],
            style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]),
        )
        st.append(meta)
        st.append(Spacer(1, 1 * mm))
        st.append(_grid(doc, t, avail))
        for n in t.notes:
            st.append(Spacer(1, 2 * mm))
            st.append(Paragraph(n, _style(8.5, TA_LEFT, 12)))
        st.append(_Marker(rec, t.key))
    return st


def render_pdf(doc: Document, path: str | os.PathLike, tables: list[TableData] | None = None) -> dict[str, list[int]]:
    """Write ``doc`` as a PDF; return {table_key: [pages]}."""
    register_fonts()
    tables = tables if tables is not None else build_tables(doc)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rec: dict[str, list[int]] = {}
    target = path if "scanned" not in doc.variants else path.with_suffix(".text.pdf")
    m = 15 * mm
    pw, ph = A4
    lw, lh = landscape(A4)
    bd = BaseDocTemplate(
        str(target),
        pagesize=A4,
        leftMargin=m,
        rightMargin=m,
        topMargin=m,
        bottomMargin=m + 4 * mm,
        title=doc.title,
        author="",
        subject="",
        creator="",
        producer="",
        invariant=1,
        pageCompression=1,
    )
    bd.addPageTemplates(
        [
            PageTemplate(
                "portrait", [Frame(m, m + 4 * mm, pw - 2 * m, ph - 2 * m - 4 * mm, id="p")], onPage=_footer, pagesize=A4
            ),
            PageTemplate(
                "landscape",
                [Frame(m, m + 4 * mm, lw - 2 * m, lh - 2 * m - 4 * mm, id="l")],
                onPage=_footer,
                pagesize=landscape(A4),
            ),
        ]
    )
    bd.build(_story(doc, tables, rec))
    if "scanned" in doc.variants:
        _rasterise(target, path)
        target.unlink()
    if "cid_font" in doc.variants:
        _drop_tounicode(path)
    return {k: list(range(min(v), max(v) + 1)) for k, v in rec.items()}


def _drop_tounicode(path: Path) -> None:
    """Hide the fonts' /ToUnicode maps (same-length key rename, so the xref stays valid).

    The embedded subsets map CJK glyphs to codes 1–31 and 128–255 (and whole
    later subsets to 0–255), so without the map extractors print ``(cid:N)`` or
    junk Latin letters for the Chinese text, while ASCII digits of the first
    subset still extract.
    """
    data = path.read_bytes()
    path.write_bytes(data.replace(b"/ToUnicode ", b"/ToUnicodX "))


def _rasterise(src: Path, dst: Path, dpi: int = 80) -> None:
    """An image-only copy of ``src``: every page a grey PNG, no text layer."""
    from PIL import Image

    tmp = Path(tempfile.mkdtemp(prefix="scan-"))
    try:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(src), str(tmp / "p")], check=True)
        c = pdfcanvas.Canvas(str(dst), invariant=1, pageCompression=1)
        for png in sorted(tmp.glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1])):
            with Image.open(png) as im:
                im.load()
                w, h = im.size
                pw, ph = w * 72 / dpi, h * 72 / dpi
                c.setPageSize((pw, ph))
                # an ImageReader, not the temp path: the XObject name hashes its argument
                c.drawImage(ImageReader(im), 0, 0, pw, ph)
            c.showPage()
        c.save()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
