"""``budget-etl report``: what the pipeline made of each document (reads ``mart.document_report``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from assets.load.warehouse import Warehouse


def document_report(wh: Warehouse, prefix: str | None = None) -> list[dict[str, Any]]:
    """One dict per document (``mart.document_report`` columns) plus ``tables`` (type, title, pages, rows,
    empty) and ``findings`` (check, severity, page, count) — documents whose sha256 starts with ``prefix``."""
    where = "WHERE document_sha256 LIKE :p" if prefix else ""
    params = {"p": f"{prefix}%"} if prefix else {}
    with wh.engine.connect() as conn:
        docs = [
            dict(r._mapping)
            for r in conn.execute(
                sa.text(
                    f"SELECT * FROM mart.document_report {where} "
                    "ORDER BY region_code, fiscal_year, department_name, document_sha256"
                ),
                params,
            )
        ]
        tables = conn.execute(
            sa.text(
                f"SELECT document_sha256, table_type, title, first_page, last_page, row_count, is_empty "
                f"FROM core.extracted_table {where} ORDER BY document_sha256, first_page, table_type"
            ),
            params,
        ).all()
        findings = conn.execute(
            sa.text(
                f"SELECT document_sha256, check_name, severity, MIN(page) AS page, COUNT(*) AS n "
                f"FROM core.quality_finding {where} GROUP BY document_sha256, check_name, severity "
                f"ORDER BY document_sha256, severity, check_name"
            ),
            params,
        ).all()
    by_doc: dict[str, dict[str, Any]] = {d["document_sha256"]: d for d in docs}
    for d in docs:
        d["tables"], d["findings"] = [], []
    for r in tables:
        if r.document_sha256 in by_doc:
            by_doc[r.document_sha256]["tables"].append(dict(r._mapping))
    for r in findings:
        if r.document_sha256 in by_doc:
            by_doc[r.document_sha256]["findings"].append(dict(r._mapping))
    return docs


def _pages(first: int | None, last: int | None) -> str:
    if first is None:
        return "p. ?"
    return f"p. {first}" if last in (None, first) else f"pp. {first}-{last}"


def format_report(docs: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for d in docs:
        lines.append(
            f"{d['document_sha256'][:12]}  {d['department_name'] or '(department unknown)'}  "
            f"{d['fiscal_year'] or '?'}  region {d['region_code']}  {d['status']}"
            + (f": {d['status_reason']}" if d["status_reason"] else "")
        )
        lines.append(f"  source: {d['source_url']}  ({d['page_count'] or '?'} pages)")
        if d["document_set"]:
            lines.append(
                f"  document set: {d['document_set']} ({d['set_documents']} document"
                f"{'s' if d['set_documents'] != 1 else ''})"
            )
        lines.append(f"  tables found: {d['tables_found']} ({d['empty_tables']} published empty)")
        for t in d["tables"]:
            rows = "empty" if t["is_empty"] else f"{t['row_count']} rows"
            lines.append(
                f"    {t['table_type']:<28} {_pages(t['first_page'], t['last_page']):<10} {rows:<9} {t['title']}"
            )
        if d["unrecognised_tables"]:
            lines.append(f"  unrecognised tables: {d['unrecognised_tables']}: {d['unrecognised_titles']}")
        lines.append(f"  rows loaded: {d['rows_loaded']}")
        if d["status"] in ("loaded", "quarantined"):
            lines.append(f"  checks passed: {(d['checks_passed'] or 'none').replace(',', ', ')}")
            lines.append(
                f"  checks failed: {(d['checks_failed'] or 'none').replace(',', ', ')}"
                f"  ({d['hard_findings']} hard, {d['soft_findings']} soft findings)"
            )
            for f in d["findings"]:
                if f["severity"] in ("hard", "soft"):
                    lines.append(f"    {f['severity']:<4} {f['check_name']} ×{f['n']} (first on p. {f['page']})")
        lines.append("")
    lines.append(f"({len(docs)} document{'s' if len(docs) != 1 else ''})")
    return "\n".join(lines)
