"""`budget-etl query --format table|csv|json` and `budget-etl export`: what analysts take away.

Tables align Chinese text by display width; CSV and JSON keep amounts exact; exported Parquet and CSV files read
back equal to the views, on DuckDB and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from decimal import Decimal

import pytest
from click.testing import CliRunner
from test_warehouse import corpus_partitions, load_all, open_wh
from wcwidth import wcswidth

from pipelines.cli import main
from pipelines.export import ExportError, export_views, read_back, select_views
from pipelines.output import format_csv, format_json, format_table
from warehouse_schema.dictionary import load
from warehouse_schema.views import VIEW_ORDER

COLUMNS = ["region_name", "class_name", "total_wan", "is_of_which", "note"]
ROWS = [
    ("伊川县", "一般公共服务支出", Decimal("885.97"), False, None),
    ("新安县", "教育支出", Decimal("3318.70"), True, 'say "hi", then'),
    ("Region X", "社会保障和就业支出", Decimal("-0.05"), None, "a\nb"),
]


@pytest.fixture(scope="module")
def partitions(sample_portal_dir):
    return corpus_partitions(sample_portal_dir)


@pytest.fixture(params=["duckdb", "postgresql"])
def url(request):
    return request.getfixturevalue("duckdb_url" if request.param == "duckdb" else "pg_url")


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# -- formats (pure) -----------------------------------------------------------------------------------------


def test_table_aligns_chinese_text_by_display_width():
    text = format_table(COLUMNS[:3], [r[:3] for r in ROWS])
    lines = text.splitlines()
    assert lines[-1] == "(3 rows)"
    widths = {wcswidth(line.rstrip()) for line in lines[:-1]}
    # every line of the table is as wide as the header rule, whatever mix of CJK and ASCII it holds
    rule = lines[1]
    assert set(rule.replace(" ", "")) == {"-"}
    starts = [i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")]
    for line in lines[2:-1]:
        # the amount column is right-aligned: each row ends at the rule's end (display cells, not characters)
        assert wcswidth(line.rstrip()) == wcswidth(rule.rstrip()), line
    assert max(widths) == wcswidth(rule.rstrip()) and len(starts) == 3
    # the class names start at the same display column on every row
    col = [
        wcswidth(line[: line.index(name)]) for line, name in zip(lines[2:-1], ["一般", "教育", "社会"], strict=False)
    ]
    assert len(set(col)) == 1


def test_csv_and_json_keep_every_value_exact():
    parsed = list(csv.reader(io.StringIO(format_csv(COLUMNS, ROWS))))
    assert parsed[0] == COLUMNS
    assert parsed[1] == ["伊川县", "一般公共服务支出", "885.97", "false", ""]
    assert parsed[2][2:] == ["3318.70", "true", 'say "hi", then'] and parsed[3][4] == "a\nb"
    data = json.loads(format_json(COLUMNS, ROWS), parse_float=Decimal)
    assert data[0] == {
        "region_name": "伊川县",
        "class_name": "一般公共服务支出",
        "total_wan": Decimal("885.97"),
        "is_of_which": False,
        "note": None,
    }
    assert str(data[1]["total_wan"]) == "3318.70" and data[2]["total_wan"] == Decimal("-0.05")
    assert list(data[0]) == COLUMNS  # keys in column order
    assert format_json(COLUMNS, []) == "[]" and format_csv(COLUMNS, []) == ",".join(COLUMNS)


# -- the command line on a real warehouse -------------------------------------------------------------------


def test_query_formats_on_the_warehouse(duckdb_url, partitions):
    wh = open_wh(duckdb_url)
    load_all(wh, partitions)
    sql = (
        "SELECT region_name, fiscal_year, class_code, class_name, total_wan, total_yuan "
        "FROM mart.class_totals_by_region_year ORDER BY region_code, fiscal_year, class_code"
    )
    expected = wh.query(sql)[1]
    wh.dispose()
    as_json = run("query", sql, "--warehouse", duckdb_url, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    got = json.loads(as_json.output, parse_float=Decimal)
    assert [tuple(r.values()) for r in got] == [tuple(r) for r in expected]
    as_csv = run("query", sql, "--warehouse", duckdb_url, "--format", "csv")
    body = list(csv.reader(io.StringIO(as_csv.output)))
    assert body[0] == ["region_name", "fiscal_year", "class_code", "class_name", "total_wan", "total_yuan"]
    assert body[1:] == [[str(v) for v in r] for r in expected]
    table = run("query", sql, "--warehouse", duckdb_url)
    lines = table.output.splitlines()
    assert lines[-1] == f"({len(expected)} rows)"
    assert len({wcswidth(line.rstrip()) for line in lines[2:-1]}) == 1  # right-aligned amounts end together
    assert run("query", "SELECT 1", "--warehouse", duckdb_url, "--format", "xml").exit_code != 0


def test_view_selection():
    assert select_views(["mart.*"]) == VIEW_ORDER
    assert select_views(["three_public,mart.documents"]) == ["mart.documents", "mart.three_public"]
    assert select_views(["mart.expenditure_*"]) == [
        "mart.expenditure_by_function",
        "mart.expenditure_yoy_by_department_class",
    ]
    with pytest.raises(ExportError, match="no mart view matches 'mart.nope'"):
        select_views(["mart.nope"])


def _multiset(rows) -> Counter:
    return Counter(tuple(r) for r in rows)


def test_exported_files_read_back_equal_to_the_views(url, partitions, tmp_path):
    wh = open_wh(url)
    load_all(wh, partitions)
    views = {name: wh.query(f"SELECT * FROM {name}") for name in VIEW_ORDER}
    wh.dispose()
    d = load()

    done = export_views(url, VIEW_ORDER, "parquet", tmp_path / "pq")
    assert [e.view for e in done] == VIEW_ORDER
    for e in done:
        cols, data = views[e.view]
        assert e.rows == len(data)
        back = read_back(e.path, d.views[e.view])
        assert _multiset(tuple(r[c] for c in cols) for r in back) == _multiset(data), e.view
    fact = tmp_path / "pq" / "expenditure_by_function"
    years = sorted(p.name for p in fact.iterdir())
    assert years == ["fiscal_year=2023", "fiscal_year=2024"]  # partitioned by fiscal year
    assert (tmp_path / "pq" / "function_codes.parquet").is_file()  # a view without years: one file
    import pyarrow.parquet as pq

    schema = pq.read_schema(fact / "fiscal_year=2024" / "part-0.parquet")
    assert str(schema.field("total_yuan").type) == "decimal128(20, 2)"
    assert schema.field("total_yuan").metadata[b"description"].decode().startswith("合计 (total) of the 项, in 元")
    manifest = json.loads((tmp_path / "pq" / "export.json").read_text(encoding="utf-8"))
    assert manifest["views"]["mart.three_public"]["rows"] == len(views["mart.three_public"][1])

    done = export_views(url, VIEW_ORDER, "csv", tmp_path / "csv")
    for e in done:
        cols, data = views[e.view]
        with open(e.path, encoding="utf-8", newline="") as fh:
            body = list(csv.reader(fh))
        assert body[0] == cols
        text = [
            ["" if v is None else ("true" if v is True else "false" if v is False else str(v)) for v in r] for r in data
        ]
        assert _multiset(body[1:]) == _multiset(text), e.view


def test_export_command_replaces_a_views_previous_files(duckdb_url, partitions, tmp_path):
    wh = open_wh(duckdb_url)
    load_all(wh, partitions)
    wh.dispose()
    out = tmp_path / "export"
    res = run("export", "--views", "mart.expenditure_*", "--out", str(out), "--warehouse", duckdb_url)
    assert res.exit_code == 0, res.output
    assert "mart.expenditure_by_function" in res.output and "(2 views in" in res.output
    stale = out / "expenditure_by_function" / "fiscal_year=1999"
    stale.mkdir()
    res = run("export", "--views", "mart.expenditure_by_function", "--out", str(out), "--warehouse", duckdb_url)
    assert res.exit_code == 0 and not stale.exists()
    assert (out / "expenditure_yoy_by_department_class").is_dir()  # other views untouched
    bad = run("export", "--views", "mart.nope", "--out", str(out), "--warehouse", duckdb_url)
    assert bad.exit_code != 0 and "no mart view matches 'mart.nope'" in bad.output
