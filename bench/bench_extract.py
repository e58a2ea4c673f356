"""Extraction benchmark: accuracy against ground truth and speed against bare camelot.

    python bench/bench_extract.py [--out DIR] [--corpus both|full|xlsx|small] [--no-default-camelot]

Builds the generated corpus (``examples.sample_portal``, every variant; by
default ``both`` producers: reportlab, and office workbooks exported by
LibreOffice headless), runs ``extract_document`` on each PDF and compares it
with the document's truth JSON.  Prints, per producer:

* documents extracted exactly (every table, row, kind, code, name, amount);
* cell-level precision and recall of amounts per table type (an amount counts
  as correct when it is on the matching row, in the matching field, equal to
  the cent);
* the documents that do not round-trip, with their variants and number of
  differences;
* pages/s of the extraction, and the time of bare ``camelot.read_pdf`` on the
  same pages: once with the settings of the fast path (lattice, vector engine,
  copy_text, split_text) and once with camelot's defaults (lattice, combined
  engine), with the ratio extraction / bare camelot.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.extract.document import extract_document, table_pages  # noqa: E402
from assets.extract.evaluate import CellCounts, compare_document  # noqa: E402
from assets.extract.pdf_text import UnreadableDocument, check_text_layer, read_pages  # noqa: E402


def bare_camelot(path: Path, pages: list[int], **kwargs) -> float:
    import camelot

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        camelot.read_pdf(str(path), pages=",".join(map(str, pages)), suppress_stdout=True, **kwargs)
    return time.perf_counter() - started


def camelot_times(pdf: Path, default_engine: bool) -> tuple[int, float, float]:
    """Bare camelot on the pages extraction reads (from the first table title on): ``(pages, seconds with
    the fast path's settings, seconds with camelot's defaults (0 unless ``default_engine``))``; no pages
    for a document without a text layer."""
    pages = read_pages(pdf)
    try:
        check_text_layer(pages)
    except UnreadableDocument:
        return 0, 0.0, 0.0
    _, same = table_pages(pages)
    fast = bare_camelot(pdf, same, flavor="lattice", engine="vector", copy_text=["h", "v"], split_text=True)
    return len(same), fast, bare_camelot(pdf, same) if default_engine else 0.0


def print_cells(producer: str, cells: dict[str, CellCounts], exact: int, docs: int) -> None:
    """One producer's documents exact and its amounts' precision and recall per table type."""
    print()
    print(f"producer {producer}: {exact}/{docs} documents exact")
    print(f"{'table type':30} {'truth':>7} {'extracted':>9} {'correct':>8} {'precision':>9} {'recall':>8}")
    total = CellCounts()
    for key in sorted(cells):
        c = cells[key]
        total.add(c)
        print(f"{key:30} {c.truth:7d} {c.extracted:9d} {c.correct:8d} {c.precision:9.2%} {c.recall:8.2%}")
    print(
        f"{'all amounts':30} {total.truth:7d} {total.extracted:9d} {total.correct:8d} "
        f"{total.precision:9.2%} {total.recall:8.2%}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="corpus directory (built there if it has no truth/index.json)")
    ap.add_argument(
        "--corpus",
        default="both",
        choices=["both", "full", "xlsx", "small"],
        help="both: the reportlab full corpus and the xlsx (LibreOffice) corpus",
    )
    ap.add_argument(
        "--no-default-camelot",
        action="store_true",
        help="skip timing camelot with its default (combined) engine, ≈0.2 s/page",
    )
    ap.add_argument("--show", type=int, default=20, help="differences to print")
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="bench_extract_"))
    index = out / "truth" / "index.json"
    if not index.exists():
        from examples.sample_portal import build_portal, office

        started = time.perf_counter()
        build_portal(out, corpus=args.corpus)
        print(f"built the {args.corpus} corpus in {out} in {time.perf_counter() - started:.1f}s")
        st = office.STATS
        if st["converted"] or st["cached"]:
            per = f", {st['seconds'] / st['converted']:.2f}s per workbook" if st["converted"] else ""
            print(
                f"LibreOffice: {st['converted']} workbooks converted in {st['starts']} starts, "
                f"{st['seconds']:.1f}s{per}; {st['cached']} PDFs from the cache ({office.cache_dir()})"
            )
    docs = json.loads(index.read_text(encoding="utf-8"))["documents"]

    # warm up imports (camelot, playa, pdfium) outside the timings
    first = next(d for d in docs if d["doc_type"] == "budget" and "seed" in d["variants"])
    extract_document(out / first["pdf"], "warmup")

    cells: dict[str, dict[str, CellCounts]] = {}  # producer → table type → counts
    exact, differences, flavors, statuses = Counter(), [], Counter(), Counter()
    docs_of, failing = Counter(), []
    t_extract = t_fast = t_default = 0.0
    pages_total = pages_camelot = 0
    for d in docs:
        pdf = out / d["pdf"]
        truth = json.loads((out / d["truth"]).read_text(encoding="utf-8"))
        started = time.perf_counter()
        result = extract_document(pdf, d["doc_id"])
        t_extract += time.perf_counter() - started
        pages_total += result.page_count
        statuses[result.status] += 1
        cmp = compare_document(result, truth)
        producer = d.get("producer", "reportlab")
        docs_of[producer] += 1
        exact[producer] += cmp.exact
        if not cmp.exact:
            failing.append(
                f"{producer:9} {d['doc_id']:24} {len(cmp.differences):4d} differences  {','.join(d['variants'])}"
            )
        differences += [f"{d['doc_id']} {','.join(d['variants'])}: {x}" for x in cmp.differences]
        for key, c in cmp.cells.items():
            cells.setdefault(producer, {}).setdefault(key, CellCounts()).add(c)
        flavors.update(t.flavor for t in result.tables if t.flavor)
        if result.status != "ok":
            continue
        n, fast, default = camelot_times(pdf, not args.no_default_camelot)
        pages_camelot += n
        t_fast += fast
        t_default += default

    print(
        f"documents: {len(docs)} ({dict(statuses)}), {pages_total} pages; "
        f"camelot reads {pages_camelot} of them (from the first table title on)"
    )
    print(
        f"exact round trips: {sum(exact.values())}/{len(docs)} documents ("
        + ", ".join(f"{p}: {exact[p]}/{n}" for p, n in sorted(docs_of.items()))
        + ")"
    )
    for producer in sorted(cells):
        print_cells(producer, cells[producer], exact[producer], docs_of[producer])
    if failing:
        print(f"\ndocuments that do not round-trip ({len(failing)}):")
        for line in failing:
            print("  ", line)
    print()
    print(f"flavors of the extracted tables: {dict(flavors)}")
    print(
        f"extraction: {pages_total} pages in {t_extract:.2f}s = {pages_total / t_extract:.1f} pages/s "
        f"({t_extract / len(docs):.2f}s per document)"
    )
    print(
        f"bare camelot.read_pdf, same pages, fast-path settings (lattice, engine=vector): {t_fast:.2f}s "
        f"→ extraction / bare = {t_extract / t_fast:.2f}×"
    )
    if not args.no_default_camelot:
        print(
            f"bare camelot.read_pdf, same pages, camelot defaults (lattice, engine=combined): {t_default:.2f}s "
            f"→ extraction / bare = {t_extract / t_default:.2f}×"
        )
    if differences:
        print(f"\n{len(differences)} differences, first {args.show}:")
        for line in differences[: args.show]:
            print("  ", line[:300])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
