"""``budget-etl report --html DIR``: a static, offline HTML report of the warehouse.

``DIR/index.html`` lists the regions; ``DIR/region-<code>.html`` shows, for one region, spending by 类 over the
years (stacked bars), 基本支出 vs 项目支出, the largest year-over-year changes per department and 类, the 三公
funds over the years, and the data-quality state of every document with links to its source and to the page of
each finding. Charts are SVG drawn by :mod:`pipelines.svg` and embedded in the pages; ``DIR/style.css`` is the
only other file. No script, no font, nothing from the network.

Every figure comes from the ``mart`` views; a figure summed over rows is summed in 元 and rounded to 万元 once
(half away from zero), as the roll-up views do. Each amount on a page carries its exact value in ``data-value``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipelines.summary import display_name
from pipelines.svg import PALETTE, Series, bar_chart, fmt_amount

YOY_ROWS = 15
STATUS_ORDER = ["loaded", "quarantined", "rejected", "skipped", "superseded"]

CSS = """
body { font-family: 'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif; margin: 24px auto;
       max-width: 1180px; color: #222; line-height: 1.45; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; }
.meta, .note { color: #666; font-size: 13px; }
nav { font-size: 14px; margin: 8px 0 16px; } nav a { margin-right: 14px; }
table { border-collapse: collapse; margin: 10px 0 18px; font-size: 13px; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; border-top: 2px solid #999; }
.status { padding: 1px 7px; border-radius: 9px; font-size: 12px; color: #fff; white-space: nowrap; }
.status-loaded { background: #3d8b40; } .status-quarantined { background: #c0392b; }
.status-rejected { background: #8e44ad; } .status-skipped, .status-superseded { background: #7f8c8d; }
.neg { color: #b03a2e; } .pos { color: #1e6f3a; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 8px 0; }
ul.findings { margin: 0; padding-left: 16px; } .sev-hard { color: #b03a2e; } .sev-soft { color: #a66b00; }
"""


def wan(yuan: Decimal | None) -> Decimal | None:
    """元 → 万元, rounded once, half away from zero (as the views)."""
    if yuan is None:
        return None
    return (Decimal(yuan) / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def num(v: Decimal | None, kind: str, *, signed: bool = False, suffix: str = "") -> str:
    """A table cell with an amount: shown with separators, exact in ``data-value``."""
    if v is None:
        return f'<td class="num" data-kind="{kind}">–</td>'
    text = fmt_amount(v)
    cls = "num"
    if signed and v != 0:
        text = ("+" if v > 0 else "") + text
        cls += " pos" if v > 0 else " neg"
    return f'<td class="{cls}" data-kind="{kind}" data-value="{v}">{text}{suffix}</td>'


@dataclass
class RegionData:
    code: str
    name: str
    classes: list[dict] = field(default_factory=list)  # mart.class_totals_by_region_year rows
    yoy: list[dict] = field(default_factory=list)
    three_public: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    findings: dict[str, list[dict]] = field(default_factory=dict)


def _rows(conn: sa.Connection, sql: str, **params) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def read_region(conn: sa.Connection, code: str, name: str) -> RegionData:
    d = RegionData(code, name)
    d.classes = _rows(
        conn,
        """
        SELECT fiscal_year, class_code, class_name, departments, total_wan, total_yuan, basic_yuan, project_yuan
        FROM mart.class_totals_by_region_year WHERE region_code = :r ORDER BY fiscal_year, class_code""",
        r=code,
    )
    d.yoy = _rows(
        conn,
        f"""
        SELECT fiscal_year, department_name, class_code, class_name, prev_total_wan, total_wan, change_wan,
               change_pct, change_yuan
        FROM mart.expenditure_yoy_by_department_class
        WHERE region_code = :r AND change_yuan IS NOT NULL AND change_yuan <> 0
        ORDER BY ABS(change_yuan) DESC, fiscal_year DESC, department_name, class_code LIMIT {YOY_ROWS}""",
        r=code,
    )
    d.three_public = _rows(
        conn,
        """
        SELECT fiscal_year, SUM(outbound_yuan) AS outbound_yuan, SUM(vehicle_total_yuan) AS vehicle_yuan,
               SUM(reception_yuan) AS reception_yuan, SUM(total_yuan) AS total_yuan,
               COUNT(DISTINCT document_sha256) AS documents
        FROM mart.three_public WHERE region_code = :r GROUP BY fiscal_year ORDER BY fiscal_year""",
        r=code,
    )
    d.documents = _rows(
        conn,
        """
        SELECT document_sha256, fiscal_year, department_name, status, status_reason, title, source_url,
               page_count, tables_found, rows_loaded, hard_findings, soft_findings, checks_failed, checks_passed
        FROM mart.document_report WHERE region_code = :r
        ORDER BY fiscal_year DESC, department_name, document_sha256""",
        r=code,
    )
    for f in _rows(
        conn,
        """
            SELECT f.document_sha256, f.check_name, f.severity, f.page, f.detail
            FROM mart.quality_findings f JOIN mart.documents d ON d.document_sha256 = f.document_sha256
            WHERE d.region_code = :r AND f.severity IN ('hard', 'soft')
            ORDER BY f.document_sha256, f.severity, f.page, f.check_name""",
        r=code,
    ):
        d.findings.setdefault(f["document_sha256"], []).append(f)
    return d


def _page(title: str, body: str, nav: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="style.css"></head>\n'
        f"<body>\n<nav>{nav}</nav>\n{body}\n</body></html>\n"
    )


def _nav(regions: list[tuple[str, str]]) -> str:
    return '<a href="index.html">Overview</a>' + "".join(
        f'<a href="region-{escape(c)}.html">{escape(n)} ({escape(c)})</a>' for c, n in regions
    )


def _status(s: str | None) -> str:
    return f'<span class="status status-{escape(s or "")}">{escape(s or "?")}</span>'


def _classes_section(d: RegionData) -> str:
    years = sorted({r["fiscal_year"] for r in d.classes})
    classes = sorted({(r["class_code"], r["class_name"] or "") for r in d.classes})
    if not years:
        return "<h2>Spending by 类 (一般公共预算支出)</h2><p class='note'>No loaded 一般公共预算支出预算表.</p>"
    cell = {(r["fiscal_year"], r["class_code"]): r for r in d.classes}
    series = [
        Series(
            f"{code} {name}",
            [cell[(y, code)]["total_wan"] if (y, code) in cell else None for y in years],
            PALETTE[i % len(PALETTE)],
        )
        for i, (code, name) in enumerate(classes)
    ]
    chart = bar_chart(
        [str(y) for y in years],
        series,
        title=f"{d.name}: 一般公共预算支出 by 类",
        stacked=True,
        chart_id="chart-classes",
    )
    head = "".join(f'<th class="num">{y}</th>' for y in years)
    body = []
    for code, name in classes:
        cells = "".join(
            num(cell[(y, code)]["total_wan"], "class-total") if (y, code) in cell else '<td class="num">–</td>'
            for y in years
        )
        body.append(f'<tr data-class="{code}"><td>{code}</td><td>{escape(name)}</td>{cells}</tr>')
    totals = "".join(
        num(wan(sum(r["total_yuan"] for r in d.classes if r["fiscal_year"] == y)), "year-total") for y in years
    )
    body.append(f'<tr class="total"><td></td><td>合计 (summed in 元, rounded once)</td>{totals}</tr>')
    table = (
        f'<table id="table-classes"><thead><tr><th>类</th><th>name</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    # 基本 vs 项目
    basic = [wan(sum(r["basic_yuan"] for r in d.classes if r["fiscal_year"] == y)) for y in years]
    project = [wan(sum(r["project_yuan"] for r in d.classes if r["fiscal_year"] == y)) for y in years]
    chart2 = bar_chart(
        [str(y) for y in years],
        [Series("基本支出 basic", basic, PALETTE[0]), Series("项目支出 project", project, PALETTE[1])],
        title=f"{d.name}: 基本支出 vs 项目支出",
        stacked=False,
        chart_id="chart-basic-project",
        height=260,
    )
    rows2 = "".join(
        f'<tr data-year="{y}"><td>{y}</td>{num(b, "basic")}{num(p, "project")}'
        f"{num(b + p if b is not None and p is not None else None, 'basic-plus-project')}</tr>"
        for y, b, p in zip(years, basic, project, strict=False)
    )
    table2 = (
        f'<table id="table-basic-project"><thead><tr><th>year</th><th class="num">基本支出</th>'
        f'<th class="num">项目支出</th><th class="num">合计</th></tr></thead><tbody>{rows2}</tbody></table>'
    )
    return (
        f"<h2>Spending by 类 over the years (一般公共预算支出, 万元)</h2>{chart}{table}"
        f"<h2>基本支出 vs 项目支出 (万元)</h2>{chart2}{table2}"
    )


def _yoy_section(d: RegionData) -> str:
    if not d.yoy:
        return (
            "<h2>Largest year-over-year changes</h2><p class='note'>No department published two consecutive years.</p>"
        )
    rows = "".join(
        f"<tr><td>{r['fiscal_year']}</td><td>{escape(r['department_name'] or '')}</td>"
        f"<td>{r['class_code']} {escape(r['class_name'] or '')}</td>{num(r['prev_total_wan'], 'prev')}"
        f"{num(r['total_wan'], 'now')}{num(r['change_wan'], 'change', signed=True)}"
        f"{num(r['change_pct'], 'change-pct', signed=True, suffix=' %')}</tr>"
        for r in d.yoy
    )
    return (
        f"<h2>Largest year-over-year changes (department × 类, 万元)</h2>"
        f'<table id="table-yoy"><thead><tr><th>year</th><th>department</th><th>类</th>'
        f'<th class="num">previous year</th><th class="num">this year</th><th class="num">change</th>'
        f'<th class="num">change %</th></tr></thead><tbody>{rows}</tbody></table>'
        f"<p class='note'>The {YOY_ROWS} largest changes by amount; renamed departments are followed.</p>"
    )


def _three_public_section(d: RegionData) -> str:
    if not d.three_public:
        return "<h2>“三公”经费 over the years</h2><p class='note'>No loaded 三公 table.</p>"
    years = [str(r["fiscal_year"]) for r in d.three_public]
    parts = [
        ("因公出国(境)费", "outbound_yuan"),
        ("公务用车购置及运行费", "vehicle_yuan"),
        ("公务接待费", "reception_yuan"),
    ]
    series = [
        Series(label, [wan(r[key]) for r in d.three_public], PALETTE[i + 2]) for i, (label, key) in enumerate(parts)
    ]
    chart = bar_chart(
        years, series, title=f"{d.name}: “三公”经费", stacked=True, chart_id="chart-three-public", height=260
    )
    rows = "".join(
        f'<tr data-year="{r["fiscal_year"]}"><td>{r["fiscal_year"]}</td>'
        + "".join(num(wan(r[key]), key.replace("_yuan", "")) for _, key in parts)
        + f'{num(wan(r["total_yuan"]), "three-public-total")}<td class="num">{r["documents"]}</td></tr>'
        for r in d.three_public
    )
    head = "".join(f'<th class="num">{label}</th>' for label, _ in parts)
    return (
        f"<h2>“三公”经费 over the years (万元)</h2>{chart}"
        f'<table id="table-three-public"><thead><tr><th>year</th>{head}<th class="num">合计</th>'
        f'<th class="num">documents</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _page_link(url: str | None, page: int | None) -> str:
    if not url:
        return f"p. {page}" if page else "document"
    if page:
        return f'<a href="{escape(url)}#page={page}">p. {page}</a>'
    return f'<a href="{escape(url)}">document</a>'


def _documents_section(d: RegionData) -> str:
    rows = []
    for doc in d.documents:
        finds = d.findings.get(doc["document_sha256"], [])
        items = "".join(
            f'<li class="sev-{escape(f["severity"])}">{escape(f["severity"])} '
            f"<code>{escape(f['check_name'])}</code> {_page_link(doc['source_url'], f['page'])}"
            f'<br><span class="note">{escape((f["detail"] or "")[:300])}</span></li>'
            for f in finds
        )
        source = (
            f'<a href="{escape(doc["source_url"])}">{escape(display_name(doc["source_url"]))}</a>'
            if doc["source_url"]
            else ""
        )
        rows.append(
            f'<tr data-sha="{doc["document_sha256"]}"><td>{doc["fiscal_year"] or "–"}</td>'
            f"<td>{escape(doc['department_name'] or '–')}</td><td>{_status(doc['status'])}</td>"
            f'<td>{source}<br><span class="note">{escape(doc["status_reason"] or "")}</span></td>'
            f'<td class="num">{doc["page_count"] or "–"}</td><td class="num">{doc["tables_found"]}</td>'
            f'<td class="num" data-kind="rows-loaded" data-value="{doc["rows_loaded"]}">{doc["rows_loaded"]}</td>'
            f'<td class="num" data-kind="hard" data-value="{doc["hard_findings"]}">{doc["hard_findings"]}</td>'
            f'<td class="num" data-kind="soft" data-value="{doc["soft_findings"]}">{doc["soft_findings"]}</td>'
            f"<td>{escape((doc['checks_failed'] or '').replace(',', ', '))}"
            f"{'<ul class=findings>' + items + '</ul>' if items else ''}</td></tr>"
        )
    return (
        f"<h2>Data quality of every document</h2>"
        f'<table id="table-documents"><thead><tr><th>year</th><th>department</th><th>status</th>'
        f'<th>source</th><th class="num">pages</th><th class="num">tables</th><th class="num">rows</th>'
        f'<th class="num">hard</th><th class="num">soft</th><th>checks failed, findings (with their page)</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<p class='note'>quarantined: a hard finding kept the document out of the analyst views; soft findings "
        "are warnings (mostly the 说明's own arithmetic). Page links open the source PDF at the page.</p>"
    )


def region_page(d: RegionData, regions: list[tuple[str, str]], generated: str) -> str:
    body = (
        f"<h1>{escape(d.name)} ({escape(d.code)})</h1><p class='meta'>budget-etl report · generated {generated} · "
        f"amounts in 万元, summed in 元 and rounded once</p>"
        + _classes_section(d)
        + _yoy_section(d)
        + _three_public_section(d)
        + _documents_section(d)
    )
    return _page(f"{d.name} — budget-etl report", body, _nav(regions))


def index_page(data: list[RegionData], generated: str, warehouse: str) -> str:
    regions = [(d.code, d.name) for d in data]
    rows = []
    for d in data:
        statuses = {s: sum(1 for doc in d.documents if doc["status"] == s) for s in STATUS_ORDER}
        years = sorted({r["fiscal_year"] for r in d.classes})
        latest = years[-1] if years else None
        total = wan(sum(r["total_yuan"] for r in d.classes if r["fiscal_year"] == latest)) if latest else None
        rows.append(
            f'<tr data-region="{escape(d.code)}"><td><a href="region-{escape(d.code)}.html">{escape(d.name)}</a>'
            f"</td><td>{escape(d.code)}</td><td>{', '.join(str(y) for y in years) or '–'}</td>"
            + "".join(
                f'<td class="num" data-kind="{s}" data-value="{statuses[s]}">{statuses[s]}</td>' for s in STATUS_ORDER
            )
            + f"<td>{latest or '–'}</td>{num(total, 'latest-total')}</tr>"
        )
    head = "".join(f'<th class="num">{s}</th>' for s in STATUS_ORDER)
    years = sorted({r["fiscal_year"] for d in data for r in d.classes})
    chart = ""
    if years:
        series = [
            Series(
                f"{d.name} ({d.code})",
                [
                    wan(sum(r["total_yuan"] for r in d.classes if r["fiscal_year"] == y))
                    if any(r["fiscal_year"] == y for r in d.classes)
                    else None
                    for y in years
                ],
                PALETTE[i % len(PALETTE)],
            )
            for i, d in enumerate(data)
        ]
        chart = bar_chart(
            [str(y) for y in years],
            series,
            title="一般公共预算支出 per region and year",
            stacked=False,
            chart_id="chart-regions",
            height=260,
        )
    body = (
        f"<h1>budget-etl report</h1><p class='meta'>generated {generated} · warehouse {escape(warehouse)} · "
        "every figure from the <code>mart</code> views (docs/data-dictionary.md)</p>"
        f'<h2>Regions</h2><table id="table-regions"><thead><tr><th>region</th><th>code</th>'
        f'<th>years with 一般公共预算支出</th>{head}<th>latest year</th><th class="num">一般公共预算支出 (万元)</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{chart}"
        "<p class='note'>Each region's page: spending by 类 over the years, 基本 vs 项目, the largest "
        "year-over-year changes, 三公 funds, and the data-quality state of every document.</p>"
    )
    return _page("budget-etl report", body, _nav(regions))


def write_html_report(engine: sa.Engine, out: str | Path, *, warehouse: str = "") -> list[Path]:
    """Write the report to ``out``; returns the files written (index first)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with engine.connect() as conn:
        regions = _rows(
            conn,
            """SELECT region_code, MAX(region_name) AS region_name FROM mart.document_report
                                 WHERE region_code IS NOT NULL GROUP BY region_code ORDER BY region_code""",
        )
        data = [read_region(conn, r["region_code"], r["region_name"] or r["region_code"]) for r in regions]
    pairs = [(d.code, d.name) for d in data]
    files = [out / "index.html"]
    files[0].write_text(index_page(data, generated, warehouse), encoding="utf-8")
    for d in data:
        path = out / f"region-{d.code}.html"
        path.write_text(region_page(d, pairs, generated), encoding="utf-8")
        files.append(path)
    (out / "style.css").write_text(CSS.lstrip(), encoding="utf-8")
    files.append(out / "style.css")
    return files
