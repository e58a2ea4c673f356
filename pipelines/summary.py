"""The summary ``budget-etl ingest`` and ``backfill`` print at the end of a run.

* documents found = new + changed + unchanged + failed (links that were never downloaded, e.g. a .doc or a
  robots.txt refusal, are counted apart);
* every document with its status, fiscal year, department and file name (percent-decoded), and why it is not
  loaded;
* the soft data-quality warnings of the run's documents, each with its document and page;
* rows loaded per table, failed runs, time.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

from wcwidth import wcswidth

from assets.load.warehouse import Warehouse
from warehouse_schema.tables import quality_finding as qf

#: at most this many documents are listed one by one (every document that is not loaded is, up to this many)
MAX_LISTED = 40


def display_name(url: str | None) -> str:
    """The file name of a document URL, percent-decoded (``%E4%BC%8A…pdf`` → ``伊川县….pdf``)."""
    if not url:
        return "?"
    path = urlsplit(url).path or url
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return name or unquote(url)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - max(wcswidth(text), 0))


def crawl_counts(summary) -> dict[str, list]:
    """The crawl's entries by outcome: new, changed, unchanged, failed (these four are "found") and
    not_downloaded (links skipped without a request: not a PDF, another host, robots.txt)."""
    out: dict[str, list] = {"new": [], "changed": [], "unchanged": [], "failed": [], "not_downloaded": []}
    for region, entries in summary.crawled.items():
        before = summary.previous.get(region, {})
        for e in entries:
            if e.status == "failed" and not e.sha256:
                out["failed"].append(e)
            elif not e.sha256:
                out["not_downloaded"].append(e)
            elif e.status == "unchanged":
                out["unchanged"].append(e)
            elif before.get(e.url) and before[e.url] != e.sha256:
                out["changed"].append(e)
            else:
                out["new"].append(e)
    return out


def document_lines(summary) -> list[tuple[str, str, str, str, str, str]]:
    """(status, year, region, department, file, reason) of every document of the run, processed or not."""
    entries: dict[str, Any] = {}
    lines = []
    for region, es in summary.crawled.items():
        for e in es:
            if e.sha256:
                entries.setdefault(e.sha256, e)
            else:  # never stored: failed or not downloaded
                status = "failed" if e.status == "failed" else "not downloaded"
                lines.append(
                    (status, str(e.year or "-"), region, e.department or "-", display_name(e.url), e.reason or "")
                )
    for sha, e in entries.items():
        d = summary.documents.get(sha)
        if d is not None:
            lines.append(
                (
                    d["status"],
                    str(e.year or "-"),
                    e.region_code,
                    d.get("department") or e.department or "-",
                    display_name(d.get("url") or e.url),
                    d.get("reason") or "",
                )
            )
        else:
            status = e.status if e.status in ("rejected", "skipped") else "not processed"
            reason = e.reason or (
                ""
                if status != "not processed"
                else "its fiscal year was not processed (outside --years, or no year found)"
            )
            lines.append((status, str(e.year or "-"), e.region_code, e.department or "-", display_name(e.url), reason))
    order = {
        "quarantined": 0,
        "rejected": 1,
        "failed": 2,
        "not processed": 3,
        "skipped": 4,
        "not downloaded": 5,
        "superseded": 6,
        "loaded": 7,
    }
    return sorted(lines, key=lambda r: (order.get(r[0], 8), r[2], r[1], r[3], r[4]))


def collect_warnings(summary, warehouse_url: str) -> None:
    """The soft findings of the run's documents, from the warehouse (``summary.warnings``)."""
    import sqlalchemy as sa

    shas = sorted(summary.documents)
    if not shas:
        return
    wh = Warehouse(warehouse_url)
    try:
        with wh.engine.connect() as conn:
            for start in range(0, len(shas), 500):
                q = (
                    sa.select(qf.c.document_sha256, qf.c.check_name, qf.c.page, qf.c.detail, qf.c.expected, qf.c.actual)
                    .where(qf.c.severity == "soft", qf.c.document_sha256.in_(shas[start : start + 500]))
                    .order_by(qf.c.document_sha256, qf.c.page, qf.c.check_name)
                )
                summary.warnings += [dict(r._mapping) for r in conn.execute(q)]
    finally:
        wh.dispose()


