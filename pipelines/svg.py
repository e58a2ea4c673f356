"""Bar charts as inline SVG, drawn here: the HTML report needs no JavaScript and no network.

Pure functions returning SVG text. Every bar carries ``data-series``, ``data-category`` and ``data-value``
(the exact amount it draws) and a ``<title>`` tooltip, so a reader can hover for the figure and a test can
compare the drawing with SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from html import escape

#: 20 distinguishable colours (Tableau 20 order: strong colour, then its light tint)
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
FONT = "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif"


@dataclass
class Series:
    name: str
    values: list[Decimal | None]  # one per category; None = no value
    color: str


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5, 5 × 10^n) giving about ``ticks`` intervals over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def fmt_amount(v: Decimal | float | None, places: int = 2) -> str:
    if v is None:
        return "–"
    return f"{Decimal(v):,.{places}f}"


def _axis_label(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:,.1f}"


def bar_chart(
    categories: list[str],
    series: list[Series],
    *,
    title: str,
    unit: str = "万元",
    stacked: bool = True,
    width: int = 760,
    height: int = 320,
    chart_id: str = "",
) -> str:
    """Vertical bars per category: stacked (parts of a whole) or grouped side by side. Negative values are
    drawn below the zero line. The legend lists the series in order."""
    left, right, top, bottom = 72, 16, 36, 36
    legend_rows = math.ceil(len(series) / 3)
    legend_h = 18 * legend_rows + 8
    plot_w, plot_h = width - left - right, height - top - bottom
    total_h = height + legend_h

    def f(v):
        return float(v) if v is not None else 0.0

    if stacked:
        highs = [sum(max(f(s.values[i]), 0) for s in series) for i in range(len(categories))]
        lows = [sum(min(f(s.values[i]), 0) for s in series) for i in range(len(categories))]
    else:
        highs = [max([max(f(s.values[i]), 0) for s in series] or [0]) for i in range(len(categories))]
        lows = [min([min(f(s.values[i]), 0) for s in series] or [0]) for i in range(len(categories))]
    hi, lo = max(highs + [0.0]), min(lows + [0.0])
    step = nice_step(hi - lo)
    hi = math.ceil(hi / step) * step if hi > 0 else 0.0
    lo = math.floor(lo / step) * step if lo < 0 else 0.0
    if hi == lo:
        hi = step

    def y(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {total_h}" width="{width}" height="{total_h}" role="img" '
        f'aria-label="{escape(title)}" font-family="{FONT}" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="{width - right}" y="20" text-anchor="end" fill="#555">{escape(unit)}</text>',
    ]
    tick = lo
    while tick <= hi + step / 2:
        ty = y(tick)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{"#333" if tick == 0 else "#ddd"}" stroke-width="1"/>'
        )
        out.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#555">{_axis_label(tick)}</text>')
        tick += step
    n = max(len(categories), 1)
    slot = plot_w / n
    bar_w = min(slot * 0.6, 90.0)
    for i, cat in enumerate(categories):
        cx = left + slot * i + slot / 2
        out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{escape(cat)}</text>')
        up = down = 0.0
        for j, s in enumerate(series):
            v = s.values[i]
            if v is None or (stacked and v == 0):
                continue
            fv = float(v)
            if stacked:
                base = up if fv >= 0 else down
                y0, y1 = (y(base + fv), y(base)) if fv >= 0 else (y(base), y(base + fv))
                x0, w = cx - bar_w / 2, bar_w
                if fv >= 0:
                    up += fv
                else:
                    down += fv
            else:
                w = bar_w / max(len(series), 1)
                x0 = cx - bar_w / 2 + j * w
                y0, y1 = (y(fv), y(0)) if fv >= 0 else (y(0), y(fv))
            out.append(
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{max(y1 - y0, 0.5):.1f}" '
                f'fill="{s.color}" data-series="{escape(s.name)}" data-category="{escape(cat)}" '
                f'data-value="{v}"><title>{escape(cat)} · {escape(s.name)}: {fmt_amount(v)} {escape(unit)}'
                f"</title></rect>"
            )
    ly = height + 4
    for j, s in enumerate(series):
        lx = left + (j % 3) * (plot_w / 3)
        row_y = ly + 18 * (j // 3)
        out.append(f'<rect x="{lx:.1f}" y="{row_y:.1f}" width="12" height="12" fill="{s.color}"/>')
        out.append(f'<text x="{lx + 16:.1f}" y="{row_y + 10:.1f}">{escape(s.name)}</text>')
    out.append("</svg>")
    return "\n".join(out)
