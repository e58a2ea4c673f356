"""The deterministic sample portal: determinism, arithmetic of the ground truth,
the seed's real figures, the portal's links and encodings."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest

from assets.records import (
    TABLE_EXPENDITURE,
    TABLE_GPB_BASIC,
    TABLE_GPB_EXPENDITURE,
    TABLE_INCOME_EXPENDITURE,
    TABLE_PROJECT,
    TABLE_REVENUE,
    TABLE_THREE_PUBLIC,
)
from examples.sample_portal import build_portal
from examples.sample_portal.catalog import EXPENSE_CLASSES

D0 = Decimal("0")


def D(row: dict, key: str) -> Decimal:
    return Decimal(row.get(key, "0"))


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("portal")
    build_portal(out, base_url="http://127.0.0.1:8765", corpus="small")
    return out


def _truths(portal: Path) -> list[dict]:
    idx = json.loads((portal / "truth" / "index.json").read_text(encoding="utf-8"))
    return [json.loads((portal / d["truth"]).read_text(encoding="utf-8")) for d in idx["documents"]]


def _sha(portal: Path) -> dict[str, str]:
    return {
        str(p.relative_to(portal)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(portal.rglob("*"))
        if p.is_file()
    }


def test_deterministic(portal, tmp_path):
    build_portal(tmp_path / "again", corpus="small")
    a, b = _sha(portal), _sha(tmp_path / "again")
    assert a.keys() == b.keys()
    assert any(k.endswith(".pdf") for k in a)
    assert a == b


# ---------------------------------------------------------------------------
# arithmetic
# ---------------------------------------------------------------------------

FUNC_AMOUNTS = [
    "total",
    "basic_total",
    "wages",
    "household_transfers",
    "goods_services",
    "capital",
    "project_total",
    "project_other_operating",
    "project_specific",
]


def function_table_errors(tb: dict) -> list[str]:
    errs = []
    rows = tb["rows"]
    for i, r in enumerate(rows):
        if D(r, "total") != D(r, "basic_total") + D(r, "project_total"):
            errs.append(f"row {i}: total != basic + project")
        if D(r, "basic_total") != sum(D(r, k) for k in ("wages", "household_transfers", "goods_services", "capital")):
            errs.append(f"row {i}: basic != wages + household + goods + capital")
        if D(r, "project_total") != D(r, "project_other_operating") + D(r, "project_specific"):
            errs.append(f"row {i}: project != other + specific")
    details = [r for r in rows if r["kind"] == "detail"]
    total = next(r for r in rows if r["kind"] == "total")
    for k in FUNC_AMOUNTS:
        if D(total, k) != sum((D(r, k) for r in details), D0):
            errs.append(f"合计 {k} != sum of detail rows")
    # unit rows and 类/款 subtotal rows
    unit_idx = [i for i, r in enumerate(rows) if r["kind"] == "subtotal" and "unit_code" in r]
    for n, ui in enumerate(unit_idx):
        end = unit_idx[n + 1] if n + 1 < len(unit_idx) else len(rows)
        block = rows[ui + 1 : end]
        for k in FUNC_AMOUNTS:
            if D(rows[ui], k) != sum((D(r, k) for r in block if r["kind"] == "detail"), D0):
                errs.append(f"unit row {rows[ui]['unit_code']} {k}")
        for s in (r for r in block if r["kind"] == "subtotal"):
            members = [r for r in block if r["kind"] == "detail" and r["function_code"].startswith(s["function_code"])]
            assert members, s
            for k in FUNC_AMOUNTS:
                if D(s, k) != sum((D(r, k) for r in members), D0):
                    errs.append(f"subtotal {s['function_code']} {k}")
    return errs


def test_every_truth_adds_up(portal):
    truths = _truths(portal)
    assert len(truths) >= 7
    check_truths(truths)


def check_truths(truths: list[dict]) -> None:
    by_dept = {(t["department"], t["fiscal_year"]): t for t in truths if t["doc_type"] == "budget"}
    for t in truths:
        if t["doc_type"] != "budget":
            assert t["tables"] == {}
            continue
        tabs = t["tables"]
        g = tabs[TABLE_GPB_EXPENDITURE]
        errs = function_table_errors(g)
        if "wrong_total" in t["defects"]:
            assert errs and all(e.startswith(("合计", "row 0")) for e in errs), errs
            errs = []
        assert not errs, (t["file"], errs)
        assert not function_table_errors(tabs[TABLE_EXPENDITURE]), t["file"]
        assert any(r["kind"] == "total" for r in g["rows"])
        details = [r for r in g["rows"] if r["kind"] == "detail"]
        total = sum((D(r, "total") for r in details), D0)
        basic = sum((D(r, "basic_total") for r in details), D0)
        personnel = sum((D(r, "wages") + D(r, "household_transfers") for r in details), D0)
        project = sum((D(r, "project_total") for r in details), D0)

        # 一般公共预算基本支出: totals equal the function table's 基本支出
        b = tabs[TABLE_GPB_BASIC]["rows"]
        btot = b[0]
        assert btot["kind"] == "total"
        bd = [r for r in b if r["kind"] == "detail"]
        for k in ("total", "personnel", "public"):
            assert D(btot, k) == sum((D(r, k) for r in bd), D0)
        assert D(btot, "total") == basic
        assert D(btot, "personnel") == personnel
        for r in bd:
            assert D(r, "total") == D(r, "personnel") + D(r, "public")
            if r["econ_code"][:3] in ("301", "303"):
                assert D(r, "public") == 0
            else:
                assert D(r, "personnel") == 0

        # 部门收支预算表: 收入总计 = 支出总计 = 合计; 支出 by 类
        s = tabs[TABLE_INCOME_EXPENDITURE]["rows"]
        get = {r.get("income_item"): r for r in s}
        assert D(get["收入总计"], "income_amount") == D(get["收入总计"], "expense_amount") == total
        by_class: dict[str, Decimal] = {}
        for r in details:
            by_class[r["function_code"][:3]] = by_class.get(r["function_code"][:3], D0) + D(r, "total")
        labels = {f"{lbl}": code for code, lbl in EXPENSE_CLASSES}
        exp_rows = [r for r in s if r["kind"] == "detail" and r.get("expense_item", "").split("、")[-1] in labels]
        assert len(exp_rows) == len(EXPENSE_CLASSES)
        for r in exp_rows:
            assert D(r, "expense_amount") == by_class.get(labels[r["expense_item"].split("、")[-1]], D0)

        # 部门收入预算表 total
        rv = tabs[TABLE_REVENUE]["rows"]
        assert D(rv[0], "total") == total == D(rv[0], "gpb")

        # 三公
        tp = tabs[TABLE_THREE_PUBLIC]
        if tp["empty"]:
            assert tp["rows"] == [] and "故此表无数据" in tp["note"]
        else:
            (r,) = tp["rows"]
            assert D(r, "vehicle_total") == D(r, "vehicle_purchase") + D(r, "vehicle_operation")
            assert D(r, "total") == D(r, "outbound") + D(r, "vehicle_total") + D(r, "reception")

        # 项目支出
        pr = tabs[TABLE_PROJECT]["rows"]
        if pr:
            assert D(pr[0], "total") == project == sum((D(r, "total") for r in pr if r["kind"] == "detail"), D0)

        # narrative (万元)
        scale = Decimal(1) if t["unit"] == "万元" else Decimal(10000)
        w = lambda x, scale=scale: (x / scale).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # noqa: E731
        nv = t["narrative"]
        assert Decimal(nv["income_total"]) == w(total) == Decimal(nv["expense_total"])
        assert Decimal(nv["basic_total"]) == w(basic)
        assert Decimal(nv["project_total"]) == w(project)
        assert Decimal(nv["personnel_total"]) == w(personnel)
        prev = by_dept.get((t["department"], t["fiscal_year"] - 1))
        if prev:
            assert Decimal(nv["prev_total"]) == Decimal(prev["narrative"]["income_total"])
            diff = Decimal(nv["income_total"]) - Decimal(nv["prev_total"])
            assert nv["change_direction"] == ("增加" if diff >= 0 else "减少")
            assert Decimal(nv["change_amount"]) == abs(diff)


def test_defect_is_flagged(portal):
    flagged = [t for t in _truths(portal) if "wrong_total" in t["defects"]]
    assert flagged
    for t in flagged:
        assert function_table_errors(t["tables"][TABLE_GPB_EXPENDITURE])


# ---------------------------------------------------------------------------
# the seed
# ---------------------------------------------------------------------------


def _seed(portal: Path) -> dict:
    (t,) = [t for t in _truths(portal) if t["department"] == "伊川县政务服务中心" and t["fiscal_year"] == 2024]
    return t


def test_seed_real_figures(portal):
    t = _seed(portal)
    assert t["region_code"] == "410329" and t["unit"] == "万元"
    g = {r.get("function_code"): r for r in t["tables"][TABLE_GPB_EXPENDITURE]["rows"]}
    r = g["2010306"]
    assert (
        r["total"],
        r["basic_total"],
        r["wages"],
        r["goods_services"],
        r["project_total"],
        r["project_other_operating"],
    ) == ("1120.30", "884.30", "857.75", "26.55", "236.00", "236.00")
    assert "household_transfers" not in r and "capital" not in r
    assert g[None]["total"] == "1145.25" and g[None]["basic_total"] == "909.25"
    assert [g[c]["total"] for c in ("2080502", "2080505", "2101101", "2101199")] == ["3.35", "14.28", "6.62", "0.70"]
    b = {r.get("econ_code"): r for r in t["tables"][TABLE_GPB_BASIC]["rows"]}
    assert b["30199"]["total"] == "570.51"
    assert (b[None]["total"], b[None]["personnel"], b[None]["public"]) == ("909.25", "882.70", "26.55")
    assert [r["total"] for r in t["tables"][TABLE_PROJECT]["rows"] if r["kind"] == "detail"] == ["207.00", "29.00"]
    for k in ("three_public", "gov_fund_expenditure", "soe_capital_expenditure"):
        assert t["tables"][k]["empty"] and "故此表无数据" in t["tables"][k]["note"]
    nv = t["narrative"]
    assert (nv["income_total"], nv["basic_pct"], nv["project_pct"], nv["personnel_pct"]) == (
        "1145.25",
        "79.39",
        "20.61",
        "97.08",
    )
    assert (nv["change_direction"], nv["change_amount"]) == ("减少", "0.76")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_seed_pdf_text(portal):
    t = _seed(portal)
    pdf = portal / t["file"]
    txt = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    for s in (
        "政务公开审批",
        "1120.30",
        "570.51",
        "收入总计 1145.25 万元",
        "2024年一般公共预算支出预算表",
        "部门名称：伊川县政务服务中心",
        "故此表无数据",
    ):
        assert s in txt, s
    page = t["tables"][TABLE_GPB_EXPENDITURE]["pages"][0]
    pg = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode()
    assert "一般公共预算支出预算表" in pg and "1120.30" in pg


# ---------------------------------------------------------------------------
# the portal
# ---------------------------------------------------------------------------

HREF = re.compile(r'href="([^"]+)"')


def _crawl(portal: Path, slug: str, encoding: str) -> tuple[set[Path], int]:
    root = portal / slug
    seen, todo, pdfs, n_list = set(), [root / "index.html"], set(), 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        text = p.read_bytes().decode(encoding)
        if p.parent == root:
            n_list += 1
        for h in HREF.findall(text):
            target = (p.parent / unquote(h)).resolve()
            if h.endswith(".html"):
                todo.append(target)
            elif h.endswith(".pdf"):
                pdfs.add(target)
    return pdfs, n_list


def test_portal_links_every_pdf(portal):
    idx = json.loads((portal / "truth" / "index.json").read_text(encoding="utf-8"))
    sources = (portal / "sources.yaml").read_text(encoding="utf-8")
    found: set[Path] = set()
    for slug, enc in (("yichuan", "utf-8"), ("xinan", "gbk")):
        assert f'start_urls: ["http://127.0.0.1:8765/{slug}/index.html"]' in sources
        pdfs, n_list = _crawl(portal, slug, enc)
        found |= {p for p in pdfs if p.exists()}
        assert any(not p.exists() for p in pdfs) or slug != "yichuan"  # the broken link
    want = {(portal / d["pdf"]).resolve() for d in idx["documents"]}
    assert want <= found
    assert (portal / "yichuan" / "index_1.html").exists()
    assert "下一页" in (portal / "yichuan" / "index.html").read_text(encoding="utf-8")
    assert 'region_code: "410329"' in sources


def test_gbk_county(portal):
    for p in (portal / "xinan").rglob("*.html"):
        raw = p.read_bytes()
        assert b'<meta charset="gbk">' in raw
        text = raw.decode("gbk")
        assert "新安县" in text
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    assert '<meta charset="utf-8">' in (portal / "yichuan" / "index.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# the full corpus: every variant, scanned / cid documents, determinism of rasters
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_full_corpus(tmp_path):
    from examples.sample_portal.corpus import DEFECTS, VARIANTS

    build_portal(tmp_path, corpus="full")
    truths = _truths(tmp_path)
    assert len(truths) >= 30
    check_truths(truths)
    seen = {v for t in truths for v in t["variants"]} | {d for t in truths for d in t["defects"]}
    assert seen == set(VARIANTS) | set(DEFECTS)
    assert {t["fiscal_year"] for t in truths} == {2022, 2023, 2024, 2025}
    assert len({t["region_code"] for t in truths}) >= 4
    for t in truths:
        pdf = tmp_path / t["file"]
        assert t["page_count"] >= 3
        if "scanned" in t["variants"]:
            txt = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
            assert not txt.strip(), "a scanned document must have no text layer"
        if "cid_font" in t["variants"]:
            raw = pdf.read_bytes()
            assert b"/ToUnicode " not in raw
        if any(v.startswith("multipage") for v in t["variants"]):
            assert len(t["tables"][TABLE_GPB_EXPENDITURE]["pages"]) >= 2


def test_scanned_is_deterministic(tmp_path):
    from examples.sample_portal import generate_document, render_document
    from examples.sample_portal.model import DocSpec

    spec = DocSpec("410323", "新安县", "新安县统计局", "131", 2024, "statistics", variants=["scanned"])
    shas = []
    for d in ("a", "b"):
        render_document(generate_document(spec), tmp_path / d / "x.pdf")
        shas.append(hashlib.sha256((tmp_path / d / "x.pdf").read_bytes()).hexdigest())
    assert shas[0] == shas[1]
