"""Documents → the DataFrames the GX suites validate → findings per document.

Pure apart from GX itself (no Dagster, no database): the asset passes in what
it read (page texts, last year's totals).  Every frame row carries an integer
``rid`` and the finding it becomes when an expectation marks it unexpected,
so each failed expectation maps back to a document, page and row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from assets.normalize.codes import check_code
from assets.normalize.facts import NormalizedDocument
from assets.records import ExtractionResult
from assets.validate.narrative import PreviousYear, narrative_comparisons, previous_year_comparisons
from assets.validate.rules import FEN_PER_UNIT, Comparison, _label, document_comparisons
from expectations.runner import ExpectationOutcome, SuiteRun, run_suite
from expectations.suites import HARD_SUITES, SOFT_SUITES, non_negative_fields, required_tables, suite
from warehouse_schema import registry


def table_name(table_type: str) -> str:
    """The canonical Chinese title of a table type (the registry's ``name``)."""
    try:
        return registry.current().table_type(table_type).name
    except KeyError:
        return table_type


@dataclass
class DocumentInput:
    result: ExtractionResult
    normalized: NormalizedDocument
    year: int | None = None
    pages: list[tuple[int | None, str]] | None = None  # text of the non-table pages (None: result.narrative)
    previous: PreviousYear | None = None  # last year's loaded document of the same department


@dataclass
class Frame:
    df: pd.DataFrame
    records: list[dict[str, dict[str, Any]]]  # rid → {expectation check_name → finding}


@dataclass
class Evaluation:
    runs: dict[str, SuiteRun]
    findings: dict[str, list[dict[str, Any]]]  # document → findings (from every suite)
    failures: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)  # suite → check → findings


# --------------------------------------------------------------------------- frames


def _ceil_ticks(value: Decimal, ticks: int) -> int:
    return int(math.ceil(value * ticks))


def comparison_frame(comparisons: list[Comparison], group_of) -> Frame:
    rows, records = [], []
    for c in comparisons:
        group = group_of(c)
        f = c.finding()
        f["document_sha256"] = c.document_sha256
        rows.append(
            {
                "rid": len(rows),
                "document_sha256": c.document_sha256,
                "group": group,
                "abs_residual": _ceil_ticks(abs(c.residual), c.ticks()),
                "tolerance": _ceil_ticks(c.tolerance, c.ticks()),
            }
        )
        records.append({group: f})
    cols = ["rid", "document_sha256", "group", "abs_residual", "tolerance"]
    return Frame(pd.DataFrame(rows, columns=cols).astype({"abs_residual": "int64", "tolerance": "int64"}), records)


def _narrative_group(c: Comparison) -> str:
    if c.check_name.startswith("narrative_change_pct"):
        return "narrative_change_rates"
    return "narrative_percentages" if c.unit == "%" else "narrative_amounts"


