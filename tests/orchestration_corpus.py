"""A tiny folder-source corpus for the orchestration and UI tests (not a test module).

Three generated budgets of the small sample corpus, copied into one folder per region, and a per-session
extraction cache shared by every data dir (extraction is cached by sha256; camelot costs seconds per document,
so each document is extracted once per test session).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from assets.resources import HttpFetcherResource
from examples.sample_portal.corpus import doc_spec, finish_document, folder_sources
from examples.sample_portal.model import generate_document
from examples.sample_portal.render import render_pdf
from examples.sample_portal.tables import build_tables

YICHUAN, XINAN = "410329", "410323"
#: (region, fiscal year, department) of the sample documents the tests use
DOCS = [
    (YICHUAN, 2023, "伊川县政务服务中心"),
    (YICHUAN, 2024, "伊川县政务服务中心"),  # the seed: the real 2024 document's figures
    (XINAN, 2024, "新安县文化广电和旅游局"),  # defect wrong_total: its 合计 is 1.00 万元 too high
]
NAMES = {YICHUAN: "伊川县", XINAN: "新安县"}
FAST_FETCH = HttpFetcherResource(min_interval_s=0.0, retries=1, backoff_base_s=0.01, respect_robots=False)


def build_folders(site_dir: Path, out: Path, docs=DOCS) -> Path:
    """Copy ``docs`` from the built sample portal into ``out/<region>/`` and write ``out/sources.yaml``."""
    index = json.loads((site_dir / "truth" / "index.json").read_text(encoding="utf-8"))["documents"]
    regions: list[str] = []
    for region, year, dept in docs:
        (doc,) = [
            d
            for d in index
            if (d["region_code"], d["fiscal_year"], d["department"], d["doc_type"]) == (region, year, dept, "budget")
        ]
        folder = out / region
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(site_dir / doc["pdf"], folder / Path(doc["pdf"]).name)
        if region not in regions:
            regions.append(region)
    write_sources(out, regions, out / "sources.yaml")
    return out / "sources.yaml"


def write_sources(folders: Path, regions: list[str], path: Path) -> Path:
    return folder_sources(folders, regions, path)


def data_dir(root: Path, extract_cache: Path) -> str:
    """A fresh data dir whose extraction cache is the session's."""
    root.mkdir(parents=True, exist_ok=True)
    link = root / "extracted"
    if not link.exists():
        link.symlink_to(extract_cache, target_is_directory=True)
    return str(root)


def write_bad_documents(folder: Path, year: int = 2024) -> tuple[Path, Path]:
    """Two bad documents of ``year``: a truncated download, and a valid PDF without any budget table."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    truncated = folder / f"{year}年伊川县民政局部门预算.pdf"
    good = next(p for p in sorted(folder.glob("*.pdf")) if p != truncated)
    truncated.write_bytes(good.read_bytes()[:20_000])
    notables = folder / f"伊川县统计局{year}年部门预算公开.pdf"
    if "wqy" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("wqy", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", subfontIndex=0))
    c = canvas.Canvas(str(notables))
    c.setFont("wqy", 16)
    c.drawString(72, 760, f"伊川县统计局{year}年部门预算公开")
    c.setFont("wqy", 11)
    c.drawString(72, 730, "本部门预算表格另行公布。")  # the tables are published separately: none here
    c.showPage()
    c.save()
    return truncated, notables


def generated_folders(
    out: Path,
    regions: list[str],
    years: list[int],
    department: tuple[str, str, str] = ("gov_service", "政务服务中心", "106"),
) -> Path:
    """One generated budget (reportlab producer) per region × year, in ``out/<region>/``, and
    ``out/sources.yaml``: distinct documents, one per partition."""
    profile, dept, code = department
    totals: dict[tuple, int] = {}
    for region in regions:
        for year in sorted(years):  # year order: each document quotes its predecessor's total
            spec = doc_spec(region, dept, code, year, profile)
            doc = generate_document(spec, prev_total=totals.get((region, spec.department, year - 1)))
            totals[(region, doc.department, year)] = doc.total
            doc = finish_document(doc, spec)
            folder = out / region
            folder.mkdir(parents=True, exist_ok=True)
            render_pdf(doc, folder / doc.attachment_name, build_tables(doc))
    return folder_sources(out, regions)
