"""``python -m examples.sample_portal build --out DIR [--base-url URL] [--corpus small|full|xlsx|both]``"""

from __future__ import annotations

import argparse
import sys
import time

from .portal import DEFAULT_BASE_URL, build_portal


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m examples.sample_portal", description="Deterministic sample 部门预算 portal generator"
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="render the corpus and write the static portal")
    b.add_argument("--out", required=True, help="output directory")
    b.add_argument("--base-url", default=DEFAULT_BASE_URL, help="URL the portal will be served at")
    b.add_argument(
        "--corpus",
        choices=["small", "full", "xlsx", "both"],
        default="small",
        help="xlsx: the office-workbook producer (LibreOffice), both: full + xlsx",
    )
    a = ap.parse_args(argv)
    t0 = time.time()
    idx = build_portal(a.out, base_url=a.base_url, corpus=a.corpus)
    print(
        f"wrote {len(idx['documents'])} documents to {a.out} in {time.time() - t0:.1f}s; "
        f"sources: {a.out}/sources.yaml; truth: {a.out}/truth/index.json"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