def codes_frame(docs: list[DocumentInput]) -> Frame:
    """One row per coded fact row (as the load writes them), with its catalog status and grain."""
    rows, records = [], []
    for d in docs:
        sha = d.result.document_sha256
        year = d.year or d.result.fiscal_year
        titles = {t.table_type: t.title for t in d.result.tables}
        keyed: list[tuple[dict, str, str, str]] = []
        for fact_table, code_key, name_key in (
            ("fact_function_expenditure", "function_code", "function_name"),
            ("fact_basic_economic", "econ_code", "econ_name"),
        ):
            seen: set[tuple[str, int]] = set()
            unit = {}
            for rec in d.normalized.facts.get(fact_table, []):
                key = (rec["table_type"], rec["row_index"])
                if key in seen:  # a second table of the same type: the load keeps the first
                    continue
                seen.add(key)
                code = rec.get(code_key)
                if rec["row_kind"] == "subtotal" and rec.get("unit_code") and not code:
                    unit[rec["table_type"]] = rec["unit_code"]
                if not code or rec["row_kind"] in ("total", "extension", "prior", "change"):
                    continue
                unit_key = rec.get("unit_code") or rec.get("unit_name") or unit.get(rec["table_type"], "")
                keyed.append((rec, code, rec.get(name_key) or "", unit_key))
        counts: dict[tuple, list[int]] = {}
        for rec, code, _, unit_key in keyed:
            if rec["row_kind"] == "detail":
                counts.setdefault((rec["table_type"], unit_key, code), []).append(rec["row_index"])
        for rec, code, name, unit_key in keyed:
            res = check_code(code, name or None, year)
            title = titles.get(rec["table_type"], rec["table_type"])
            base = {
                "document_sha256": sha,
                "severity": "hard",
                "page": rec["page"],
                "row_index": rec["row_index"],
                "table_type": rec["table_type"],
            }
            dup = counts.get((rec["table_type"], unit_key, code), [])
            rows.append(
                {
                    "rid": len(rows),
                    "document_sha256": sha,
                    "table_type": rec["table_type"],
                    "unit_key": unit_key or "",
                    "code": code,
                    "kind": rec["row_kind"],
                    "code_status": res.status,
                }
            )
            records.append(
                {
                    "code_valid_for_year": dict(
                        base,
                        check_name=f"code_{res.status}",
                        expected=res.canonical_name,
                        actual=f"{code} {name}".strip(),
                        detail=f"{title}: {res.detail}",
                    ),
                    "one_row_per_grain": dict(
                        base,
                        check_name="one_row_per_grain",
                        expected="1 row",
                        actual=f"{len(dup)} rows (rows {', '.join(map(str, dup))})",
                        detail=f"{title}: code {code} is printed {len(dup)} times for 单位 {unit_key or '(none)'}",
                    ),
                }
            )
    cols = ["rid", "document_sha256", "table_type", "unit_key", "code", "kind", "code_status"]
    return Frame(pd.DataFrame(rows, columns=cols), records)


def amounts_frame(docs: list[DocumentInput]) -> Frame:
    fields = non_negative_fields()
    rows, records = [], []
    for d in docs:
        sha = d.result.document_sha256
        for t in d.result.tables:
            wanted = fields.get(t.table_type)
            if not wanted:
                continue
            fen = FEN_PER_UNIT.get(t.unit, FEN_PER_UNIT["万元"])
            for r in t.rows:
                if r.kind in ("prior", "change"):  # last year's row and the change may be negative
                    continue
                for name in wanted:
                    v = r.values.get(name)
                    if not isinstance(v, Decimal):
                        continue
                    rows.append(
                        {"rid": len(rows), "document_sha256": sha, "amount_fen": int((v * fen).to_integral_value())}
                    )
                    records.append(
                        {
                            "amount_non_negative": {
                                "document_sha256": sha,
                                "check_name": "amount_non_negative",
                                "severity": "hard",
                                "expected": ">= 0",
                                "actual": str(v),
                                "page": r.page,
                                "row_index": r.row_index,
                                "table_type": t.table_type,
                                "detail": f"{t.title}: {_label(r) or r.kind} {name} = {v} {t.unit} is negative",
                            }
                        }
                    )
    return Frame(
        pd.DataFrame(rows, columns=["rid", "document_sha256", "amount_fen"]).astype({"amount_fen": "int64"}), records
    )


def tables_frame(docs: list[DocumentInput]) -> Frame:
    rows, records = [], []
    for d in docs:
        sha = d.result.document_sha256
        for table_type, severity in required_tables().items():
            t = d.result.table(table_type)
            presence = "missing" if t is None else ("empty" if t.empty or not t.rows else "present")
            rows.append({"rid": len(rows), "document_sha256": sha, "table_type": table_type, "presence": presence})
            records.append(
                {
                    "required_table_present": {
                        "document_sha256": sha,
                        "check_name": "required_table_present",
                        "severity": severity,
                        "expected": table_type,
                        "actual": presence,
                        "page": None,
                        "row_index": None,
                        "table_type": table_type,
                        "detail": f"required table {table_name(table_type)} ({table_type}) not found in the "
                        "document (neither printed with rows nor marked empty)",
                    }
                }
            )
    return Frame(pd.DataFrame(rows, columns=["rid", "document_sha256", "table_type", "presence"]), records)


