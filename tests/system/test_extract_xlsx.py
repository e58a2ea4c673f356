"""The second producer: budget workbooks (.xlsx) exported to PDF by LibreOffice headless.

A few documents of the ``xlsx`` corpus (``examples.sample_portal``), chosen so
that they carry every spreadsheet-only variant and the seed in its published
layout, are written as workbooks and converted once (module fixture, one
LibreOffice start, cached by content).  The producer is checked on its own:
the workbook's merged 3-row header, borders and number formats, the pages of
the truth read back from the PDF, every truth amount printed in a ruled cell of
its table's pages (read with pdfplumber, independently of the product's
extractor).  Then the round trip through ``extract_document``: exact, amount by
amount (print titles repeating the title, 项 rows printing only their own level,
merged 类/款 cells split by a page break, unit rows without unit code, header
synonyms, amounts wrapped in their cell).
"""

from __future__ import annotations

import io
import shutil
from collections import Counter
from decimal import Decimal

import pytest

from assets.extract.document import extract_document
from assets.extract.evaluate import compare_document, is_truth_amount
from assets.records import TABLE_GPB_EXPENDITURE, TABLE_REVENUE
from examples.sample_portal import render_document
from examples.sample_portal.corpus import XLSX_VARIANTS, build_corpus

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed: run `make setup`"
)

TAGS = sorted(XLSX_VARIANTS) + ["seed"]


def _tags(doc) -> set[str]:
    return set(doc.variants) | set(doc.defects)


def _chosen():
    docs = [d for d in build_corpus("xlsx") if d.doc_type == "budget"]
    left, chosen = set(TAGS), []
    while left:  # greedy cover: few documents, every spreadsheet variant and the seed
        best = max(docs, key=lambda d: len(_tags(d) & left))
        assert _tags(best) & left, f"no xlsx document carries {sorted(left)}"
        chosen.append(best)
        left -= _tags(best)
    return chosen


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """doc_id → (doc, pdf path, truth, extraction)."""
    from examples.sample_portal.xlsx import convert_documents

    chosen = _chosen()
    convert_documents(chosen)  # one LibreOffice start for all (a no-op when cached)
    out = tmp_path_factory.mktemp("xlsx")
    done = {}
    for i, doc in enumerate(chosen):
        pdf = out / f"{i:02d}-{doc.doc_id}.pdf"
        truth = render_document(doc, pdf)
        done[doc.doc_id] = (doc, pdf, truth, extract_document(pdf, doc.doc_id))
    return done


def _by_tag(rendered, tag):
    return next(v for v in rendered.values() if tag in _tags(v[0]))


# ---------------------------------------------------------------------------
# the producer itself
# ---------------------------------------------------------------------------


def test_corpus_of_both_producers():
    both = build_corpus("both")
    assert len({d.doc_id for d in both}) == len(both)
    assert {d.producer for d in both} == {"reportlab", "xlsx"}
    xlsx = [d for d in both if d.producer == "xlsx"]
    assert len(xlsx) == len(build_corpus("xlsx")) >= 15
    seen = {t for d in xlsx for t in d.variants}
    assert set(XLSX_VARIANTS) <= seen
    assert {
        "seed",
        "unit_yuan",
        "codes_tree",
        "codes_joined",
        "multipage_no_header",
        "multipage_repeat_header",
        "portrait",
        "landscape",
        "fullwidth",
        "wrapped_names",
    } <= seen
    assert any(d.doc_type == "final_accounts" for d in xlsx) and any("wrong_total" in d.defects for d in xlsx)