def format_summary(summary, seconds: float, warehouse: str) -> str:
    counts = crawl_counts(summary)
    found = sum(len(counts[k]) for k in ("new", "changed", "unchanged", "failed"))
    by_status = Counter(d["status"] for d in summary.documents.values())
    out = [
        f"warehouse: {warehouse}",
        f"regions: {len(summary.crawled)}   partitions (year|region): {', '.join(summary.partitions) or 'none'}",
    ]
    line = (
        f"documents found: {found} = {len(counts['new'])} new + {len(counts['changed'])} changed + "
        f"{len(counts['unchanged'])} unchanged + {len(counts['failed'])} failed"
    )
    if counts["not_downloaded"]:
        reasons = Counter(e.reason or "skipped" for e in counts["not_downloaded"])
        line += (
            f"   ({len(counts['not_downloaded'])} link{'s' if len(counts['not_downloaded']) != 1 else ''} "
            "not downloaded: " + "; ".join(f"{r}" + (f" ×{n}" if n > 1 else "") for r, n in reasons.items()) + ")"
        )
    out.append(line)
    out.append("documents by status: " + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none"))

    lines = document_lines(summary)
    if lines:
        shown = [ln for ln in lines if ln[0] != "loaded"][:MAX_LISTED]
        loaded = [ln for ln in lines if ln[0] == "loaded"]
        shown += loaded[: max(0, MAX_LISTED - len(shown))]
        ws = [max(wcswidth(ln[i]) for ln in shown) for i in range(4)]
        out.append("documents:")
        for status, year, region, dept, name, reason in shown:
            out.append(
                f"  {_pad(status, ws[0])}  {_pad(year, ws[1])}  {_pad(region, ws[2])}  {_pad(dept, ws[3])}  "
                f"{name}" + (f": {reason}" if reason else "")
            )
        if len(lines) > len(shown):
            out.append(f"  … and {len(lines) - len(shown)} more (`budget-etl report` lists every document)")

    if summary.warnings:
        names = {sha: (d.get("department") or "?", display_name(d.get("url"))) for sha, d in summary.documents.items()}
        years = {e.sha256: e.year for es in summary.crawled.values() for e in es if e.sha256}
        out.append(
            f"warnings (soft data-quality findings: they do not keep a document from loading): {len(summary.warnings)}"
        )
        for w in summary.warnings:
            dept, name = names.get(w["document_sha256"], ("?", "?"))
            page = f"p. {w['page']}" if w["page"] is not None else "document"
            detail = w["detail"] or f"expected {w['expected']}, printed {w['actual']}"
            out.append(f"  {dept} {years.get(w['document_sha256']) or ''} ({name}) {page}: {w['check_name']}: {detail}")

    rows = {k: v for k, v in summary.rows.items() if k != "superseded"}
    out.append("rows loaded: " + (", ".join(f"{k} {v}" for k, v in sorted(rows.items())) or "none"))
    if summary.rows.get("superseded"):
        out.append(f"older versions superseded by a republished file: {summary.rows['superseded']}")
    if summary.failed_runs:
        out.append(f"failed runs: {', '.join(summary.failed_runs)}")
    if getattr(summary, "source_problems", None):
        out.append("source problems:")
        out += [f"  {problem}" for problem in summary.source_problems]
    if getattr(summary, "interrupted", False):
        out.append(
            "interrupted: "
            + (f"not run: {', '.join(summary.not_run)}; " if summary.not_run else "")
            + "run the same command again to complete"
        )
    out.append(f"time: {seconds:.1f} s")
    return "\n".join(out)
