"""Deterministic sample 部门预算 portal: generated budget PDFs with ground truth.

API::

    from examples.sample_portal import build_portal, build_corpus, seed_document, render_document
    build_portal(out, base_url="http://127.0.0.1:8765", corpus="small")   # whole portal
    docs = build_corpus("small" | "full" | "xlsx" | "both")                # list[Document]
    truth = render_document(doc, "x.pdf")                                 # PDF + truth dict

Two producers draw the PDFs: reportlab (``render.py``, corpora ``small`` and
``full``) and an office workbook exported by LibreOffice headless (``xlsx.py``
+ ``office.py``, corpus ``xlsx``); ``both`` is ``full`` + ``xlsx``.  A
document's ``producer`` says which draws it.

CLI: ``python -m examples.sample_portal build --out DIR [--base-url URL] [--corpus small|full|xlsx|both]``
"""

from __future__ import annotations

from .corpus import COUNTIES, build_corpus, corpus_specs
from .model import DocSpec, Document, generate_document, seed_document
from .portal import DEFAULT_BASE_URL, build_portal


def render_document(doc: Document, pdf_path, truth_path=None) -> dict:
    """Render one document to ``pdf_path`` with its producer and return (and optionally write) its truth."""
    from pathlib import Path

    import pypdfium2 as pdfium

    from .truth import document_truth, write_truth

    if doc.producer == "xlsx":
        from .xlsx import render_xlsx_pdf, xlsx_tables

        tables = xlsx_tables(doc)
        pages = render_xlsx_pdf(doc, pdf_path, tables)
    else:
        from .render import render_pdf
        from .tables import build_tables

        tables = build_tables(doc)
        pages = render_pdf(doc, pdf_path, tables)
    truth = document_truth(
        doc, tables, pages, file=Path(pdf_path).name, page_count=len(pdfium.PdfDocument(str(pdf_path)))
    )
    if truth_path:
        write_truth(truth, truth_path)
    return truth


__all__ = [
    "COUNTIES",
    "DEFAULT_BASE_URL",
    "DocSpec",
    "Document",
    "build_corpus",
    "build_portal",
    "corpus_specs",
    "generate_document",
    "render_document",
    "seed_document",
]
