"""Department (部门/单位) name normalization and stable keys.

``normalize_department_name("洛阳市伊川县 政务服务中心(本级)", "伊川县")`` →
``"政务服务中心（本级）"``: whitespace removed, full-width letters/digits made half-width,
brackets made full-width (the form used in Chinese names), a leading region name dropped
when the region is given. ``中共`` stays (``中共江苏省委办公厅`` is the name; a region
name in the middle is never cut). A trailing ``（本级）`` is kept by default: it denotes
the department's own unit as opposed to the consolidated department, so dropping it
would merge two different budgets; pass ``strip_own_unit=True`` to drop it.
"""

from __future__ import annotations

import re
import unicodedata

from .regions import Region, find_region_in_text, region_by_code, region_name_variants

__all__ = ["normalize_department_name", "department_key", "region_prefixes"]

_WS = re.compile(r"\s+")
_LEADING_UNIT_CODE = re.compile(r"^\d{3,9}(?=[^\d])")  # "106伊川县政务服务中心", "106001…"
_OWN_UNIT = re.compile(r"[（(]本级[)）]$")
_MIN_REMAINING = 2


def _clean(name: str) -> str:
    s = unicodedata.normalize("NFKC", name)
    s = _WS.sub("", s)
    s = s.replace("(", "（").replace(")", "）").replace("[", "【").replace("]", "】")
    s = s.replace("〔", "【").replace("〕", "】")
    return s


def region_prefixes(region: str | Region | None) -> list[str]:
    """Prefixes that stand for ``region`` at the start of a department name, longest
    first. ``region`` may be a Region, a 6-digit code or a printed name
    (``"伊川县"``, ``"洛阳市伊川县"``, ``"上海市普陀区"``)."""
    if region is None or region == "":
        return []
    r: Region | None
    if isinstance(region, Region):
        r = region
        given = []
    else:
        given = [_clean(str(region))]
        r = region_by_code(given[0]) if given[0].isdigit() else find_region_in_text(given[0])
        if given[0].isdigit():
            given = []
    names = set(given)
    if r is not None:
        names.update(region_name_variants(r))
    return sorted((n for n in names if n), key=len, reverse=True)


def normalize_department_name(
    name: str | None,
    region_name: str | Region | None = None,
    *,
    strip_own_unit: bool = False,
) -> str:
    """Canonical department name (see module docstring). Returns ``""`` for empty input."""
    if not name:
        return ""
    s = _clean(name)
    s = _LEADING_UNIT_CODE.sub("", s)
    for prefix in region_prefixes(region_name):
        if s.startswith(prefix) and len(s) - len(prefix) >= _MIN_REMAINING:
            s = s[len(prefix) :]
            break
    if strip_own_unit:
        s2 = _OWN_UNIT.sub("", s)
        if s2.endswith("本级") and len(s2) - 2 >= _MIN_REMAINING:
            s2 = s2[:-2]
        if len(s2) >= _MIN_REMAINING:
            s = s2
    return s


def department_key(
    region_code: str | int, name: str, region_name: str | Region | None = None, *, strip_own_unit: bool = False
) -> str:
    """Stable key ``"<6-digit region code>:<normalized name>"``, e.g.
    ``department_key("410329", "伊川县政务服务中心")`` → ``"410329:政务服务中心"``.
    When ``region_name`` is not given, the region's own names (from its code) are
    used to strip the prefix."""
    code = unicodedata.normalize("NFKC", str(region_code)).strip()
    if code.isdigit() and len(code) in (2, 4):
        code = code.ljust(6, "0")
    region: str | Region | None = region_name
    if region is None:
        region = region_by_code(code)
    return f"{code}:{normalize_department_name(name, region, strip_own_unit=strip_own_unit)}"
