"""The real corpus through the whole pipeline: how many readable budgets load clean, and how fast.

    python bench/bench_real.py [--corpus DIR] [--only CITY] [--skip-speed]

Ingests every file of ``../shared/real-corpus/renwu-2026`` (one folder source per city, DuckDB, in a temporary
directory) and prints, per city and overall:

* documents by status and reason (the 144 files: 90 readable budgets, 75 distinct, and the negatives);
* the share of readable budgets (MANIFEST kind ``budget``, each distinct file once) loaded with zero hard
  findings, and which negatives (narrative, html, unrelated, other_year, scan, national) were loaded as a
  2026 budget of their city (there must be none);
* hard findings by check, tables recognised per type;
* truth precision and recall of the amounts (``tests/real_corpus/truth``, compared in the ``mart`` views);
* extraction speed: pages/s of ``extract_document`` and of bare ``camelot.read_pdf`` (lattice, vector engine,
  the same settings) on the same pages, and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from examples.real_corpus import compare_warehouse, corpus_dir, manifest, stage_sources, truths  # noqa: E402

NEGATIVE_KINDS = ("narrative", "html", "unrelated", "other_year", "scan", "national")


def ingest(entries, tmp: Path) -> tuple[sa.Engine, float]:
    from assets.crawl.sources import load_sources
    from assets.load.warehouse import Warehouse
    from pipelines.ingest import run_ingest

    sources = stage_sources(entries, tmp / "corpus")
    url = f"duckdb:///{tmp / 'warehouse.duckdb'}"
    Warehouse(url).ensure_schema()
    started = time.perf_counter()
    summary = run_ingest(str(sources), load_sources(sources), data_dir=str(tmp / "data"), warehouse_url=url)
    seconds = time.perf_counter() - started
    if summary.failed_runs:
        print(f"failed runs: {summary.failed_runs}")
    return sa.create_engine(url), seconds


def _documents(engine) -> dict[str, sa.Row]:
    with engine.connect() as conn:
        return {
            r.document_sha256: r
            for r in conn.execute(
                sa.text(
                    "SELECT d.document_sha256, d.status, d.status_reason, d.fiscal_year, d.region_code, "
                    "(SELECT COUNT(*) FROM mart.quality_findings f WHERE f.document_sha256 = d.document_sha256 "
                    " AND f.severity = 'hard') AS hard FROM mart.documents d"
                )
            )
        }


def _manifest_status(engine) -> dict[str, tuple[str, str]]:
    """Files that reached no partition (no year, another region …): their status in raw.manifest."""
    with engine.connect() as conn:
        return {
            r.sha256: (r.status, r.reason)
            for r in conn.execute(sa.text("SELECT sha256, status, reason FROM raw.manifest WHERE sha256 IS NOT NULL"))
        }


def report_statuses(entries, engine) -> None:
    docs, raw = _documents(engine), _manifest_status(engine)
    by_city: dict[str, Counter] = defaultdict(Counter)
    reasons: Counter = Counter()
    clean = total = 0
    clean_city: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wrongly_loaded = []
    seen = set()
    for e in entries:
        if (e.city, e.sha256) in seen:
            continue
        seen.add((e.city, e.sha256))
        d = docs.get(e.sha256)
        status, reason = (d.status, d.status_reason) if d else raw.get(e.sha256, ("missing", None))
        by_city[e.region_name][status] += 1
        if status not in ("loaded",):
            reasons[(e.kind, status, (reason or "")[:90])] += 1
        if e.kind == "budget":
            total += 1
            clean_city[e.region_name][1] += 1
            if d is not None and d.status == "loaded" and d.hard == 0:
                clean += 1
                clean_city[e.region_name][0] += 1
        if (
            e.kind in NEGATIVE_KINDS
            and d is not None
            and d.status == "loaded"
            and d.fiscal_year == 2026
            and d.region_code == e.region_code
        ):
            wrongly_loaded.append(e.path)
    print("\ndocuments by status (each distinct file of a city once)")
    for city, counts in sorted(by_city.items()):
        c = clean_city.get(city)
        share = f"   readable budgets clean {c[0]}/{c[1]}" if c and c[1] else ""
        print(f"  {city:<6} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + share)
    print("\nnot loaded, by kind and reason")
    for (kind, status, reason), n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"  {n:>3} {kind:<10} {status:<11} {reason}")
    print(f"\nreadable budgets loaded with zero hard findings: {clean}/{total} = {100 * clean / max(total, 1):.1f} %")
    print(f"negatives loaded as a 2026 budget of their city: {len(wrongly_loaded)} {wrongly_loaded or ''}")


def report_findings_and_tables(engine) -> None:
    with engine.connect() as conn:
        hard = conn.execute(
            sa.text(
                "SELECT check_name, table_type, COUNT(*) AS n, COUNT(DISTINCT document_sha256) AS docs "
                "FROM mart.quality_findings WHERE severity = 'hard' GROUP BY 1, 2 ORDER BY 3 DESC"
            )
        ).all()
        tables = conn.execute(
            sa.text(
                "SELECT t.table_type, COUNT(*) AS n, SUM(CASE WHEN t.is_empty THEN 1 ELSE 0 END) AS empty "
                "FROM core.extracted_table t JOIN core.document d USING (document_sha256) "
                "WHERE d.status IN ('loaded', 'quarantined') GROUP BY 1 ORDER BY 2 DESC"
            )
        ).all()
    print("\nhard findings by check")
    for r in hard or []:
        print(f"  {r.n:>4} in {r.docs:>2} documents  {r.check_name} ({r.table_type})")
    if not hard:
        print("  none")
    print("\ntables recognised per type (documents loaded or quarantined)")
    for r in tables:
        print(f"  {r.table_type:<28} {r.n:>4}  (empty {r.empty})")


def report_truth(engine, only: str = "") -> None:
    docs = [t for t in truths() if only in t["document"]]
    with engine.connect() as conn:
        status = dict(conn.execute(sa.text("SELECT document_sha256, status FROM core.document")).all())
    held = [t for t in docs if status.get(t["sha256"]) != "loaded"]  # not in the mart, by design
    report = compare_warehouse(engine, [t for t in docs if t not in held])
    per_section: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for sections in report.values():
        for name, c in sections.items():
            per_section[name][0] += c.truth
            per_section[name][1] += c.correct
            per_section[name][2] += c.extracted
    print(f"\ntruth: {len(docs)} documents read off the pages, {len(docs) - len(held)} of them loaded")
    for t in held:
        print(f"  not in the mart ({status.get(t['sha256'], 'missing')}): {t['_file']}")
    for name, (t, ok, ext) in sorted(per_section.items()):
        print(
            f"  {name:<22} amounts {t:>5}  correct {ok:>5}  precision {100 * ok / max(ext, 1):6.2f} %  "
            f"recall {100 * ok / max(t, 1):6.2f} %"
        )
    for f, sections in report.items():
        diffs = [d for c in sections.values() for d in c.differences]
        if diffs:
            print(f"  {f}: {len(diffs)} differences, e.g. {diffs[:3]}")


def report_speed(entries, only: str) -> None:
    """extract_document vs bare camelot (lattice, vector engine, same settings) on the pages it reads."""
    import camelot

    from assets.extract import document as doc
    from assets.extract.vector_rules import install

    budgets = {e.sha256: e for e in entries if e.kind == "budget" and only in e.path}
    root = corpus_dir()
    ours = bare = 0.0
    pages_read = 0
    calls: list[list[int]] = []
    original = doc._camelot_tables

    def spy(path, pages, flavor, engine=None):  # the pages extraction hands to camelot's fast path
        if flavor == "lattice" and engine == "vector":
            calls.append(list(pages))
        return original(path, pages, flavor, engine)

    doc._camelot_tables = spy
    try:
        for e in budgets.values():
            path = root / e.path
            calls.clear()
            t = time.perf_counter()
            doc.extract_document(path, e.sha256)
            ours += time.perf_counter() - t
            pages = sorted({p for c in calls for p in c})
            if not pages:
                continue
            pages_read += len(pages)
            install()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = time.perf_counter()
                camelot.read_pdf(
                    str(path),
                    pages=",".join(map(str, pages)),
                    flavor="lattice",
                    engine="vector",
                    copy_text=["h", "v"],
                    split_text=True,
                    suppress_stdout=True,
                )
                bare += time.perf_counter() - t
    finally:
        doc._camelot_tables = original
    total_pages = sum(e.pages for e in budgets.values())
    print(f"\nextraction speed ({len(budgets)} readable budgets, {total_pages} pages, {pages_read} table pages)")
    print(
        f"  extract_document: {ours:.1f} s = {total_pages / ours:.1f} pages/s of document, "
        f"{pages_read / ours:.1f} table pages/s"
    )
    print(
        f"  bare camelot.read_pdf (lattice, vector, same settings) on the same {pages_read} pages: {bare:.1f} s = "
        f"{pages_read / bare:.1f} pages/s"
    )
    print(f"  ratio extract_document / bare camelot: {ours / bare:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="files whose path contains this (e.g. 003_深圳)")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    entries = [e for e in manifest() if args.only in e.path]
    print(
        f"real corpus: {corpus_dir()}  files {len(entries)}  "
        f"readable budgets {len({e.sha256 for e in entries if e.kind == 'budget'})} distinct"
    )
    with tempfile.TemporaryDirectory(prefix="bench_real_") as tmp:
        engine, seconds = ingest(entries, Path(tmp))
        pages = sum(e.pages for e in {(e.city, e.sha256): e for e in entries}.values())
        print(f"ingest: {seconds:.1f} s for {pages} pages ({pages / seconds:.1f} pages/s, crawl to load)")
        report_statuses(entries, engine)
        report_findings_and_tables(engine)
        report_truth(engine, args.only)
        engine.dispose()
    if not args.skip_speed:
        report_speed(entries, args.only)


if __name__ == "__main__":
    main()
