"""Extraction benchmark: accuracy against ground truth and speed against bare camelot.

    python bench/bench_extract.py [--out DIR] [--corpus full|small] [--no-default-camelot]

Builds the generated corpus (``examples.sample_portal``, every variant), runs
``extract_document`` on each PDF and compares it with the document's truth
JSON.  Prints:

* documents extracted exactly (every table, row, kind, code, name, amount);
* cell-level precision and recall of amounts per table type (an amount counts
  as correct when it is on the matching row, in the matching field, equal to
  the cent);
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="corpus directory (built there if it has no truth/index.json)")
    ap.add_argument("--corpus", default="full", choices=["full", "small"])
    ap.add_argument("--no-default-camelot", action="store_true",
                    help="skip timing camelot with its default (combined) engine, ≈0.2 s/page")
    ap.add_argument("--show", type=int, default=20, help="differences to print")
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="bench_extract_"))
    index = out / "truth" / "index.json"
    if not index.exists():
        from examples.sample_portal import build_portal

        started = time.perf_counter()
        build_portal(out, corpus=args.corpus)
        print(f"built the {args.corpus} corpus in {out} in {time.perf_counter() - started:.1f}s")
    docs = json.loads(index.read_text(encoding="utf-8"))["documents"]

    # warm up imports (camelot, playa, pdfium) outside the timings
    first = next(d for d in docs if d["doc_type"] == "budget" and "seed" in d["variants"])
    extract_document(out / first["pdf"], "warmup")

    cells: dict[str, CellCounts] = {}
    exact, differences, flavors, statuses = 0, [], Counter(), Counter()
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
        exact += cmp.exact
        differences += [f"{d['doc_id']} {','.join(d['variants'])}: {x}" for x in cmp.differences]
        for key, c in cmp.cells.items():
            cells.setdefault(key, CellCounts()).add(c)
        flavors.update(t.flavor for t in result.tables if t.flavor)
        if result.status != "ok":
            continue
        pages = read_pages(pdf)
        try:
            check_text_layer(pages)
        except UnreadableDocument:
            continue
        _, same = table_pages(pages)
        pages_camelot += len(same)
        t_fast += bare_camelot(pdf, same, flavor="lattice", engine="vector", copy_text=["h", "v"], split_text=True)
        if not args.no_default_camelot:
            t_default += bare_camelot(pdf, same)

    print(f"documents: {len(docs)} ({dict(statuses)}), {pages_total} pages; "
          f"camelot reads {pages_camelot} of them (from the first table title on)")
    print(f"exact round trips: {exact}/{len(docs)} documents")
    print()
    print(f"{'table type':30} {'truth':>7} {'extracted':>9} {'correct':>8} {'precision':>9} {'recall':>8}")
    total = CellCounts()
    for key in sorted(cells):
        c = cells[key]
        total.add(c)
        print(f"{key:30} {c.truth:7d} {c.extracted:9d} {c.correct:8d} {c.precision:9.2%} {c.recall:8.2%}")
    print(f"{'all amounts':30} {total.truth:7d} {total.extracted:9d} {total.correct:8d} "
          f"{total.precision:9.2%} {total.recall:8.2%}")
    print()
    print(f"flavors of the extracted tables: {dict(flavors)}")
    print(f"extraction: {pages_total} pages in {t_extract:.2f}s = {pages_total / t_extract:.1f} pages/s "
          f"({t_extract / len(docs):.2f}s per document)")
    print(f"bare camelot.read_pdf, same pages, fast-path settings (lattice, engine=vector): {t_fast:.2f}s "
          f"→ extraction / bare = {t_extract / t_fast:.2f}×")
    if not args.no_default_camelot:
        print(f"bare camelot.read_pdf, same pages, camelot defaults (lattice, engine=combined): {t_default:.2f}s "
              f"→ extraction / bare = {t_extract / t_default:.2f}×")
    if differences:
        print(f"\n{len(differences)} differences, first {args.show}:")
        for line in differences[: args.show]:
            print("  ", line[:300])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
