"""`budget-etl report --html DIR`: a static offline report, opened in headless Debian Chromium; every figure on
the page (tables and the SVG bars) equals the SQL over the mart views; screenshots go to the test output."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from click.testing import CliRunner
from test_ui import browser  # noqa: F401 - the headless Chromium fixture
from test_warehouse import corpus_partitions, load_all, open_wh

from pipelines.cli import main
from pipelines.export import open_engine
from pipelines.html_report import YOY_ROWS, write_html_report

YICHUAN = "410329"


@pytest.fixture(scope="module")
def partitions(sample_portal_dir):
    return corpus_partitions(sample_portal_dir)


@pytest.fixture
def warehouse(duckdb_url, partitions):
    wh = open_wh(duckdb_url)
    load_all(wh, partitions)
    yield wh
    wh.dispose()


def sql(wh, text):
    return wh.query(text)[1]


def D(v) -> Decimal:
    return Decimal(str(v))


def test_report_pages_show_the_sql_figures_in_chromium(warehouse, duckdb_url, browser, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "report"
    res = CliRunner().invoke(main, ["report", "--html", str(out), "--warehouse", duckdb_url], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "index.html",
        "region-410323.html",
        "region-410329.html",
        "style.css",
    ]
    for page in out.glob("*.html"):  # offline: nothing loaded from elsewhere, no script at all
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html and not re.search(r'<(img|link|iframe)[^>]+(src|href)="(https?:)?//', html)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    # -- index --------------------------------------------------------------------------------------------------
    page.goto((out / "index.html").as_uri())
    page.wait_for_load_state("load")
    page.screenshot(path=str(tmp_path / "report-index.png"), full_page=True)
    regions = page.eval_on_selector_all(
        "#table-regions tr[data-region]",
        """rows => rows.map(r => [
        r.dataset.region, Object.fromEntries([...r.querySelectorAll('[data-kind]')].map(c =>
            [c.dataset.kind, c.dataset.value]))])""",
    )
    by_status = {
        (r, s): n
        for r, s, n in sql(
            warehouse, "SELECT region_code, status, COUNT(*) FROM mart.documents GROUP BY region_code, status"
        )
    }
    assert [r for r, _ in regions] == ["410323", YICHUAN]
    for region, cells in regions:
        for status in ("loaded", "quarantined", "rejected", "skipped", "superseded"):
            assert int(cells[status]) == by_status.get((region, status), 0), (region, status)
    ((latest,),) = sql(
        warehouse,
        f"""SELECT ROUND(SUM(total_yuan) * 0.0001, 2) FROM mart.class_totals_by_region_year
        WHERE region_code = '{YICHUAN}' AND fiscal_year = 2024""",
    )
    assert D(dict(regions)[YICHUAN]["latest-total"]) == latest
    bars = page.eval_on_selector_all(
        "#chart-regions rect[data-value]",
        """rs => rs.map(r =>
        [r.dataset.series, r.dataset.category, r.dataset.value])""",
    )
    assert sorted((s[-7:-1], int(y), D(v)) for s, y, v in bars) == sorted(
        sql(
            warehouse,
            """
        SELECT region_code, fiscal_year, ROUND(SUM(total_yuan) * 0.0001, 2) FROM mart.class_totals_by_region_year
        GROUP BY region_code, fiscal_year""",
        )
    )

    # -- a region: spending by 类 over the years --------------------------------------------------------------
    page.click(f"a[href='region-{YICHUAN}.html']")
    page.wait_for_load_state("load")
    shot = tmp_path / f"report-region-{YICHUAN}.png"
    page.screenshot(path=str(shot), full_page=True)
    with capsys.disabled():
        print(f"\nHTML report screenshots: {tmp_path / 'report-index.png'} {shot}")
    expected = {
        (str(y), c): v
        for y, c, v in sql(
            warehouse,
            f"""SELECT fiscal_year, class_code, total_wan
        FROM mart.class_totals_by_region_year WHERE region_code = '{YICHUAN}'""",
        )
    }
    assert len(expected) >= 8
    years = page.eval_on_selector_all("#table-classes thead th.num", "ths => ths.map(t => t.textContent)")
    table = page.eval_on_selector_all(
        "#table-classes tr[data-class]",
        """rows => rows.map(r => [r.dataset.class,
        [...r.querySelectorAll('td.num')].map(c => [c.dataset.value || null, c.textContent])])""",
    )
    got = {}
    for cls, cells in table:
        for year, (value, text) in zip(years, cells, strict=False):
            if value is not None:
                got[(year, cls)] = D(value)
                assert text == f"{D(value):,.2f}"  # shown as it is, with separators
    assert got == expected
    bars = page.eval_on_selector_all(
        "#chart-classes rect[data-value]",
        """rects => rects.map(r =>
        [r.dataset.category, r.dataset.series.slice(0, 3), r.dataset.value, r.getBoundingClientRect().height])""",
    )
    assert {(y, c): D(v) for y, c, v, _ in bars} == {k: v for k, v in expected.items() if v != 0}
    assert all(h > 0 for *_, h in bars)  # drawn, not just present
    totals = page.eval_on_selector_all("#table-classes [data-kind=year-total]", "cs => cs.map(c => c.dataset.value)")
    assert [D(v) for v in totals] == [
        v
        for _, v in sql(
            warehouse,
            f"""
        SELECT fiscal_year, ROUND(SUM(total_yuan) * 0.0001, 2) FROM mart.class_totals_by_region_year
        WHERE region_code = '{YICHUAN}' GROUP BY fiscal_year ORDER BY fiscal_year""",
        )
    ]

    # 基本 vs 项目
    bp = page.eval_on_selector_all(
        "#table-basic-project tr[data-year]",
        """rows => rows.map(r => [r.dataset.year,
        r.querySelector('[data-kind=basic]').dataset.value, r.querySelector('[data-kind=project]').dataset.value])""",
    )
    assert [(int(y), D(b), D(p)) for y, b, p in bp] == sql(
        warehouse,
        f"""
        SELECT fiscal_year, ROUND(SUM(basic_yuan) * 0.0001, 2), ROUND(SUM(project_yuan) * 0.0001, 2)
        FROM mart.class_totals_by_region_year WHERE region_code = '{YICHUAN}' GROUP BY fiscal_year
        ORDER BY fiscal_year""",
    )
    grouped = page.eval_on_selector_all(
        "#chart-basic-project rect[data-value]",
        "rs => rs.map(r => [r.dataset.category, r.dataset.series, r.dataset.value])",
    )
    assert len(grouped) == 2 * len(bp)

    # the largest year-over-year changes
    yoy = page.eval_on_selector_all(
        "#table-yoy tbody tr",
        """rows => rows.map(r =>
        [...r.querySelectorAll('[data-kind]')].map(c => c.dataset.value || null))""",
    )
    want = sql(
        warehouse,
        f"""SELECT prev_total_wan, total_wan, change_wan, change_pct
        FROM mart.expenditure_yoy_by_department_class
        WHERE region_code = '{YICHUAN}' AND change_yuan IS NOT NULL AND change_yuan <> 0
        ORDER BY ABS(change_yuan) DESC, fiscal_year DESC, department_name, class_code LIMIT {YOY_ROWS}""",
    )
    assert [[None if v is None else D(v) for v in r] for r in yoy] == [list(r) for r in want] and want

    # 三公 over the years
    three = page.eval_on_selector_all(
        "#table-three-public tr[data-year]",
        """rows => rows.map(r => [r.dataset.year,
        ...['outbound', 'vehicle', 'reception', 'three-public-total'].map(k =>
            r.querySelector(`[data-kind=${k}]`).dataset.value)])""",
    )
    assert [(int(y), *map(D, vs)) for y, *vs in three] == sql(
        warehouse,
        f"""
        SELECT fiscal_year, ROUND(SUM(outbound_yuan) * 0.0001, 2), ROUND(SUM(vehicle_total_yuan) * 0.0001, 2),
               ROUND(SUM(reception_yuan) * 0.0001, 2), ROUND(SUM(total_yuan) * 0.0001, 2)
        FROM mart.three_public WHERE region_code = '{YICHUAN}' GROUP BY fiscal_year ORDER BY fiscal_year""",
    )

    # the data-quality state of every document, with links to its source and the pages of its findings
    linked = check_documents(page, warehouse, YICHUAN)
    page.click("a[href='region-410323.html']")  # 新安县: its quarantined document (a wrong 合计)
    page.wait_for_load_state("load")
    page.screenshot(path=str(tmp_path / "report-region-410323.png"), full_page=True)
    linked += check_documents(page, warehouse, "410323")
    assert linked >= 1  # the quarantined document's hard findings link to their page
    assert "quarantined" in page.inner_text("#table-documents")
    assert all(u.startswith("file://") for u in requests), requests  # nothing but the report's own files
    page.close()


def check_documents(page, warehouse, region: str) -> int:
    """The documents table of a region page equals mart.document_report; each finding links to its page of the
    source. Returns the number of page links."""
    docs = page.eval_on_selector_all(
        "#table-documents tr[data-sha]",
        """rows => rows.map(r => [r.dataset.sha,
        r.querySelector('.status').textContent, r.querySelector('[data-kind=hard]').dataset.value,
        r.querySelector('[data-kind=soft]').dataset.value, r.querySelector('[data-kind=rows-loaded]').dataset.value,
        [...r.querySelectorAll('a')].map(a => a.getAttribute('href'))])""",
    )
    want = {
        r[0]: r[1:]
        for r in sql(
            warehouse,
            f"""SELECT document_sha256, status, hard_findings, soft_findings,
        rows_loaded, source_url FROM mart.document_report WHERE region_code = '{region}'""",
        )
    }
    assert {sha for sha, *_ in docs} == set(want) and want
    links = 0
    for sha, status, hard, soft, n, hrefs in docs:
        assert (status, int(hard), int(soft), int(n)) == want[sha][:4]
        assert hrefs[0] == want[sha][4]  # the source
        pages = sorted(
            p
            for (p,) in sql(
                warehouse,
                f"""SELECT page FROM mart.quality_findings
            WHERE document_sha256 = '{sha}' AND severity IN ('hard', 'soft') AND page IS NOT NULL""",
            )
        )
        assert sorted(int(h.rsplit("#page=", 1)[1]) for h in hrefs[1:]) == pages
        assert all(h.startswith(want[sha][4] + "#page=") for h in hrefs[1:])
        links += len(hrefs) - 1
    return links


def test_the_report_is_the_same_from_postgresql(warehouse, duckdb_url, pg_url, partitions, tmp_path):
    """The same warehouse contents on PostgreSQL give the same pages (the figures are the views', not DuckDB's)."""
    pg = open_wh(pg_url)
    load_all(pg, partitions)
    pg.dispose()
    pages = {}
    for name, url in (("duckdb", duckdb_url), ("pg", pg_url)):
        engine = open_engine(url)
        try:
            write_html_report(engine, tmp_path / name)
        finally:
            engine.dispose()
        pages[name] = {
            p.name: re.sub(r"generated [^·<]*", "", p.read_text(encoding="utf-8"))
            for p in (tmp_path / name).glob("*.html")
        }
    assert pages["duckdb"] == pages["pg"]
    assert "1,120.30" in pages["pg"][f"region-{YICHUAN}.html"]
