"""Validate-stage benchmark: GX import, context, and the suites over a partition of N documents.

    python bench/bench_quality.py [--docs 1,10,100]

Renders and extracts the real seed document once, then validates partitions of
N copies (each a distinct sha256, as N departments of one county × year
would be) with ``judge_documents``: one GX validation per suite per partition,
whatever N.  Prints seconds for the GX import, the first validation (context
and suites built) and, per N, the whole verdict and each suite.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default="1,10,100")
    args = ap.parse_args()
    sizes = [int(x) for x in args.docs.split(",")]

    from assets.extract.document import extract_document
    from assets.extract.pdf_text import read_pages
    from assets.normalize.facts import normalize_document
    from assets.validate.quality import DocumentInput
    from examples.sample_portal import render_document, seed_document

    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "seed.pdf"
        render_document(seed_document(), pdf)
        sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
        result = extract_document(pdf, sha)
        table_pages = {p for t in result.tables for p in t.pages}
        pages = [(p.number, p.text) for p in read_pages(pdf) if p.number not in table_pages]

    t = time.perf_counter()
    import great_expectations  # noqa: F401

    print(f"GX import: {time.perf_counter() - t:.2f} s")
    from assets.validate.verdicts import judge_documents

    def docs(n: int) -> list[DocumentInput]:
        out = []
        for i in range(n):
            r = copy.deepcopy(result)
            r.document_sha256 = hashlib.sha256(f"{sha}{i}".encode()).hexdigest()
            out.append(DocumentInput(r, normalize_document(r, 2024), 2024, pages))
        return out

    t = time.perf_counter()
    judge_documents(docs(1))
    print(f"first validation (ephemeral context + suites built): {time.perf_counter() - t:.2f} s")
    for n in sizes:
        batch = docs(n)
        t = time.perf_counter()
        verdicts = judge_documents(batch)
        total = time.perf_counter() - t
        runs = verdicts.evaluation.runs
        rows = sum(r.rows for r in runs.values())
        gx = sum(r.seconds for r in runs.values())
        per = ", ".join(f"{k} {r.rows} rows {r.seconds:.3f} s" for k, r in runs.items())
        print(
            f"{n:>4} documents: {total:.2f} s ({total / n * 1000:.0f} ms/document), {rows} frame rows, "
            f"GX {gx:.2f} s — {per}"
        )


if __name__ == "__main__":
    main()
