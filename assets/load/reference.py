"""Reference data for the ``core`` dimensions, built from the reviewed catalogs (pure).

Sources: ``assets/normalize/catalogs`` (function codes + crosswalk, economic codes
部门/政府 + correspondence, revenue categories, administrative divisions),
the table-type registry (``warehouse_schema/table_types.yaml``) and
``warehouse_schema/reference`` (fund sources, budget phases, department crosswalk).

:func:`reference_rows` returns every reference table's rows;
:func:`fingerprint` hashes them, so the warehouse reloads reference data only
when a catalog changed (:meth:`assets.load.warehouse.Warehouse.load_reference`).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from assets.normalize.codes import CodeEntry, load_econ_catalog, load_function_catalog, load_revenue_categories
from assets.normalize.departments import department_key
from assets.normalize.regions import all_regions
from warehouse_schema import registry

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO / "warehouse_schema" / "reference"
#: fiscal years of the dimension (the partitions cover a subset)
YEARS = range(2010, 2036)
ECON_REFORM_YEAR = 2018  # 财预〔2017〕98号: 政府预算支出经济分类 from the 2018 budget


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def region_rows() -> list[dict[str, Any]]:
    """Every province, prefecture and county (current first; 2020 codes renamed since as historical)."""
    out: dict[str, dict[str, Any]] = {}
    for r in all_regions(include_historical=True):
        if r.code in out:  # a code renamed since 2020: keep today's name
            continue
        out[r.code] = {
            "region_code": r.code,
            "region_name": r.name,
            "prefecture": r.prefecture,
            "province": r.province,
            "level": r.level,
            "historical": r.historical,
        }
    return sorted(out.values(), key=lambda r: r["region_code"])


def _code_rows(entries: list[CodeEntry], key: str) -> list[dict[str, Any]]:
    out = []
    version: dict[str, int] = {}
    for e in sorted(entries, key=lambda e: (e.code, e.valid_from or 0)):
        version[e.code] = version.get(e.code, 0) + 1
        out.append(
            {
                key: e.code,
                "version": version[e.code],
                "level": e.level,
                "name": e.name,
                "parent_code": e.parent_code,
                "valid_from": e.valid_from,
                "valid_to": e.valid_to,
                "note": e.note or None,
            }
        )
    return out


def function_code_rows() -> list[dict[str, Any]]:
    rows = _code_rows(list(load_function_catalog()), "function_code")
    for r in rows:
        r["class_code"] = r["function_code"][:3]
    return rows


def econ_code_rows() -> list[dict[str, Any]]:
    cat = load_econ_catalog()
    rows = []
    for scheme, sub in (("dept", cat.dept), ("gov", cat.gov)):
        rows += [dict(r, scheme=scheme) for r in _code_rows(list(sub), "econ_code")]
    return rows


def department_crosswalk_rows(path: Path | None = None) -> list[dict[str, Any]]:
    """The department crosswalk as keys, chains resolved to the final key.

    Raises ``ValueError`` for a cycle (A → B → A) or an old name listed twice."""
    links: dict[str, dict[str, Any]] = {}
    for r in _read_csv(path or REFERENCE_DIR / "department_crosswalk.csv"):
        old = department_key(r["region_code"], r["old_name"])
        new = department_key(r["region_code"], r["new_name"])
        if old in links:
            raise ValueError(f"department crosswalk: {r['old_name']} ({old}) listed twice")
        links[old] = {
            "old_department_key": old,
            "new_department_key": new,
            "from_year": _int(r["from_year"]),
            "relation": r["relation"] or "renamed",
            "note": r.get("note") or None,
        }
    for link in links.values():
        seen = {link["old_department_key"]}
        target = link["new_department_key"]
        while target in links:
            if target in seen:
                raise ValueError(f"department crosswalk: cycle through {target}")
            seen.add(target)
            target = links[target]["new_department_key"]
        link["new_department_key"] = target
    return sorted(links.values(), key=lambda r: r["old_department_key"])


def table_template_rows() -> list[dict[str, Any]]:
    """core.dim_table_template: every table type of the registry."""
    return [
        {"table_type": t.key, "name_zh": t.name, "kind": t.kind, "fact_table": t.fact_table, "required": t.required}
        for t in sorted(registry.current().types, key=lambda t: t.key)
    ]


def reference_rows(department_crosswalk: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Rows of every ``core`` reference table, keyed by table name."""
    fcat = load_function_catalog()
    ecat = load_econ_catalog()
    return {
        "dim_region": region_rows(),
        "dim_fiscal_year": [
            {
                "fiscal_year": y,
                "label": f"{y}年",
                "econ_classification": "2018_reform" if y >= ECON_REFORM_YEAR else "pre_2018",
            }
            for y in YEARS
        ],
        "dim_budget_phase": [
            {"budget_phase": r["budget_phase"], "name_zh": r["name_zh"]}
            for r in _read_csv(REFERENCE_DIR / "budget_phases.csv")
        ],
        "dim_fund_source": [
            {"fund_source": r["fund_source"], "name_zh": r["name_zh"], "sort_order": int(r["sort_order"])}
            for r in _read_csv(REFERENCE_DIR / "fund_sources.csv")
        ],
        "dim_revenue_category": [
            {"revenue_category": c.key, "name_zh": c.name, "fund_source": c.fund_source, "kind": c.kind}
            for c in load_revenue_categories()
        ],
        "dim_table_template": table_template_rows(),
        "dim_function_code": function_code_rows(),
        "function_code_crosswalk": [
            {
                "link_no": i,
                "old_code": link.old_code,
                "old_valid_to": link.old_valid_to,
                "new_code": link.new_code,
                "new_valid_from": link.new_valid_from,
                "relation": link.relation,
                "note": link.note or None,
            }
            for i, link in enumerate(fcat.crosswalk_links, 1)
        ],
        "dim_econ_code": econ_code_rows(),
        "econ_code_correspondence": [
            {
                "link_no": i,
                "dept_code": link.dept_code,
                "gov_code": link.gov_code,
                "unit_kind": link.unit_kind,
                "valid_from": link.valid_from,
                "valid_to": link.valid_to,
                "note": link.note or None,
            }
            for i, link in enumerate(ecat.links, 1)
        ],
        "department_crosswalk": department_crosswalk_rows(department_crosswalk),
    }


def fingerprint(rows: dict[str, list[dict[str, Any]]]) -> str:
    """sha256 of the reference rows (stable: sorted keys, rows in order)."""
    h = hashlib.sha256()
    for name in sorted(rows):
        h.update(name.encode())
        for r in rows[name]:
            h.update(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str).encode())
    return h.hexdigest()
