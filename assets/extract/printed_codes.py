"""Classification codes in every printed form, and rows printed without codes.

Pure functions.  A row's code may be printed

* whole in a code column (``2010306``), in brackets (``[201]``, ``【30101】``), or joined to its name in
  either column (``2120803-城市建设支出``, ``[2014001]行政运行``);
* split over 类 | 款 | 项 columns, with the 类 (or 款) cell printed once for its group, or only the row's
  own level (``201`` / ``06`` / ``01``): the parents are filled down from the rows above;
* as an extended economic code (``3010201``: a breakdown of 款 30102, kept as printed);
* not at all: the names are resolved through the year's catalog, top-down in the printed tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assets.extract.cells import clean_text, to_halfwidth
from assets.normalize.codes import load_econ_catalog, load_function_catalog, normalize_name

#: a code in front of a name: "[201]", "【30101】", "2120803-", "201 " (then a name)
_LEADING_CODE = re.compile(r"^[\[【(（]?\s*(\d{3,9})\s*[\]】)）]?\s*[-－—–:：、.．]?\s*(.*)$", re.S)
#: function codes: 类 2xx (3 digits), 款 (5), 项 (7); economic: 3xx / 5xx and their 款 and extensions
_FUNCTION = re.compile(r"^2\d{2}(\d{2}){0,2}$")
_ECONOMIC = re.compile(r"^[35]\d{2}(\d{2}){0,2}$")


def code_pattern(content: str) -> re.Pattern:
    return _ECONOMIC if content == "economic" else _FUNCTION


def split_code_name(text: str, content: str) -> tuple[str, str]:
    """``("2120803", "城市建设支出")`` from ``"2120803-城市建设支出"`` / ``"[2120803]城市建设支出"``;
    ``("", text)`` when the text does not start with a code of the table's kind (a project name starting
    with "2024年" is a name)."""
    t = clean_text(to_halfwidth(text or ""))
    m = _LEADING_CODE.match(t)
    if not m:
        return "", t
    code, rest = m.group(1), m.group(2)
    bracketed = t[:1] in "[【(（"
    if rest.startswith("年") or (not bracketed and rest[:1].isdigit()):
        return "", t
    if not code_pattern(content).match(code):
        return "", t
    return code, rest


def code_cell(text: str, content: str) -> tuple[str, str]:
    """A code column's cell: ``(code, name printed with it)``; a label instead of a code ("合计") comes
    back as ``("", label)``."""
    t = clean_text(to_halfwidth(text or ""))
    if not t:
        return "", ""
    digits = re.sub(r"[\s\-.]", "", t.strip("[]【】()（）"))
    if digits.isdigit():
        return digits, ""
    code, rest = split_code_name(t, content)
    if code:
        return code, rest
    return "", t


@dataclass
class CodeCarry:
    """The 类 and 款 of the rows above, for codes printed in parts or at their own level only."""

    class_part: str = ""
    kuan_part: str = ""

    def compose(self, cls: str, kuan: str, xiang: str) -> str:
        # 款 and 项 are two digits; a spreadsheet export may drop the leading zero ("301 | 2" is 30102)
        kuan, xiang = (p.zfill(2) if len(p) == 1 and p.isdigit() else p for p in (kuan, xiang))
        if cls and len(cls) in (5, 7) and not kuan and not xiang:
            self.class_part, self.kuan_part = cls[:3], cls[3:5] if len(cls) >= 5 else ""
            return cls  # a whole code printed in the 类 column
        if cls:
            self.class_part, self.kuan_part = cls[:3], kuan
            return cls + kuan + xiang
        if kuan or xiang:
            if kuan:
                self.kuan_part = kuan
            if not self.class_part:
                return ""
            return self.class_part + (kuan or self.kuan_part) + xiang
        return ""


# --------------------------------------------------------------------------- names → codes


_ORDINAL = re.compile(
    r"^(?:其中[:：]?)?\s*(?:[一二三四五六七八九十百]+[、.．]|[(（][一二三四五六七八九十百]+[)）]|"
    r"\d{1,2}[、.．)）]|[(（]\d{1,2}[)）])\s*"
)


def bare_name(name: str) -> str:
    """A printed name without ordinals ("一、", "（一）") and 其中."""
    return _ORDINAL.sub("", clean_text(to_halfwidth(name or "")))


@dataclass
class Resolution:
    code: str | None
    level: str | None  # class | kuan | xiang
    how: str  # "catalog" | "ambiguous: …" | "unknown name"


def resolve_names(names: list[str], amounts: list, content: str, year: int | None) -> list[Resolution]:
    """Codes for rows printed with names only, top-down through the printed tree.

    A row is a 类 when its name is a class of the catalog; a 款 when it is a 款 of the current 类; a 项
    when it is a 项 of the current 款.  A name that is both a 款 and a 项 ("其他…支出" at both levels) is the
    one under which the amounts add up: a 款 is followed by rows whose totals sum to its own.
    ``amounts``: each row's total (Decimal or None), for that check."""
    catalog = load_econ_catalog() if content == "economic" else load_function_catalog()
    out: list[Resolution] = []
    cls = kuan = None
    scheme = ""  # economic: 部门 (3xx) or 政府 (5xx) classification, whichever the table's names are

    def named(name: str, level_len: int, parent: str | None) -> list[str]:
        n = normalize_name(name)
        codes = set(catalog.codes_named(n))
        if n.endswith("支出"):
            codes |= set(catalog.codes_named(n[:-2]))
        else:
            codes |= set(catalog.codes_named(n + "支出"))
        hits = sorted(
            c
            for c in codes
            if len(c) == level_len
            and (parent is None or c.startswith(parent))
            and catalog.lookup(c, year) is not None
            and c.startswith(scheme)
        )
        return hits

    if content == "economic":
        firsts = [c[0] for nm in names for c in named(bare_name(nm), 3, None) + named(bare_name(nm), 5, None)]
        scheme = max(set(firsts), key=firsts.count) if firsts else ""

    for i, raw in enumerate(names):
        name = bare_name(raw)
        if not name:
            out.append(Resolution(None, None, "no name"))
            continue
        as_class = named(name, 3, None)
        as_kuan = named(name, 5, cls) if cls else []
        as_xiang = named(name, 7, kuan) if kuan else []
        if content == "economic":
            as_xiang = []
        choice: tuple[str, str] | None = None
        if as_kuan and as_xiang:
            # both levels: a 款 has children that add up to it
            choice = ("kuan", as_kuan[0]) if _adds_up(i, amounts, names) else ("xiang", as_xiang[0])
        elif as_xiang and len(as_xiang) == 1:
            choice = ("xiang", as_xiang[0])
        elif as_kuan and len(as_kuan) == 1:
            choice = ("kuan", as_kuan[0])
        elif as_class and len(as_class) == 1 and not as_kuan and not as_xiang:
            choice = ("class", as_class[0])
        if choice is None:
            how = (
                "unknown name"
                if not (as_class or as_kuan or as_xiang)
                else "ambiguous: " + ", ".join(as_class + as_kuan + as_xiang)
            )
            out.append(Resolution(None, None, how))
            continue
        level, code = choice
        if level == "class":
            cls, kuan = code, None
        elif level == "kuan":
            kuan = code
        out.append(Resolution(code, level, "catalog"))
    return out


def _adds_up(i: int, amounts: list, names: list[str]) -> bool:
    """The rows right below row ``i`` sum to its amount before the sum passes it (its children)."""
    from decimal import Decimal

    own = amounts[i]
    if own is None:
        return False
    total = Decimal(0)
    for a in amounts[i + 1 :]:
        if a is None:
            continue
        total += a
        if abs(total - own) <= Decimal("0.05"):
            return True
        if total > own + Decimal("0.05"):
            return False
    return False
