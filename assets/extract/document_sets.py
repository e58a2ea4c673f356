"""Document sets: the PDFs one department published for one fiscal year.

Some departments publish the 说明 (narrative, 公开文件) and the tables (公开表) as two
PDFs (江苏省 2017–2019).  A document set is every budget document of the same region,
department and fiscal year; the department is compared by its key
(``assets/normalize/departments.py``) after the reviewed aliases of
``warehouse_schema/reference/department_crosswalk.csv`` (``中共江苏省委办公厅`` and
``中国共产党江苏省委员会办公厅`` are one department) — the same rule the ``mart``
views use, so Python and SQL agree on the sets.

A table PDF without a 说明 of its own is checked against the narrative of the
narrative-only PDF of its set (:func:`linked_narratives`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from assets.load.reference import department_crosswalk_rows
from assets.normalize.departments import department_key
from assets.records import ExtractionResult, ManifestEntry

#: a narrative-only PDF has no table but at least this much text (a cover page is not a 说明)
MIN_NARRATIVE_CHARS = 300


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    return {r["old_department_key"]: r["new_department_key"] for r in department_crosswalk_rows()}


def set_department_key(region_code: str | None, department: str | None) -> str | None:
    """The department key after renames/aliases, or None without a department."""
    if not region_code or not department:
        return None
    key = department_key(region_code, department)
    return _aliases().get(key, key)


def document_set_key(region_code: str | None, fiscal_year: int | None, department: str | None) -> str | None:
    """``"<region>:<department key>:<year>"``: equal for the documents of one set."""
    dept = set_department_key(region_code, department)
    if dept is None or not fiscal_year:
        return None
    return f"{dept}:{fiscal_year}"


def is_narrative_only(result: ExtractionResult) -> bool:
    """No template table, but text: the 说明 of a set whose tables are another PDF."""
    return not result.tables and len((result.narrative or "").strip()) >= MIN_NARRATIVE_CHARS


def _department(entry: ManifestEntry, result: ExtractionResult) -> str | None:
    return result.department or entry.department


def document_sets(docs: dict[str, tuple[ManifestEntry, ExtractionResult]]) -> dict[str, list[str]]:
    """set key → the sha256 of its documents (documents without a department or year are left out)."""
    out: dict[str, list[str]] = {}
    for sha, (entry, result) in docs.items():
        key = document_set_key(entry.region_code, entry.year or result.fiscal_year, _department(entry, result))
        if key:
            out.setdefault(key, []).append(sha)
    return out


def linked_narratives(docs: dict[str, tuple[ManifestEntry, ExtractionResult]]) -> dict[str, list[str]]:
    """Table document sha256 → the narrative-only documents of its set (only for sets that have both)."""
    out: dict[str, list[str]] = {}
    for shas in document_sets(docs).values():
        narratives = sorted(s for s in shas if is_narrative_only(docs[s][1]))
        tables = [s for s in shas if docs[s][1].tables]
        for sha in tables if narratives else ():
            out[sha] = narratives
    return out


def unrecognised_findings(result: ExtractionResult) -> list[dict[str, Any]]:
    """The tables no template knows and the extraction problems, as ``info`` findings (they reach
    ``core.quality_finding`` and the document report instead of being dropped)."""
    out = []
    for u in result.unrecognised:
        if u.get("problem"):
            # hard: the reading would lose or misplace amounts of a table the warehouse keeps
            out.append(
                {
                    "check_name": "extraction_problem",
                    "severity": u.get("severity", "info"),
                    "expected": None,
                    "actual": None,
                    "page": u.get("page"),
                    "row_index": None,
                    "table_type": u.get("table_type"),
                    "detail": str(u["problem"]),
                }
            )
            continue
        title = u.get("title")
        if u.get("type"):
            detail = f"table {title!r} on page {u.get('page')} ({u['type']}): recognised, recorded, not loaded"
        elif title:
            detail = (
                f"table {title!r} on page {u.get('page')}: no template of the national format, recorded, not loaded"
            )
        else:
            detail = (
                f"untitled table (index {u.get('table_index')}, {u.get('rows')} rows) on page {u.get('page')} "
                f"after {u.get('after')!r}: recorded, not loaded"
            )
        out.append(
            {
                "check_name": "unrecognised_table",
                "severity": "info",
                "expected": None,
                "actual": title,
                "page": u.get("page"),
                "row_index": None,
                "table_type": None,
                "detail": detail,
            }
        )
    return out
