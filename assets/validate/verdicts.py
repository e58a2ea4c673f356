"""Each document's verdict: its findings and whether it may reach the analyst views (pure apart from GX).

A hard finding quarantines the document (its facts are loaded but hidden from ``mart``), soft findings are
warnings.  :class:`Validation` is what the validate stage hands on: the verdicts and the partition's GX runs
(which the asset checks report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assets.extract.document_sets import unrecognised_findings
from assets.normalize.facts import NormalizedDocument
from assets.records import STATUS_LOADED, STATUS_QUARANTINED, ExtractionResult
from assets.validate.quality import DocumentInput, Evaluation, evaluate


@dataclass
class Verdict:
    document_sha256: str
    status: str  # loaded | quarantined
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hard(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["severity"] == "hard"]

    @property
    def soft(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["severity"] == "soft"]


@dataclass
class Validation:
    """The validate stage's output for one year × region: document sha256 → :class:`Verdict`, and the
    partition's GX runs (for the asset checks)."""

    verdicts: dict[str, Verdict] = field(default_factory=dict)
    evaluation: Evaluation | None = None

    @property
    def quarantined(self) -> int:
        return sum(1 for v in self.verdicts.values() if v.status == STATUS_QUARANTINED)


def _merge(gx_findings: list[dict[str, Any]], normalize_findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GX findings plus the normalize stage's code findings it did not already report (e.g. variant names)."""
    seen = {(f["check_name"], f.get("table_type"), f.get("row_index")) for f in gx_findings}
    extra = [f for f in normalize_findings if (f["check_name"], f.get("table_type"), f.get("row_index")) not in seen]
    return list(gx_findings) + extra


def judge_documents(docs: list[DocumentInput]) -> Validation:
    """Every document's findings and whether it is quarantined (pure apart from GX)."""
    evaluation = evaluate(docs)
    out = Validation(evaluation=evaluation)
    for d in docs:
        sha = d.result.document_sha256
        findings = _merge(evaluation.findings.get(sha, []), d.normalized.findings)
        findings += unrecognised_findings(d.result)  # info: tables no template knows, recorded with their page
        status = STATUS_QUARANTINED if any(f["severity"] == "hard" for f in findings) else STATUS_LOADED
        out.verdicts[sha] = Verdict(sha, status, findings)
    return out


def judge(result: ExtractionResult, normalized: NormalizedDocument, **kw) -> Verdict:
    """One document's verdict (see :func:`judge_documents`)."""
    return judge_documents([DocumentInput(result, normalized, **kw)]).verdicts[result.document_sha256]