def test_workbook_is_reproducible_and_laid_out_like_a_published_one():
    from openpyxl import load_workbook

    from examples.sample_portal.corpus import seed_xlsx_document
    from examples.sample_portal.xlsx import workbook_bytes, xlsx_tables

    doc = seed_xlsx_document()
    data = workbook_bytes(doc)
    assert data == workbook_bytes(seed_xlsx_document())  # byte for byte: the conversion cache key
    wb = load_workbook(io.BytesIO(data))
    tables = xlsx_tables(doc)
    assert wb.sheetnames[:2] == ["封面", "说明"] and len(wb.sheetnames) == 2 + len(tables)
    ws = wb[wb.sheetnames[2 + [t.key for t in tables].index(TABLE_GPB_EXPENDITURE)]]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A1:N1" in merged  # the title across the table
    # the seed's published 一般公共预算支出预算表: 科目编码 over two header rows, 类|款|项 on the third,
    # 基本支出 → 小计 / 人员经费 (工资福利支出, 对个人和家庭的补助) / 公用经费 (商品和服务支出, 资本性支出)
    assert {"A3:C4", "F3:F5", "G3:K3", "G4:G5", "H4:I4", "J4:K4", "L3:N3"} <= merged
    assert [ws.cell(5, c).value for c in (1, 2, 3)] == ["类", "款", "项"]
    assert [ws.cell(r, c).value for r, c in ((3, 7), (4, 7), (4, 8), (5, 8), (5, 9), (4, 10), (5, 10), (5, 11))] == [
        "基本支出",
        "小计",
        "人员经费",
        "工资福利支出",
        "对个人和家庭的补助",
        "公用经费",
        "商品和服务支出",
        "资本性支出",
    ]
    row = next(r for r in range(6, ws.max_row + 1) if ws.cell(r, 5).value == "政务公开审批")
    assert [ws.cell(row, c).value for c in (1, 2, 3)] == ["201", "03", "06"]  # text: the leading zeros print
    assert ws.cell(row, 6).value == pytest.approx(1120.30) and ws.cell(row, 6).number_format == "0.00"
    body = [ws.cell(r, c).border for r in range(6, row + 1) for c in range(1, 15)]
    assert all(b.left.style == b.right.style == b.top.style == b.bottom.style == "thin" for b in body)
    assert all(ws.cell(r, c).border.top.style == "thin" for r, c in ((3, 1), (3, 4), (3, 7), (4, 8), (5, 11)))
    assert ws.print_title_rows == "$3:$5" and ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    # the 部门支出预算表 prints 类|款|项 on the second header row (科目编码 over one row)
    ws2 = wb[wb.sheetnames[2 + [t.key for t in tables].index("expenditure")]]
    assert [ws2.cell(4, c).value for c in (1, 2, 3)] == ["类", "款", "项"]


def test_pages_are_read_back_from_the_pdf(rendered):
    from examples.sample_portal.xlsx import pdf_page_lines, table_pages_in_pdf

    for doc, pdf, truth, _ in rendered.values():
        lines = pdf_page_lines(pdf)
        assert truth["page_count"] == len(lines) >= 15
        pages = [p for t in truth["tables"].values() for p in t["pages"]]
        assert pages == list(range(pages[0], len(lines) + 1)), doc.doc_id  # every page after the 说明 is a table's
        for t in truth["tables"].values():
            first = lines[t["pages"][0] - 1]
            assert "".join(t["title"].split()) in first
    doc, pdf, truth, _ = _by_tag(rendered, "multipage_repeat_title")
    long = truth["tables"][TABLE_GPB_EXPENDITURE]
    assert len(long["pages"]) >= 2
    title = "".join(long["title"].split())
    assert all(title in pdf_page_lines(pdf)[p - 1] for p in long["pages"])  # title repeated by print titles
    with pytest.raises(ValueError, match="titles not found"):
        from examples.sample_portal.xlsx import xlsx_tables

        tables = xlsx_tables(doc)
        tables[3].title = "2099年不存在的表"
        table_pages_in_pdf(pdf, tables)


