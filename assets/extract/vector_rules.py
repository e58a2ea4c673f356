"""Table rules drawn as paths, for camelot's render-free ``vector`` engine.

camelot 2.0's vector engine reads a page's ruled lines from its vector graphics: stroked lines, stroked
rectangles (``re``) and thin filled rectangles.  Many office-suite and report-server exports (iText,
spreadsheet → PDF) draw each rule as a thin *filled polygon* (``m l l l h f``) or a stroked polyline: the
layout reports those as generic curves (``LTCurve``), which the engine skips, so it finds no table and the
page falls back to the raster engines (ten times slower).  :func:`install` teaches the engine those rules
too: an axis-aligned thin filled path is a rule along its long side; a stroked path contributes its
axis-aligned straight segments.  Curves that are neither (a logo, a chart) add nothing.

Pure geometry in :func:`path_rules`; :func:`install` wraps camelot's private
``image_processing._ruled_lines_from_layout`` (pinned camelot-py 2.0.0) and leaves camelot untouched when
that function is not there, so a camelot upgrade degrades to the slower fallbacks, never to wrong tables.
"""

from __future__ import annotations

from collections.abc import Iterable

#: a filled path at most this thick (PDF points) is a rule (camelot's own limit for thin filled rectangles)
THIN = 1.5
#: a stroked segment is axis-aligned when its ends differ by at most this much across its direction
ALIGNED = 0.5

Segment = tuple[float, float, float, float]


def path_rules(points: list[tuple[float, float]], *, filled: bool, stroked: bool) -> list[Segment]:
    """The ruled lines a drawn path contributes, as ``(x0, y0, x1, y1)`` segments."""
    if len(points) < 2:
        return []
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    width, height = x1 - x0, y1 - y0
    if filled and min(width, height) <= THIN < max(width, height):
        if width >= height:
            mid = (y0 + y1) / 2
            return [(x0, mid, x1, mid)]
        mid = (x0 + x1) / 2
        return [(mid, y0, mid, y1)]
    if not stroked:
        return []
    out: list[Segment] = []
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        long_enough = abs(ax - bx) > THIN or abs(ay - by) > THIN
        if long_enough and (abs(ax - bx) <= ALIGNED or abs(ay - by) <= ALIGNED):
            out.append((ax, ay, bx, by))
    return out


def _curve_rules(objects: Iterable, curve_type: type) -> list[Segment]:
    out: list[Segment] = []
    for obj in objects:
        if type(obj) is curve_type:  # LTLine and LTRect (subclasses) are camelot's own business
            out.extend(
                path_rules(
                    list(obj.pts), filled=bool(getattr(obj, "fill", False)), stroked=bool(getattr(obj, "stroke", False))
                )
            )
    return out


_INSTALLED = False


def install() -> bool:
    """Extend camelot's vector line finder with path-drawn rules (idempotent); False when not possible."""
    global _INSTALLED
    if _INSTALLED:
        return True
    try:
        import camelot.image_processing as ip
        from playa.miner import LTCurve
    except ImportError:  # pragma: no cover - both are dependencies
        return False
    original = getattr(ip, "_ruled_lines_from_layout", None)
    walk = getattr(ip, "_walk_layout_objects", None)
    if original is None or walk is None:
        return False

    def ruled_lines_with_paths(layout):
        return list(original(layout)) + _curve_rules(walk(layout), LTCurve)

    ip._ruled_lines_from_layout = ruled_lines_with_paths
    _INSTALLED = True
    return True
