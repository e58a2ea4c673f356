"""Ground truth written next to each PDF (``<name>.truth.json``).

Conventions
-----------
* Amounts are strings in the table's *printed* unit with 2 decimals and no
  thousands separators ("1120.30"; "11203000.00" in a 元 table).  A blank
  cell is an omitted key; a zero printed as "0.00", "-" or "—" is "0.00".
* Names are as printed (full-width digits/brackets in the ``fullwidth``
  variant).
* ``kind``: ``total`` (合计/总计), ``subtotal`` (unit rows such as
  "106 伊川县政务服务中心", and 类/款 rows of the ``codes_tree`` variant),
  ``detail`` (项 / item rows), ``text`` (performance-table records).
* In ``project_performance`` the merged project cells are filled down: every
  indicator row carries its project's code, name, category and amounts.
* ``producer``: ``reportlab`` (``render.py``) or ``xlsx`` (``xlsx.py``: the
  workbook exported by LibreOffice); the tables' truth has the same form for both.
* The ``narrative`` figures are in 万元 (as the 说明 prints them), 2 decimals;
  the text itself drops a trailing ".00" ("项目支出 236 万元").
"""

from __future__ import annotations

import json
from pathlib import Path

from .model import Document
from .narrative import narrative_values
from .tables import TableData


def document_truth(
    doc: Document, tables: list[TableData], pages: dict[str, list[int]], file: str, page_count: int | None = None
) -> dict:
    t: dict = {
        "file": file,
        "doc_id": doc.doc_id,
        "title": doc.title,
        "region_code": doc.region_code,
        "region_name": doc.region_name,
        "prefecture": doc.prefecture,
        "fiscal_year": doc.fiscal_year,
        "department": doc.department,
        "unit_code": doc.unit_code,
        "doc_type": doc.doc_type,
        "producer": doc.producer,
        "unit": doc.unit,
        "variants": sorted(set(doc.variants)),
        "defects": list(doc.defects),
        "page_count": page_count,
        "narrative": narrative_values(doc) if doc.doc_type == "budget" else {},
        "tables": {},
    }
    if doc.doc_type != "budget":
        return t  # the pipeline must skip 决算 documents: no tables are expected from it
    for tb in tables:
        entry = {
            "title": tb.title,
            "unit": tb.unit,
            "pages": pages.get(tb.key, []),
            "empty": tb.empty,
            "rows": tb.truth_rows,
        }
        if tb.notes and tb.empty:
            entry["note"] = tb.notes[-1]
        entry.update(tb.extra)
        t["tables"][tb.key] = entry
    return t


def write_truth(truth: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
