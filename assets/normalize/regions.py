"""Administrative divisions (国家统计局 statistical division codes).

Data: ``catalogs/admin-divisions-{provinces,cities,areas,areas-2020}.csv`` (copied from
the public repository modood/Administrative-divisions-of-China). ``areas`` is today's
list; ``areas-2020`` still holds codes renamed since (``410322 孟津县``, ``410381 偃师市``),
which are returned with ``historical=True``.

Codes are always 6 digits: a province is ``"320000"``, a prefecture ``"410300"``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"

__all__ = ["Region", "region_by_code", "find_region_in_text", "all_regions", "region_name_variants"]


@dataclass(frozen=True)
class Region:
    code: str  # 6 digits
    name: str  # e.g. 伊川县 / 洛阳市 / 江苏省
    prefecture: str | None  # 洛阳市 (for 直辖市 districts: the 直辖市 name, e.g. 上海市); None for provinces
    province: str  # 河南省
    level: str = "county"  # province | prefecture | county
    historical: bool = False  # only in the 2020 list (code or name changed since)

    @property
    def full_name(self) -> str:
        """Province + prefecture + name without repeats: 河南省洛阳市伊川县, 上海市普陀区, 江苏省."""
        parts: list[str] = []
        for p in (self.province, self.prefecture, self.name):
            if p and p not in parts:
                parts.append(p)
        return "".join(parts)


_MUNICIPAL_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def _read(name: str) -> list[dict[str, str]]:
    with open(CATALOG_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, Region], dict[str, Region], dict[str, Region], dict[str, Region]]:
    provinces = {r["code"]: r["name"] for r in _read("admin-divisions-provinces.csv")}
    cities = {r["code"]: (r["name"], r["provinceCode"]) for r in _read("admin-divisions-cities.csv")}
    prov_regions = {c + "0000": Region(c + "0000", n, None, n, "province") for c, n in provinces.items()}
    city_regions: dict[str, Region] = {}
    for c, (n, pc) in cities.items():
        if n in _MUNICIPAL_PLACEHOLDERS:
            continue
        city_regions[c + "00"] = Region(c + "00", n, n, provinces[pc], "prefecture")

    def prefecture_of(city_code: str, prov_code: str) -> str | None:
        name = cities.get(city_code, ("", ""))[0]
        if not name or name in _MUNICIPAL_PLACEHOLDERS:
            p = provinces.get(prov_code, "")
            return p if p.endswith("市") else None  # 直辖市 districts; 省直辖县 have none
        return name

    current = {}
    for r in _read("admin-divisions-areas.csv"):
        current[r["code"]] = Region(
            r["code"], r["name"], prefecture_of(r["cityCode"], r["provinceCode"]), provinces[r["provinceCode"]]
        )
    hist = {}
    for r in _read("admin-divisions-areas-2020.csv"):
        if r["code"] in current and current[r["code"]].name == r["name"]:
            continue
        hist[r["code"]] = Region(
            r["code"],
            r["name"],
            prefecture_of(r["cityCode"], r["provinceCode"]),
            provinces[r["provinceCode"]],
            historical=True,
        )
    return prov_regions, city_regions, current, hist


def all_regions(include_historical: bool = True) -> list[Region]:
    prov, city, cur, hist = _tables()
    out = list(prov.values()) + list(city.values()) + list(cur.values())
    if include_historical:
        out += list(hist.values())
    return out


def region_by_code(code: str | int) -> Region | None:
    """Region for a 2-, 4- or 6-digit code (``"41"``, ``"4103"``, ``"410329"``,
    ``"320000"``); historical (2020) codes are found too (``historical=True``)."""
    c = unicodedata.normalize("NFKC", str(code)).strip()
    if not c.isdigit():
        return None
    if len(c) == 2:
        c += "0000"
    elif len(c) == 4:
        c += "00"
    if len(c) != 6:
        return None
    prov, city, cur, hist = _tables()
    if c in cur:
        return cur[c]
    if c in hist:
        return hist[c]
    if c.endswith("0000"):
        return prov.get(c)
    if c.endswith("00"):
        return city.get(c)
    return None


def region_name_variants(region: Region) -> list[str]:
    """Prefixes under which a region's name may be printed, longest first
    (河南省洛阳市伊川县, 洛阳市伊川县, 河南省伊川县, 伊川县)."""
    names = {region.name, region.full_name}
    if region.prefecture and region.prefecture != region.name:
        names.add(region.prefecture + region.name)
    if region.level != "province" and region.province != region.name:
        names.add(region.province + region.name)
    return sorted(names, key=len, reverse=True)


@lru_cache(maxsize=1)
def _name_index() -> dict[str, list[Region]]:
    idx: dict[str, list[Region]] = {}
    for r in all_regions():
        idx.setdefault(r.name, []).append(r)
    return idx


_WS = re.compile(r"\s+")


def find_region_in_text(text: str | None) -> Region | None:
    """The most specific region named in ``text`` (a title, file name, 编制单位 line).

    ``"上海市普陀区2025年区级部门预算"`` → 310107 普陀区 (not 舟山 330903, thanks to
    上海市); ``"洛阳市伊川县"`` → 410329; ``"江苏省人大办公厅"`` → the province 320000;
    ``"洛阳市孟津县"`` → historical 410322. County names are only trusted when their
    prefecture/province is also named or the name has 3+ characters and is unique.
    """
    if not text:
        return None
    t = _WS.sub("", unicodedata.normalize("NFKC", text))
    t = t.replace("(", "（").replace(")", "）")
    idx = _name_index()
    best: tuple[tuple, Region] | None = None
    for name, regions in idx.items():
        pos = t.find(name)
        if pos < 0:
            continue
        for r in regions:
            score = _score(r, t, pos, len(regions))
            if score is None:
                continue
            level_rank = {"county": 2, "prefecture": 1, "province": 0}[r.level]
            key = (score, level_rank, not r.historical, -pos)
            if best is None or key > best[0]:
                best = (key, r)
    return best[1] if best else None


def _score(r: Region, t: str, pos: int, n_same_name: int) -> int | None:
    before = t[:pos]
    anchored = any(before.endswith(p) for p in (r.prefecture, r.province) if p and p != r.name)
    mentioned = any(p in t for p in (r.prefecture, r.province) if p and p != r.name)
    if r.level == "province":
        return 1
    if anchored:
        return 4
    if mentioned:
        return 3
    # bare name: only if long enough and unambiguous
    if len(r.name) >= 3 and n_same_name == 1:
        return 2 if r.level == "prefecture" or not r.historical else 1
    return None
