"""Round trips against the sample generator's ground truth.

One generated document per variant of the full corpus (``examples.sample_portal``
``VARIANTS`` and ``DEFECTS``), chosen so that a dozen documents cover them all;
each is rendered once and extracted once (module fixture).  Every table must be
found with its type, title, unit, pages and empty flag, every row with its kind,
codes, names and every amount exactly (``assets.extract.evaluate``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assets.extract.document import extract_document
from assets.extract.evaluate import compare_document, is_truth_amount
from examples.sample_portal import render_document
from examples.sample_portal.corpus import DEFECTS, VARIANTS, build_corpus

D = Decimal
TAGS = sorted(VARIANTS) + sorted(DEFECTS)


def _tags(doc) -> set[str]:
    return set(doc.variants) | set(doc.defects)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """tag → (truth, extraction) of one document carrying that variant or defect."""
    docs = build_corpus("full")
    left, chosen = set(TAGS), []
    while left:  # greedy cover: few documents, every tag
        best = max(docs, key=lambda d: len(_tags(d) & left))
        assert _tags(best) & left, f"no generated document carries {sorted(left)}"
        chosen.append(best)
        left -= _tags(best)
    out_dir = tmp_path_factory.mktemp("variants")
    done = {}
    for i, doc in enumerate(chosen):
        pdf = out_dir / f"{i:02d}-{doc.doc_id}.pdf"
        truth = render_document(doc, pdf)
        done[doc.doc_id] = (truth, extract_document(pdf, doc.doc_id))
    return {tag: next(done[d.doc_id] for d in chosen if tag in _tags(d)) for tag in TAGS}


@pytest.mark.parametrize("tag", TAGS)
def test_variant_round_trips_exactly(corpus, tag):
    truth, result = corpus[tag]
    assert tag in truth["variants"] or tag in truth["defects"]
    comparison = compare_document(result, truth)
    assert comparison.differences == []
    for key, counts in comparison.cells.items():  # every printed amount, none invented
        assert counts.correct == counts.truth == counts.extracted, key


def test_seed_document_every_amount(corpus):
    """The real 2024 伊川县政务服务中心 document: every amount of every table, with provenance."""
    truth, result = corpus["seed"]
    assert compare_document(result, truth).differences == []
    n_truth = sum(1 for t in truth["tables"].values() for r in t["rows"] for v in r.values() if is_truth_amount(v))
    n_got = sum(1 for t in result.tables for r in t.rows for v in r.values.values() if isinstance(v, Decimal))
    assert n_truth == n_got == 168  # the seed prints 168 amounts in its tables
    assert (result.fiscal_year, result.department, result.page_count) == (2024, "伊川县政务服务中心", 20)
    gpb = result.table("gpb_expenditure")
    row = next(r for r in gpb.rows if r.values.get("function_code") == "2010306")
    assert (row.page, row.row_index, row.table_index, row.kind) == (13, 2, 0, "detail")
    assert row.values["name"] == "政务公开审批"
    assert (row.values["total"], row.values["basic_total"], row.values["wages"], row.values["project_total"]) == (
        D("1120.30"),
        D("884.30"),
        D("857.75"),
        D("236.00"),
    )
    assert [r.values["total"] for r in gpb.rows if r.kind == "detail"] == [
        D("1120.30"),
        D("3.35"),
        D("14.28"),
        D("6.62"),
        D("0.70"),
    ]
    fiscal = result.table("fiscal_appropriation")
    assert fiscal.pages == [11, 12] and fiscal.rows[-1].kind == "total"
    assert fiscal.rows[-1].values["expense_gpb_fiscal"] == D("1145.25")
    perf = result.table("dept_performance")
    assert perf.extra == {
        "department": "伊川县政务服务中心",
        "budget_total": D("1145.25"),
        "basic_total": D("909.25"),
        "project_total": D("236.00"),
    }
    assert result.table("gov_fund_expenditure").empty
    assert result.unrecognised == []  # the "附件：…部门预算表" line over the narrative is no table


def test_rejections_name_their_reason(corpus):
    _, scanned = corpus["scanned"]
    assert scanned.status == "rejected" and "image-only (scanned) pages" in scanned.reason
    _, cid = corpus["cid_font"]
    assert cid.status == "rejected" and cid.reason.startswith("fonts without a Unicode map")
    _, final = corpus["final_accounts"]
    assert final.status == "skipped" and "决算" in final.reason and final.tables == []


def test_wrong_total_is_extracted_as_printed(corpus):
    truth, result = corpus["wrong_total"]
    defect = truth["tables"]["gpb_expenditure"]["defect_detail"]
    total = result.table("gpb_expenditure").rows[defect["row"]]
    assert total.kind == "total" and total.values["total"] == D(defect["printed"])  # validation's job to flag it


def test_multipage_tables_keep_each_rows_page(corpus):
    for tag in ("multipage_repeat_header", "multipage_no_header"):
        _, result = corpus[tag]
        long = [t for t in result.tables if len(t.pages) > 1 and t.table_type in ("expenditure", "gpb_expenditure")]
        assert long, tag
        for t in long:
            assert sorted({r.page for r in t.rows}) == t.pages
            assert [r.row_index for r in t.rows] == list(range(len(t.rows)))


def test_fast_path_reads_every_generated_table(corpus):
    _, result = corpus["seed"]
    assert {t.flavor for t in result.tables} == {"lattice/vector"}
    assert all(t.accuracy and t.accuracy > 90 for t in result.tables)


@pytest.fixture(scope="module")
def seed_pdf(tmp_path_factory):
    from examples.sample_portal import seed_document

    pdf = tmp_path_factory.mktemp("seed") / "seed.pdf"
    return pdf, render_document(seed_document(), pdf)


def _without_lattice(monkeypatch, page: int, engines: tuple[str, ...]):
    """As if camelot's lattice engines found no ruled table on ``page`` (rules drawn as an image …)."""
    from assets.extract import document

    real = document._camelot_tables

    def patched(path, pages, flavor, engine=None):
        out = real(path, pages, flavor, engine)
        if flavor == "lattice" and engine in engines:
            out.pop(page, None)
        return out

    monkeypatch.setattr(document, "_camelot_tables", patched)


def test_fallback_to_the_combined_engine_is_recorded(seed_pdf, monkeypatch):
    pdf, truth = seed_pdf
    page = truth["tables"]["gpb_expenditure"]["pages"][0]
    _without_lattice(monkeypatch, page, ("vector",))
    result = extract_document(pdf, "seed")
    assert compare_document(result, truth).differences == []
    assert result.table("gpb_expenditure").flavor == "lattice/combined"
    assert {t.flavor for t in result.tables if t.table_type != "gpb_expenditure"} == {"lattice/vector"}


def test_fallback_to_hybrid_reads_a_grid_table_exactly(seed_pdf, monkeypatch):
    """Without ruled lines: hybrid's rows start with the title and 部门名称 lines, merged header
    cells hold their text once; both are repaired and every amount still comes out exact."""
    pdf, truth = seed_pdf
    page = truth["tables"]["gpb_basic_expenditure"]["pages"][0]
    _without_lattice(monkeypatch, page, ("vector", "combined"))
    result = extract_document(pdf, "seed")
    assert result.table("gpb_basic_expenditure").flavor == "hybrid"
    assert compare_document(result, truth).differences == []
