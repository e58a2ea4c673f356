"""The real corpus (``../shared/real-corpus``) and its ground truth, for tests and ``bench/bench_real.py``.

* :func:`manifest`: the corpus's files with their city, division code and kind (MANIFEST.tsv);
* :func:`truths`: the truth files written by reading the pages (``tests/real_corpus/truth/<city>/<file>.yaml``:
  every 一般公共预算支出 项 row, every 基本支出 经济分类 款 row, the 三公 figures, amounts as printed);
* :func:`stage_sources`: a sources file with one folder source per city over chosen files (symlinks);
* :func:`compare_warehouse`: the warehouse's ``mart`` rows against the truth, amount by amount, exactly
  (in 元: the printed amount × its unit), with precision (rows the warehouse has that the truth has not).
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from assets.extract.evaluate import CellCounts

REPO = Path(__file__).resolve().parents[1]
TRUTH_DIR = REPO / "tests" / "real_corpus" / "truth"
UNIT_YUAN = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000), "亿元": Decimal(100000000)}


def corpus_dir() -> Path:
    return Path(os.environ.get("BUDGET_REAL_CORPUS", REPO.parent / "shared" / "real-corpus" / "renwu-2026"))


@dataclass(frozen=True)
class Entry:
    path: str  # under the corpus dir: "003_深圳/2026年深圳市统计局部门预算.pdf"
    region_code: str
    region_name: str
    kind: str  # budget | narrative | html | unrelated | other_year | scan | national | partial
    why: str
    sha256: str
    pages: int

    @property
    def city(self) -> str:
        return self.path.split("/", 1)[0]


def manifest(root: Path | None = None) -> list[Entry]:
    root = root or corpus_dir()
    with open(root / "MANIFEST.tsv", encoding="utf-8") as fh:
        return [
            Entry(
                r["path"],
                r["region_code"],
                r["region_name"],
                r["kind"],
                r["why"],
                r["sha256"],
                int(r["pages"]) if r["pages"].isdigit() else 0,
            )
            for r in csv.DictReader(fh, delimiter="\t")
        ]


def truths() -> list[dict]:
    """Every truth file, with ``_file`` (its path) added."""
    out = []
    for p in sorted(TRUTH_DIR.rglob("*.yaml")):
        t = yaml.safe_load(p.read_text(encoding="utf-8"))
        t["_file"] = str(p.relative_to(TRUTH_DIR))
        out.append(t)
    return out


def stage_sources(entries: list[Entry], out: Path, root: Path | None = None) -> Path:
    """A sources file with one ``folder:`` source per city holding (as symlinks) the given files, each
    distinct file once; returns its path."""
    root = root or corpus_dir()
    cities: dict[str, Entry] = {}
    seen: set[tuple[str, str]] = set()
    for e in entries:
        if (e.city, e.sha256) in seen:
            continue
        seen.add((e.city, e.sha256))
        folder = out / e.city
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / Path(e.path).name
        if not link.exists():
            link.symlink_to(root / e.path)
        cities.setdefault(e.city, e)
    lines = ["sources:"]
    for city, e in sorted(cities.items()):
        lines.append(f'  - {{region_code: "{e.region_code}", region_name: {e.region_name}, folder: "{out / city}"}}')
    path = out / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- comparison


@dataclass
class Counts(CellCounts):
    """Amounts of a truth section: ``truth`` in the truth file, ``extracted`` in the warehouse for the sections
    the truth covers, ``correct`` equal on the matching row; precision and recall as the extractor's own."""

    differences: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        super().add(other)
        self.differences += other.differences


def _yuan(printed, unit: str) -> Decimal | None:
    if printed is None:
        return None
    return (Decimal(str(printed)) * UNIT_YUAN[unit]).quantize(Decimal("0.01"))


def _same(want: Decimal | None, got) -> bool:
    """A blank truth cell (None) is 0 in the warehouse (one rule for blanks and printed zeros)."""
    got = Decimal(str(got)) if got is not None else Decimal(0)
    return (want or Decimal(0)) == got


def _rows(conn, sql: str, sha: str) -> list[dict]:
    import sqlalchemy as sa

    return [dict(r._mapping) for r in conn.execute(sa.text(sql), {"s": sha})]


