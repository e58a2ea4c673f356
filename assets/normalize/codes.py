"""Classification codes (支出功能分类 / 支出经济分类) and 收入 categories.

Pure functions and small catalog classes over the reviewed CSVs in ``catalogs/``;
no Dagster, no I/O besides reading those CSVs (cached).

* :func:`normalize_code` turns a printed code (one column or split 类/款/项 columns,
  full-width digits, spaces, dashes) into ``"2010306"`` form.
* :class:`FunctionCatalog` / :class:`EconCatalog` answer ``lookup(code, year)``;
  names are year-versioned (``valid_from``/``valid_to``, inclusive, empty = open).
* :func:`check_code` compares a printed code + name with the catalog and returns a
  :class:`CodeCheck`; unknown codes and code/name contradictions are findings and are
  never silently remapped.
* :func:`classify_revenue` maps a printed 收入 row label to a :class:`RevenueCategory`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"

Status = Literal["ok", "variant_name", "unknown_code", "name_mismatch", "not_valid_in_year"]
UnitKind = Literal["admin", "institution", "any"]

__all__ = [
    "CATALOG_DIR",
    "CodeEntry",
    "CodeCheck",
    "CrosswalkLink",
    "EconLink",
    "RevenueCategory",
    "FunctionCatalog",
    "EconCatalog",
    "normalize_code",
    "normalize_name",
    "code_level",
    "load_function_catalog",
    "load_econ_catalog",
    "load_revenue_categories",
    "check_code",
    "classify_revenue",
]

# --------------------------------------------------------------------------- text helpers

_WS = re.compile(r"\s+")
_CODE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.·/]+")
_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")"})


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def normalize_name(name: str | None) -> str:
    """Comparison form of a printed name: NFKC (full-width → half-width), all
    brackets → ``()``, whitespace removed, ``、``/``,`` unified."""
    if not name:
        return ""
    s = _nfkc(name).translate(_BRACKETS)
    s = _WS.sub("", s)
    s = s.replace(",", "、").replace("，", "、")
    return s


def code_level(code: str) -> str | None:
    """``class`` (3 digits), ``kuan`` (5) or ``xiang`` (7); None otherwise."""
    return {3: "class", 5: "kuan", 7: "xiang"}.get(len(code)) if code and code.isdigit() else None


def normalize_code(
    raw: str | int | None = None, *, parts: tuple[str | None, str | None, str | None] | None = None
) -> str | None:
    """Normalize a printed classification code.

    One column: ``"2010306"``, ``" 201 03 06"``, ``"２０１０３０６"``, ``"201-03-06"`` → ``"2010306"``.
    Split 类/款/项 columns: ``parts=("201", "03", "06")`` → ``"2010306"``; ``("201", "", "")`` → ``"201"``;
    ``("201", "3", "")`` → ``"20103"``. Carrying a 类 forward into rows that print
    ``("", "03", "06")`` is the caller's job (returns None here).

    Returns None for anything that is not a 3/5/7-digit code.
    """
    if parts is not None:
        if raw is not None:
            raise TypeError("pass either raw or parts, not both")
        cleaned = []
        for p in parts:
            p = _CODE_SEPARATORS.sub("", _nfkc(str(p))) if p is not None else ""
            if p.endswith(".0") and p[:-2].isdigit():  # spreadsheet floats
                p = p[:-2]
            if p and not p.isdigit():
                return None
            cleaned.append(p)
        cls, kuan, xiang = (cleaned + ["", "", ""])[:3]
        if len(cls) != 3:
            return None
        if kuan and len(kuan) == 1:
            kuan = "0" + kuan
        if xiang and len(xiang) == 1:
            xiang = "0" + xiang
        if (kuan and len(kuan) != 2) or (xiang and len(xiang) != 2) or (xiang and not kuan):
            return None
        return cls + kuan + xiang
    if raw is None:
        return None
    s = _nfkc(str(raw)).strip()
    if s.endswith(".0") and s[:-2].replace(" ", "").isdigit():
        s = s[:-2]
    s = s.strip("()[]【】（）")
    s = _CODE_SEPARATORS.sub("", s)
    if not s.isdigit() or len(s) not in (3, 5, 7):
        return None
    return s


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class CodeEntry:
    code: str
    level: str  # class | kuan | xiang
    name: str
    parent_code: str | None
    valid_from: int | None  # inclusive; None = open
    valid_to: int | None  # inclusive; None = open
    note: str = ""
    aliases: tuple[str, ...] = ()

    def valid_in(self, year: int | None) -> bool:
        if year is None:
            return True
        return (self.valid_from is None or year >= self.valid_from) and (self.valid_to is None or year <= self.valid_to)


@dataclass(frozen=True)
class CrosswalkLink:
    old_code: str
    old_valid_to: int | None
    new_code: str
    new_valid_from: int | None
    relation: str  # renamed | moved | split | merged
    note: str = ""


@dataclass(frozen=True)
class EconLink:
    dept_code: str
    gov_code: str
    unit_kind: str  # admin | institution | any
    valid_from: int | None
    valid_to: int | None
    note: str = ""


@dataclass(frozen=True)
class CodeCheck:
    code: str | None
    status: Status
    canonical_name: str | None
    printed_name: str | None
    detail: str = ""
    year: int | None = None

    @property
    def ok(self) -> bool:
        """True for ``ok``, ``variant_name`` and ``unlisted`` (accepted; the variant or the new code recorded)."""
        return self.status in ("ok", "variant_name", "unlisted")


def _int(s: str | None) -> int | None:
    s = (s or "").strip()
    return int(s) if s else None


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _entries_from_csv(path: Path) -> list[CodeEntry]:
    out = []
    for r in _read_csv(path):
        out.append(
            CodeEntry(
                code=r["code"].strip(),
                level=r["level"].strip(),
                name=r["name"].strip(),
                parent_code=r.get("parent_code", "").strip() or None,
                valid_from=_int(r.get("valid_from")),
                valid_to=_int(r.get("valid_to")),
                note=r.get("note", "") or "",
                aliases=tuple(a.strip() for a in (r.get("aliases") or "").split("|") if a.strip()),
            )
        )
    return out


class _CodeCatalog:
    """Year-versioned code → name catalog (shared by functional and economic codes)."""

    def __init__(self, entries: Iterable[CodeEntry]):
        self._by_code: dict[str, list[CodeEntry]] = {}
        for e in entries:
            self._by_code.setdefault(e.code, []).append(e)
        for v in self._by_code.values():
            v.sort(key=lambda e: e.valid_from or 0)
        self._by_name: dict[str, set[str]] = {}
        for e in self:
            self._by_name.setdefault(normalize_name(e.name), set()).add(e.code)

    def __iter__(self):
        for code in sorted(self._by_code):
            yield from self._by_code[code]

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and normalize_code(code) in self._by_code

    def codes(self) -> list[str]:
        return sorted(self._by_code)

    def entries(self, code: str) -> list[CodeEntry]:
        """All versions of a code (oldest first); [] if unknown."""
        c = normalize_code(code)
        return list(self._by_code.get(c, [])) if c else []

    def lookup(self, code: str, year: int | None = None) -> CodeEntry | None:
        """The entry valid in ``year`` (the newest version when ``year`` is None);
        None if the code is unknown or not valid in that year."""
        versions = self.entries(code)
        if not versions:
            return None
        if year is None:
            return versions[-1]
        for e in versions:
            if e.valid_in(year):
                return e
        return None

    def name_for(self, code: str, year: int | None = None) -> str | None:
        e = self.lookup(code, year)
        return e.name if e else None

    def parent_code(self, code: str) -> str | None:
        c = normalize_code(code)
        return c[:-2] if c and len(c) > 3 else None

    def parent(self, code: str, year: int | None = None) -> CodeEntry | None:
        p = self.parent_code(code)
        return self.lookup(p, year) if p else None

    def class_code(self, code: str) -> str | None:
        c = normalize_code(code)
        return c[:3] if c else None

    def class_of(self, code: str, year: int | None = None) -> CodeEntry | None:
        c = self.class_code(code)
        return self.lookup(c, year) if c else None

    def codes_named(self, name: str) -> set[str]:
        return set(self._by_name.get(normalize_name(name), set()))


class FunctionCatalog(_CodeCatalog):
    """支出功能分类科目 with the year crosswalk."""

    def __init__(self, entries: Iterable[CodeEntry], crosswalk: Iterable[CrosswalkLink] = ()):
        super().__init__(entries)
        self.crosswalk_links: list[CrosswalkLink] = list(crosswalk)

    def successors(self, code: str) -> list[CrosswalkLink]:
        """Crosswalk links leaving ``code`` (renamed/moved/split/merged)."""
        c = normalize_code(code)
        return [lk for lk in self.crosswalk_links if lk.old_code == c]

    def predecessors(self, code: str) -> list[CrosswalkLink]:
        c = normalize_code(code)
        return [lk for lk in self.crosswalk_links if lk.new_code == c]

    def crosswalk(self, code: str, from_year: int, to_year: int) -> list[str]:
        """Codes that ``code`` as used in ``from_year`` corresponds to in ``to_year``
        (forward or backward in time); ``[code]`` when nothing changed."""
        c = normalize_code(code)
        if not c:
            return []
        current = {c}
        if to_year >= from_year:
            for link in sorted(self.crosswalk_links, key=lambda lk: lk.new_valid_from or 0):
                if link.new_valid_from and from_year < link.new_valid_from <= to_year and link.old_code in current:
                    current = (current - {link.old_code}) | {
                        lk.new_code
                        for lk in self.crosswalk_links
                        if lk.old_code == link.old_code and lk.new_valid_from == link.new_valid_from
                    }
        else:
            for link in sorted(self.crosswalk_links, key=lambda lk: -(lk.new_valid_from or 0)):
                if link.new_valid_from and to_year < link.new_valid_from <= from_year and link.new_code in current:
                    olds = {
                        lk.old_code
                        for lk in self.crosswalk_links
                        if lk.new_code == link.new_code and lk.new_valid_from == link.new_valid_from
                    }
                    current = (current - {link.new_code}) | olds if link.relation != "split" else current | olds
        return sorted(current)


class EconCatalog(_CodeCatalog):
    """部门预算支出经济分类 (3xx) + 政府预算支出经济分类 (5xx) and their correspondence."""

    def __init__(self, dept: Iterable[CodeEntry], gov: Iterable[CodeEntry], links: Iterable[EconLink] = ()):
        dept, gov = list(dept), list(gov)
        super().__init__(dept + gov)
        self.dept = _CodeCatalog(dept)
        self.gov = _CodeCatalog(gov)
        self.links: list[EconLink] = list(links)

    def gov_codes_for(self, dept_code: str, unit_kind: UnitKind = "admin", year: int | None = None) -> list[str]:
        """政府预算经济分类 code(s) for a 部门预算经济分类 code. ``unit_kind``: ``admin``
        (机关, 501–504), ``institution`` (事业单位, 505/506) or ``any`` (all candidates)."""
        c = normalize_code(dept_code)
        out = []
        for lk in self.links:
            if lk.dept_code != c:
                continue
            if year is not None and not (
                (lk.valid_from is None or year >= lk.valid_from) and (lk.valid_to is None or year <= lk.valid_to)
            ):
                continue
            if unit_kind == "any" or lk.unit_kind in (unit_kind, "any"):
                out.append(lk.gov_code)
        return sorted(set(out))

    def correspondence_ok(self, dept_code: str, gov_code: str, unit_kind: UnitKind = "any") -> bool:
        """Whether a printed (dept, gov) pair is in the official correspondence."""
        return normalize_code(gov_code) in self.gov_codes_for(dept_code, unit_kind)


@cache
def load_function_catalog(catalog_dir: str | None = None) -> FunctionCatalog:
    d = Path(catalog_dir) if catalog_dir else CATALOG_DIR
    links = [
        CrosswalkLink(
            old_code=r["old_code"].strip(),
            old_valid_to=_int(r["old_valid_to"]),
            new_code=r["new_code"].strip(),
            new_valid_from=_int(r["new_valid_from"]),
            relation=r["relation"].strip(),
            note=r.get("note", ""),
        )
        for r in _read_csv(d / "function_code_crosswalk.csv")
    ]
    return FunctionCatalog(_entries_from_csv(d / "function_codes.csv"), links)


@cache
def load_econ_catalog(catalog_dir: str | None = None) -> EconCatalog:
    d = Path(catalog_dir) if catalog_dir else CATALOG_DIR
    links = [
        EconLink(
            dept_code=r["dept_code"].strip(),
            gov_code=r["gov_code"].strip(),
            unit_kind=r["unit_kind"].strip(),
            valid_from=_int(r.get("valid_from")),
            valid_to=_int(r.get("valid_to")),
            note=r.get("note", ""),
        )
        for r in _read_csv(d / "econ_dept_to_gov.csv")
    ]
    return EconCatalog(_entries_from_csv(d / "econ_codes_dept.csv"), _entries_from_csv(d / "econ_codes_gov.csv"), links)


# --------------------------------------------------------------------------- name checks

_MIN_FRAGMENT = 4  # a wrapped-cell fragment must keep at least this many characters


def _strip_suffix(s: str, suf: str = "支出") -> str:
    return s[: -len(suf)] if s.endswith(suf) and len(s) > len(suf) else s


def _variant_reason(printed: str, entry: CodeEntry, parent_name: str | None) -> str | None:
    """Why ``printed`` is an acceptable variant of ``entry.name`` (None if it is not)."""
    p, c = normalize_name(printed), normalize_name(entry.name)
    if p == c:
        return "width/bracket/whitespace difference"
    if p in {normalize_name(a) for a in entry.aliases}:
        return "listed variant"
    if _strip_suffix(p) == _strip_suffix(c):
        return "支出 suffix added/dropped"
    # "行政运行（人力资源和社会保障管理事务）": name + parent name in brackets
    m = re.fullmatch(r"(.+)\((.+)\)", p)
    if m and m.group(1) == c and parent_name and normalize_name(parent_name) == m.group(2):
        return "parent name appended in brackets"
    # name cut where the table cell wrapped (start or end kept)
    if len(p) >= _MIN_FRAGMENT and len(p) < len(c) and (c.startswith(p) or c.endswith(p)):
        return "name cut where the cell wrapped"
    if len(p) >= _MIN_FRAGMENT and len(p) < len(c) and (_strip_suffix(c).startswith(p)):
        return "name cut where the cell wrapped"
    return None


def check_code(
    code: str | None,
    printed_name: str | None,
    year: int | None,
    catalog: _CodeCatalog | None = None,
) -> CodeCheck:
    """Check a printed code and name against ``catalog`` (default: functional codes
    for 2xx, economic codes for 3xx/5xx) for a document year.

    Statuses: ``ok`` (exact name), ``variant_name`` (known code, acceptable variant:
    width/brackets/spaces, 支出 suffix, a cut name, a listed variant; the variant is in
    ``printed_name`` and the reason in ``detail``), ``unknown_code``, ``name_mismatch``
    (code and name contradict), ``not_valid_in_year`` (the code, or the printed name of
    the code, belongs to other years).
    """
    norm = normalize_code(code) if code is not None else None
    if catalog is None:
        catalog = load_econ_catalog() if norm and norm[0] in "35" else load_function_catalog()
    pname = printed_name.strip() if printed_name else printed_name
    if norm is None:
        return CodeCheck(None, "unknown_code", None, pname, f"not a classification code: {code!r}", year)
    versions = catalog.entries(norm)
    if not versions:
        hint = ""
        others = sorted(catalog.codes_named(pname)) if pname else []
        if others:
            hint = f"; printed name is the name of {', '.join(others)}"
        parent = catalog.lookup(norm[:-2], year) if len(norm) > 3 else None
        siblings = [o for o in others if len(o) == len(norm) and o[:-2] == norm[:-2]]
        if parent is not None and not siblings:
            # a well-formed code under a known 类/款 that the catalog (the codes observed so far) does not
            # list, named like no other code of that parent: kept as printed, reported for the catalog
            return CodeCheck(
                norm,
                "unlisted",
                None,
                pname,
                f"code not in the catalog, under {parent.code} {parent.name}: kept as printed" + hint,
                year,
            )
        return CodeCheck(norm, "unknown_code", None, pname, "code not in catalog" + hint, year)
    entry = catalog.lookup(norm, year)
    if entry is None:
        span = ", ".join(f"{e.name} [{e.valid_from or '…'}–{e.valid_to or '…'}]" for e in versions)
        return CodeCheck(norm, "not_valid_in_year", None, pname, f"code not valid in {year}; versions: {span}", year)
    if not pname:
        return CodeCheck(norm, "ok", entry.name, pname, "no printed name", year)
    if pname == entry.name:
        return CodeCheck(norm, "ok", entry.name, pname, "", year)
    parent = catalog.parent(norm, year)
    reason = _variant_reason(pname, entry, parent.name if parent else None)
    if reason:
        return CodeCheck(norm, "variant_name", entry.name, pname, reason, year)
    # the name of another version of this code (e.g. 2018 name printed in 2019)
    for e in versions:
        if e is not entry and _variant_reason(pname, e, None):
            return CodeCheck(
                norm,
                "not_valid_in_year",
                entry.name,
                pname,
                f"printed name is the name valid {e.valid_from or '…'}–{e.valid_to or '…'}, not in {year}",
                year,
            )
    others = sorted(catalog.codes_named(pname) - {norm})
    hint = ""
    if others:
        more = f" (+{len(others) - 5} more)" if len(others) > 5 else ""
        hint = f"; printed name is the name of {', '.join(others[:5])}{more}"
    return CodeCheck(norm, "name_mismatch", entry.name, pname, f"catalog name {entry.name!r}{hint}", year)


# --------------------------------------------------------------------------- revenue


@dataclass(frozen=True)
class RevenueCategory:
    key: str
    name: str
    fund_source: str | None
    kind: str  # revenue | carryover | total
    aliases: tuple[str, ...] = ()
    of_which: bool = False  # printed as "其中：…" (a breakdown of the row above, not an addend)
    matched_alias: str | None = field(default=None, compare=False)


@cache
def load_revenue_categories(catalog_dir: str | None = None) -> tuple[RevenueCategory, ...]:
    d = Path(catalog_dir) if catalog_dir else CATALOG_DIR
    return tuple(
        RevenueCategory(
            key=r["key"].strip(),
            name=r["name"].strip(),
            fund_source=r["fund_source"].strip() or None,
            kind=r["kind"].strip(),
            aliases=tuple(a.strip() for a in r["aliases"].split("|") if a.strip()),
        )
        for r in _read_csv(d / "revenue_categories.csv")
    )


_ENUM_PREFIX = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|\(?[一二三四五六七八九十]+\)|\d+[、.．)]|\(\d+\)|[①-⑳])")
_OF_WHICH = re.compile(r"^其中[:：]?")


@lru_cache(maxsize=4096)
def classify_revenue(label: str | None) -> RevenueCategory | None:
    """Map a printed 收入 row label to its category.

    ``"一、一般公共预算"`` / ``"（一）一般公共预算拨款"`` → ``general_public_budget``;
    ``"其中：财政拨款"`` → ``fiscal_allocation`` with ``of_which=True``. None when the
    label is not a known 收入 row (expenditure labels are never matched).
    """
    if not label:
        return None
    s = normalize_name(label)
    of_which = False
    for _ in range(3):  # "其中：1、…" etc.
        before = s
        m = _OF_WHICH.match(s)
        if m:
            of_which = True
            s = s[m.end() :]
        s = _ENUM_PREFIX.sub("", s)
        if s == before:
            break
    if not s:
        return None
    cats = load_revenue_categories()
    best: tuple[int, RevenueCategory, str] | None = None
    for cat in cats:
        for alias in cat.aliases:
            a = normalize_name(alias)
            if s == a:
                return replace(cat, of_which=of_which, matched_alias=alias)
            if s.startswith(a) and len(a) >= 4 and "支出" not in s[len(a) :]:
                if best is None or len(a) > best[0]:
                    best = (len(a), cat, alias)
    if best:
        return replace(best[1], of_which=of_which, matched_alias=best[2])
    return None
