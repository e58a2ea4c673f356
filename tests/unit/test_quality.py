"""Data-quality expectations on the real seed document (extracted once) and copies with one defect each.

Every test runs the Great Expectations suites through the validate stage's
pure entry point (``judge_documents``) and asserts the exact finding.
"""

from __future__ import annotations

import copy
import hashlib
from decimal import Decimal

import pytest

from assets.normalize.facts import normalize_document
from assets.validate.narrative import PreviousYear, find_quotes
from assets.validate.quality import DocumentInput
from assets.validate.rules import check_document, half_precision, tolerance
from assets.validate.verdicts import judge_documents


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """(ExtractionResult, narrative pages) of the real 2024 伊川县政务服务中心 document, rendered and extracted."""
    from assets.extract.document import extract_document
    from assets.extract.pdf_text import read_pages
    from examples.sample_portal import render_document, seed_document

    pdf = tmp_path_factory.mktemp("seed") / "seed.pdf"
    render_document(seed_document(), pdf)
    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    result = extract_document(pdf, sha)
    table_pages = {p for t in result.tables for p in t.pages}
    pages = [(p.number, p.text) for p in read_pages(pdf) if p.number not in table_pages]
    return result, pages


def judge(result, pages, previous=None):
    validation = judge_documents([DocumentInput(result, normalize_document(result, 2024), 2024, pages, previous)])
    return validation.verdicts[result.document_sha256], validation.evaluation


def row(result, table_type, index):
    return next(r for r in result.table(table_type).rows if r.row_index == index)


def pick(verdict, check):
    return [
        (f["expected"], f["actual"], f["page"], f["row_index"], f["table_type"])
        for f in verdict.findings
        if f["check_name"] == check
    ]


def test_clean_seed_has_no_hard_finding_and_flags_its_own_change_rates(seed):
    result, pages = seed
    verdict, evaluation = judge(result, pages)
    assert verdict.status == "loaded"
    assert verdict.hard == []
    # the real document prints 下降 0.65% for 0.76 万元 off 1146.01 万元 (0.066%), and 1.73% for
    # 19.76 万元 off 1165.01 万元 (1.70%; 1.73% is 19.76 / 1145.25, this year's figure)
    soft = {f["check_name"]: (f["expected"], f["actual"], f["page"]) for f in verdict.soft}
    assert soft == {"narrative_change_pct_total": ("0.07", "0.65", 4), "narrative_change_pct_gpb": ("1.70", "1.73", 4)}
    assert "this year's 1145.25, not last year's" in next(
        f["detail"] for f in verdict.soft if f["check_name"] == "narrative_change_pct_gpb"
    )
    runs = evaluation.runs
    assert runs["totals_reconcile"].success and runs["codes_valid_and_unique"].success
    assert runs["required_tables_present"].rows == 8
    # every narrative figure that a table can confirm was compared (14 amounts, 6 shares, 2 rates)
    counts = {o.check_name: o.evaluated for o in runs["narrative_matches_tables"].outcomes}
    assert counts == {"narrative_amounts": 14, "narrative_percentages": 6, "narrative_change_rates": 2}


def test_wrong_total_row_quarantines_with_expected_actual_page_row(seed):
    result, pages = copy.deepcopy(seed)
    row(result, "gpb_expenditure", 0).values["total"] = Decimal("1146.25")
    verdict, evaluation = judge(result, pages)
    assert verdict.status == "quarantined"
    assert pick(verdict, "total_row_equals_sum_of_details") == [("1145.25", "1146.25", 13, 0, "gpb_expenditure")]
    assert pick(verdict, "total_equals_basic_plus_project") == [("1145.25", "1146.25", 13, 0, "gpb_expenditure")]
    assert pick(verdict, "fiscal_gpb_equals_gpb_table") == [("1145.25", "1146.25", 13, 0, "gpb_expenditure")]
    # GX and the plain-Python evaluation agree on the identities
    gx = sorted((f["check_name"], f["expected"], f["actual"]) for f in verdict.hard)
    py = sorted((f["check_name"], f["expected"], f["actual"]) for f in check_document(result))
    assert gx == py
    failed = {o.check_name for o in evaluation.runs["totals_reconcile"].outcomes if not o.success}
    assert failed == {
        "total_row_equals_sum_of_details",
        "total_equals_basic_plus_project",
        "fiscal_gpb_equals_gpb_table",
    }


def test_tolerance_is_the_printed_precision(seed):
    assert tolerance(2) == Decimal("0.015") and tolerance(5) == Decimal("0.03")
    assert half_precision("1145.25") == Decimal("0.005") and half_precision("236") == Decimal("0.5")
    result, pages = copy.deepcopy(seed)
    r = row(result, "gpb_expenditure", 2)  # 2010306: 1120.30 = 884.30 + 236.00
    r.values["total"] = Decimal("1120.31")  # one printed cent: a rounding difference
    assert judge(result, pages)[0].hard == []
    r.values["total"] = Decimal("1120.32")  # two cents on a two-term sum: beyond rounding
    verdict, _ = judge(result, pages)
    assert pick(verdict, "total_equals_basic_plus_project") == [("1120.30", "1120.32", 13, 2, "gpb_expenditure")]


