"""Writing to the warehouse: the manifest, documents, facts and findings.

Loads are idempotent per document: a document's rows in every per-document
table are deleted and re-inserted in one transaction, so re-running a
partition leaves the warehouse exactly as after one run, and a crash mid-load
leaves the previous state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa

import warehouse_schema
from warehouse_schema import tables as t


class WarehouseUnavailable(RuntimeError):
    """The warehouse URL cannot be reached or opened."""


def make_engine(url: str) -> sa.Engine:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any driver error: say which warehouse and why
        raise WarehouseUnavailable(f"cannot open warehouse {redact(url)}: {type(exc).__name__}: {exc}") from exc
    return engine


def redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for messages
        return url


@dataclass
class DocumentLoad:
    """Everything the warehouse keeps of one document."""

    document: dict[str, Any]  # a core.document row
    tables: list[dict[str, Any]] = field(default_factory=list)  # core.extracted_table rows
    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # fact table → rows
    findings: list[dict[str, Any]] = field(default_factory=list)


class Warehouse:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)

    def ensure_schema(self) -> None:
        warehouse_schema.create_all(self.engine)

    # -- manifest ---------------------------------------------------------
    def previous_fetches(self, region_code: str) -> list[dict[str, Any]]:
        """Latest stored fetch per URL of a region (for conditional requests)."""
        m = t.manifest
        q = sa.select(m).where(m.c.region_code == region_code, m.c.sha256 != "").order_by(m.c.url, m.c.fetched_at)
        with self.engine.connect() as conn:
            latest: dict[str, dict[str, Any]] = {}
            for row in conn.execute(q).mappings():
                latest[row["url"]] = dict(row)
        return list(latest.values())

    def record_manifest(self, rows: Iterable[dict[str, Any]]) -> int:
        """Upsert manifest rows by (url, sha256); an unchanged fetch keeps its first fetched_at."""
        m = t.manifest
        cols = {c.name for c in m.columns}
        n = 0
        with self.engine.begin() as conn:
            for row in rows:
                rec = {k: v for k, v in row.items() if k in cols}
                rec["sha256"] = rec.get("sha256") or ""
                existing = conn.execute(
                    sa.select(m.c.fetched_at, m.c.status).where(m.c.url == rec["url"], m.c.sha256 == rec["sha256"])
                ).first()
                if existing is not None:
                    if rec.get("status") == "unchanged":
                        # keep what we knew of the content; note when we saw it again
                        continue
                    conn.execute(sa.delete(m).where(m.c.url == rec["url"], m.c.sha256 == rec["sha256"]))
                conn.execute(sa.insert(m), [rec])
                n += 1
        return n

    # -- documents --------------------------------------------------------
    def load_document(self, load: DocumentLoad) -> dict[str, int]:
        """Replace one document's rows everywhere, in one transaction."""
        sha = load.document["document_sha256"]
        counts: dict[str, int] = {}
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.document).where(t.document.c.document_sha256 == sha))
            for table in t.DOCUMENT_TABLES:
                conn.execute(sa.delete(table).where(table.c.document_sha256 == sha))
            conn.execute(sa.insert(t.document), [load.document])
            if load.tables:
                conn.execute(sa.insert(t.extracted_table), load.tables)
            for name, rows in load.facts.items():
                if rows:
                    conn.execute(sa.insert(t.metadata.tables[f"core.{name}"]), rows)
                counts[name] = len(rows)
            if load.findings:
                conn.execute(sa.insert(t.quality_finding), load.findings)
            counts["quality_finding"] = len(load.findings)
        return counts

    def upsert_regions(self, rows: Iterable[dict[str, Any]]) -> None:
        r = t.dim_region
        with self.engine.begin() as conn:
            for row in rows:
                conn.execute(sa.delete(r).where(r.c.region_code == row["region_code"]))
                conn.execute(sa.insert(r), [row])

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        with self.engine.connect() as conn:
            res = conn.exec_driver_sql(sql)
            return list(res.keys()), [tuple(r) for r in res.fetchall()]

    def dispose(self) -> None:
        self.engine.dispose()