def _printed(value: str, truth: dict) -> str:
    """A truth amount as the workbook's number format prints it."""
    v = set(truth["variants"])
    d = Decimal(value)
    if d == 0:
        return "-" if "zero_dash" in v else "—" if "zero_emdash" in v else "0.00"
    if truth["unit"] == "元" or "wan_separators" in v:
        return f"{d:,.2f}"
    return f"{d:.2f}"


def test_every_truth_amount_is_printed_in_a_ruled_cell_of_its_table(rendered):
    """The producer's truth against its PDF, read independently of the product (pdfplumber's ruled cells,
    a cell's wrapped lines joined)."""
    import pdfplumber

    checked = 0
    for doc, pdf_path, truth, _ in rendered.values():
        with pdfplumber.open(pdf_path) as pdf:
            for key, t in truth["tables"].items():
                if key in ("dept_performance",):
                    continue  # amounts printed as text in merged cells
                cells: Counter[str] = Counter()
                for p in t["pages"]:
                    for tab in pdf.pages[p - 1].extract_tables(
                        {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
                    ):
                        cells.update("".join(c.split()) for row in tab for c in row if c)
                want = Counter(_printed(v, truth) for r in t["rows"] for k, v in r.items() if is_truth_amount(v))
                if key == "project_performance":
                    # the truth fills a project's merged cells down its indicator rows; a block split by a page
                    # break prints its text once, centred on the block, maybe outside the ruled cells of a page
                    want = Counter(set(want))
                    cells.update(w for p in t["pages"] for w in pdf.pages[p - 1].extract_text().split())
                missing = want - cells
                assert not missing, (doc.doc_id, key, dict(missing))
                names = Counter(r["name"] for r in t["rows"] if "name" in r)
                assert not names - cells, (doc.doc_id, key, dict(names - cells))
                checked += sum(want.values())
    assert checked > 2000


def test_wrapped_amounts_and_merged_codes_are_really_printed_so(rendered):
    import pdfplumber

    doc, pdf_path, truth, _ = _by_tag(rendered, "amounts_wrapped")
    t = truth["tables"]["expenditure"]
    with pdfplumber.open(pdf_path) as pdf:
        rows = [r for p in t["pages"] for tab in pdf.pages[p - 1].extract_tables() for r in tab]
    assert any(
        c and "\n" in c and c.replace("\n", "").replace(",", "").replace(".", "").isdigit() for r in rows for c in r
    )  # an amount over two lines of its cell
    doc, pdf_path, truth, _ = _by_tag(rendered, "codes_merged")
    t = truth["tables"][TABLE_REVENUE]
    with pdfplumber.open(pdf_path) as pdf:
        rows = [r for p in t["pages"] for tab in pdf.pages[p - 1].extract_tables() for r in tab]
    details = sum(1 for r in t["rows"] if r["kind"] == "detail")
    printed_classes = sum(1 for r in rows if r[0] and r[0].isdigit() and len(r[0]) == 3)
    assert 0 < printed_classes < details  # 类 printed once per group, not on every 项 row


def test_conversion_is_cached_by_content(rendered, tmp_path):
    from examples.sample_portal import office
    from examples.sample_portal.corpus import seed_xlsx_document
    from examples.sample_portal.xlsx import write_xlsx

    wb = write_xlsx(seed_xlsx_document(), tmp_path / "seed.xlsx")
    starts = office.STATS["starts"]
    (pdf,) = office.convert_to_pdf([wb])
    assert office.STATS["starts"] == starts and pdf.exists()  # converted by the fixture: no LibreOffice start
    assert pdf.name == office.content_key(wb.read_bytes()) + ".pdf"


# ---------------------------------------------------------------------------
# round trips through the product's extractor
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("doc_id", [d.doc_id for d in _chosen()])
def test_xlsx_document_round_trips_exactly(rendered, doc_id):
    _, _, truth, result = rendered[doc_id]
    comparison = compare_document(result, truth)
    assert comparison.differences == []
    for key, counts in comparison.cells.items():
        assert counts.correct == counts.truth == counts.extracted, key