SECTIONS = {
    "function_expenditure": (
        "SELECT function_code AS code, unit_name, total_yuan AS total, basic_yuan AS basic, project_yuan AS project "
        "FROM mart.expenditure_by_function WHERE document_sha256 = :s",
        ("total", "basic", "project"),
    ),
    "basic_economic": (
        "SELECT econ_code AS code, total_yuan AS total, personnel_yuan AS personnel, public_yuan AS public "
        "FROM mart.basic_expenditure_by_economic WHERE document_sha256 = :s",
        ("total", "personnel", "public"),
    ),
}
THREE_PUBLIC = ("total", "outbound", "vehicle_total", "vehicle_purchase", "vehicle_operation", "reception")


def compare_document(conn, truth: dict) -> dict[str, Counts]:
    """The warehouse's mart rows of one document against its truth, per section."""
    sha, unit = truth["sha256"], truth.get("unit") or "万元"
    out: dict[str, Counts] = {}
    for section, (sql, fields) in SECTIONS.items():
        want = truth.get(section)
        if not want or want.get("empty"):
            continue
        out[section] = _compare_section(section, want, _rows(conn, sql, sha), fields, unit)
    tp = truth.get("three_public")
    if tp and not tp.get("empty"):
        rows = _rows(
            conn,
            "SELECT "
            + ", ".join(f"{f}_yuan AS {f}" for f in THREE_PUBLIC)
            + " FROM mart.three_public WHERE document_sha256 = :s",
            sha,
        )
        out["three_public"] = _compare_three_public(tp, rows, unit)
    return out


def _compare_section(section: str, want: dict, rows: list[dict], fields: tuple[str, ...], unit: str) -> Counts:
    """A section's truth rows against the warehouse's rows, matched by code (and 单位 when the truth names it)."""
    c = Counts()
    got = defaultdict(list)
    for r in rows:
        got[str(r["code"])].append(r)
    for row in want.get("rows") or []:
        code = str(row.get("code") or "")
        c.truth += sum(1 for f in fields if row.get(f) is not None)
        cands = got.get(code) or []
        if section == "function_expenditure" and row.get("unit_name"):
            cands = [r for r in cands if r.get("unit_name") == row["unit_name"]] or cands
        if not cands:
            c.differences.append(f"{section} {code} {row.get('name')}: missing")
            continue
        r = cands.pop(0)
        got[code] = [x for x in got[code] if x is not r]
        for f in fields:
            w = _yuan(row.get(f), unit)
            if _same(w, r.get(f)):
                c.correct += 1 if row.get(f) is not None else 0
            else:
                c.differences.append(f"{section} {code} {f}: truth {w}, warehouse {r.get(f)}")
    # precision: every amount the warehouse holds for the section (rows the truth has not count too)
    c.extracted = c.correct + sum(1 for d in c.differences if not d.endswith(": missing"))
    c.extracted += sum(sum(1 for f in fields if r.get(f)) for rs in got.values() for r in rs)
    for rs in got.values():
        for r in rs:
            c.differences.append(f"{section} {r['code']}: extra row in the warehouse")
    return c


def _compare_three_public(tp: dict, rows: list[dict], unit: str) -> Counts:
    """The 三公 figures of the truth against the warehouse's one row."""
    c = Counts()
    got = rows[0] if rows else {}
    if not rows and all(not Decimal(str(tp.get(f) or 0)) for f in THREE_PUBLIC):
        # printed as a row of zeros with "本表无数据": an empty table, no row in the warehouse
        got = {f: Decimal(0) for f in THREE_PUBLIC}
        rows = [got]
    for f in THREE_PUBLIC:
        if tp.get(f) is None:
            continue
        c.truth += 1
        c.extracted += 1 if got.get(f) is not None else 0
        if got and _same(_yuan(tp.get(f), unit), got.get(f)):
            c.correct += 1
        else:
            c.differences.append(f"三公 {f}: truth {_yuan(tp.get(f), unit)}, warehouse {got.get(f)}")
    if len(rows) != 1:
        c.differences.append(f"三公: {len(rows)} rows in the warehouse, one expected")
    return c


def compare_warehouse(engine, docs: list[dict]) -> dict[str, dict[str, Counts]]:
    """Per truth file: per section, the counts and the differences."""
    with engine.connect() as conn:
        return {t["_file"]: compare_document(conn, t) for t in docs}