def facts_frame(loads) -> Frame:
    """The fact rows the load stage will write (``DocumentLoad`` s), keyed as the warehouse keys them."""
    rows, records = [], []
    for load in loads:
        for name, facts in load.facts.items():
            for rec in facts:
                rows.append(
                    {
                        "rid": len(rows),
                        "document_sha256": rec["document_sha256"],
                        "table_type": rec["table_type"],
                        "row_index": rec["row_index"],
                    }
                )
                records.append(
                    {
                        "fact_key_unique": {
                            "document_sha256": rec["document_sha256"],
                            "check_name": "fact_key_unique",
                            "severity": "hard",
                            "expected": "1 row",
                            "actual": "duplicate",
                            "page": rec["page"],
                            "row_index": rec["row_index"],
                            "table_type": rec["table_type"],
                            "detail": f"core.{name}: key repeated",
                        }
                    }
                )
    return Frame(pd.DataFrame(rows, columns=["rid", "document_sha256", "table_type", "row_index"]), records)


def build_frames(docs: list[DocumentInput], suites: tuple[str, ...] = HARD_SUITES + SOFT_SUITES) -> dict[str, Frame]:
    frames: dict[str, Frame] = {}
    if "totals_reconcile" in suites:
        comps = [c for d in docs for c in document_comparisons(d.result)]
        frames["totals_reconcile"] = comparison_frame(comps, lambda c: c.check_name)
    if "narrative_matches_tables" in suites:
        comps = []
        for d in docs:
            for c in narrative_comparisons(d.result, d.pages):
                c.document_sha256 = d.result.document_sha256
                comps.append(c)
        frames["narrative_matches_tables"] = comparison_frame(comps, _narrative_group)
    if "previous_year_matches" in suites:
        comps = []
        for d in docs:
            for c in previous_year_comparisons(d.result, d.previous, d.pages):
                c.document_sha256 = d.result.document_sha256
                comps.append(c)
        frames["previous_year_matches"] = comparison_frame(comps, lambda c: "previous_year_change")
    if "codes_valid_and_unique" in suites:
        frames["codes_valid_and_unique"] = codes_frame(docs)
    if "amounts_non_negative" in suites:
        frames["amounts_non_negative"] = amounts_frame(docs)
    if "required_tables_present" in suites:
        frames["required_tables_present"] = tables_frame(docs)
    return frames


# --------------------------------------------------------------------------- evaluation


def run_frames(frames: dict[str, Frame]) -> Evaluation:
    """Run each frame's GX suite; every unexpected row becomes its document's finding."""
    runs: dict[str, SuiteRun] = {}
    findings: dict[str, list[dict[str, Any]]] = {}
    failures: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, frame in frames.items():
        run = run_suite(suite(name), frame.df)
        runs[name] = run
        per_check = failures.setdefault(name, {})
        for o in run.outcomes:
            for rid in o.unexpected_rids:
                f = frame.records[rid].get(o.check_name)
                if f is None:
                    continue
                per_check.setdefault(o.check_name, []).append(f)
                findings.setdefault(f["document_sha256"], []).append(
                    {k: v for k, v in f.items() if k != "document_sha256"}
                )
            if o.error:  # an expectation that could not evaluate is a failure of every document it covers
                per_check.setdefault(o.check_name, [])
    return Evaluation(runs, findings, failures)


def evaluate(docs: list[DocumentInput], suites: tuple[str, ...] = HARD_SUITES + SOFT_SUITES) -> Evaluation:
    return run_frames(build_frames(docs, suites))


def outcomes_of(evaluation: Evaluation, suite_name: str) -> list[ExpectationOutcome]:
    run = evaluation.runs.get(suite_name)
    return run.outcomes if run else []