def test_tables_disagreeing(seed):
    result, pages = copy.deepcopy(seed)
    summ = result.table("income_expenditure_summary")
    grand = next(r for r in summ.rows if r.values.get("expense_item") == "支出总计")
    grand.values["expense_amount"] = Decimal("1146.25")
    verdict, _ = judge(result, pages)
    assert verdict.status == "quarantined"
    assert pick(verdict, "income_total_equals_expense_total") == [
        ("1145.25", "1146.25", grand.page, grand.row_index, "income_expenditure_summary")
    ]
    # and the 说明's 支出总计 1145.25 no longer matches the table (a warning)
    assert pick(verdict, "narrative_expense_total") == [("1146.25", "1145.25", 4, None, "income_expenditure_summary")]

    # 基本支出: the basic table adds up on its own but disagrees with the 一般公共预算支出预算表
    result, pages = copy.deepcopy(seed)
    basic = result.table("gpb_basic_expenditure")
    for idx in (0, 1):  # the 合计 row and 30107 绩效工资, both +1.00
        for k in ("total", "personnel"):
            row(result, "gpb_basic_expenditure", idx).values[k] += 1
    verdict, _ = judge(result, pages)
    assert [f["check_name"] for f in verdict.hard] == ["basic_expenditure_agrees_across_tables"]
    assert pick(verdict, "basic_expenditure_agrees_across_tables") == [
        ("909.25", "910.25", basic.pages[0], 0, "gpb_basic_expenditure")
    ]


def test_narrative_number_wrong_loads_with_a_warning(seed):
    result, pages = copy.deepcopy(seed)
    pages = [(n, t.replace("基本支出 909.25 万元，占 79.39%", "基本支出 919.25 万元，占 79.39%", 1)) for n, t in pages]
    verdict, _ = judge(result, pages)
    assert verdict.status == "loaded" and verdict.hard == []
    assert pick(verdict, "narrative_basic") == [("909.25", "919.25", 4, None, "expenditure")]
    # the share next to it is still right (79.39% of 1145.25 is 909.25)
    assert pick(verdict, "narrative_basic_pct") == []


def test_invalid_code_quarantines(seed):
    result, pages = copy.deepcopy(seed)
    row(result, "gpb_expenditure", 2).values["function_code"] = "2010388"  # no such 项
    verdict, evaluation = judge(result, pages)
    assert verdict.status == "quarantined"
    assert pick(verdict, "code_unknown_code") == [(None, "2010388 政务公开审批", 13, 2, "gpb_expenditure")]
    outcome = next(
        o for o in evaluation.runs["codes_valid_and_unique"].outcomes if o.check_name == "code_valid_for_year"
    )
    assert not outcome.success and len(outcome.unexpected_rids) == 1

    # a code of other years: 2040404 查办和预防职务犯罪 was retired after 2018
    result, pages = copy.deepcopy(seed)
    r = row(result, "gpb_expenditure", 6)
    r.values["function_code"], r.values["name"] = "2040404", "查办和预防职务犯罪"
    verdict, _ = judge(result, pages)
    assert pick(verdict, "code_not_valid_in_year") == [(None, "2040404 查办和预防职务犯罪", 13, 6, "gpb_expenditure")]
    assert verdict.status == "quarantined"


def test_missing_table_quarantines(seed):
    result, pages = copy.deepcopy(seed)
    result.tables = [t for t in result.tables if t.table_type != "revenue"]
    verdict, _ = judge(result, pages)
    assert verdict.status == "quarantined"
    assert pick(verdict, "required_table_present") == [("revenue", "missing", None, None, "revenue")]
    # an explicitly empty table (此表无数据) is fine: the seed's 三公 table is one
    assert seed[0].table("three_public").empty


def test_repeated_row_breaks_the_grain(seed):
    result, pages = copy.deepcopy(seed)
    gpb = result.table("gpb_expenditure")
    dup = copy.deepcopy(gpb.rows[-1])  # 2101199 printed twice
    dup.row_index = max(r.row_index for r in gpb.rows) + 1
    gpb.rows.append(dup)
    verdict, _ = judge(result, pages)
    grain = pick(verdict, "one_row_per_grain")
    assert grain == [
        ("1 row", f"2 rows (rows 6, {dup.row_index})", 13, 6, "gpb_expenditure"),
        ("1 row", f"2 rows (rows 6, {dup.row_index})", 13, dup.row_index, "gpb_expenditure"),
    ]
    assert pick(verdict, "total_row_equals_sum_of_details")[0][:2] == ("1145.95", "1145.25")


def test_negative_amount(seed):
    result, pages = copy.deepcopy(seed)
    row(result, "gpb_expenditure", 6).values["wages"] = Decimal("-0.70")
    verdict, _ = judge(result, pages)
    assert ("amount_non_negative", ">= 0", "-0.70", 13, 6) in [
        (f["check_name"], f["expected"], f["actual"], f["page"], f["row_index"]) for f in verdict.hard
    ]


def test_previous_year_change_against_last_years_document(seed):
    result, pages = seed
    prev = PreviousYear("ab" * 32, 2023, {"total": Decimal("1146.01"), "gpb": Decimal("1146.01")})
    verdict, evaluation = judge(result, pages, prev)
    assert verdict.status == "loaded"
    # 收支总计 减少 0.76 agrees with last year's 1146.01; the 一般公共预算 减少 19.76 does not
    assert pick(verdict, "previous_year_change_total") == []
    assert pick(verdict, "previous_year_change_gpb") == [("-0.76", "-19.76", 4, None, None)]
    assert evaluation.runs["previous_year_matches"].rows == 2


def test_quotes_are_read_across_line_breaks_and_full_width():
    quotes, changes = find_quotes(
        [(3, "某单位 2024 年支出合计 １１４５.25 万元，其中：基本支出 909.25 万\n元，占 79.39%；项\n目支出 236 万元")]
    )
    got = {q.key: (q.text, q.page) for q in quotes}
    assert got == {
        "expense_year": ("1145.25", 3),
        "basic": ("909.25", 3),
        "basic_pct": ("79.39", 3),
        "project": ("236", 3),
    }
    assert changes == []
