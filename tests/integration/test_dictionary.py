"""The analyst contract's data dictionary and amounts, on DuckDB and PostgreSQL for real.

* warehouse_schema/dictionary.yaml describes every mart view and column, in the views' column order, with
  the types each engine reports; the descriptions are the COMMENT ON of both engines, and
  docs/data-dictionary.md is rendered from the same file (stale → this test fails);
* every amount is in 万元 (``*_wan``) and exact in 元 (``*_yuan``): ``*_yuan`` sums equal the roll-up views
  to the 分, and ``*_wan`` is ``*_yuan`` rounded once;
* blank cells and printed zeros follow one rule in every view.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from test_warehouse import corpus_partitions, load_all, open_wh

from warehouse_schema import dictionary
from warehouse_schema.views import VIEW_ORDER


@pytest.fixture(scope="module")
def partitions(sample_portal_dir):
    return corpus_partitions(sample_portal_dir)


@pytest.fixture(params=["duckdb", "postgresql"])
def url(request):
    return request.getfixturevalue("duckdb_url" if request.param == "duckdb" else "pg_url")


def rows(wh, sql):
    return wh.query(sql)[1]


def wan(yuan: Decimal) -> Decimal:
    return (yuan / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- the dictionary itself ----------------------------------------------------------------------------------


def test_rendered_data_dictionary_is_current():
    assert dictionary.MARKDOWN.exists(), "run python -m warehouse_schema.dictionary --write"
    assert dictionary.MARKDOWN.read_text(encoding="utf-8") == dictionary.render_markdown(), (
        "docs/data-dictionary.md is stale: run python -m warehouse_schema.dictionary --write"
    )
    assert dictionary.main(["--check"]) == 0


def test_dictionary_describes_every_view_and_derives_the_yuan_columns():
    d = dictionary.load()
    assert list(d.views) == sorted(VIEW_ORDER, key=list(d.views).index) and set(d.views) == set(VIEW_ORDER)
    view = d.views["mart.expenditure_by_function"]
    assert view.column("total_wan").type == "decimal(18,2)"
    assert view.column("total_yuan").type == "decimal(20,2)"
    assert view.column("total_yuan").description.startswith("合计 (total) of the 项, in 元 (exact")
    assert view.column("region_code").description.startswith("6-digit administrative division code")
    text = dictionary.render_markdown()
    assert "| `printed_unit` | text | Unit the table is printed in (万元 or 元)." in text
    assert "## mart.three_public" in text and "### Blank cells and zeros" in text


@pytest.mark.parametrize(
    "body, message",
    [
        ({"views": {"mart.v": {"description": "d", "columns": ["nope"]}}}, "mart.v.nope: no description"),
        ({"views": {"mart.v": {"description": "d", "columns": ["x_yuan"]}}}, "mart.v.x_yuan: no x_wan amount"),
        (
            {"views": {"mart.v": {"description": "d", "columns": [{"a": {"type": "float", "description": "d"}}]}}},
            "mart.v.a: unknown type 'float'",
        ),
        ({"views": {"mart.v": {"description": "d", "columns": [{"a": {"amount": "x"}}]}}}, "named *_wan"),
        ({"views": {"mart.v": {"columns": ["a"]}}}, "mart.v: needs a description and columns"),
    ],
)
def test_a_malformed_dictionary_names_the_view_and_column(body, message):
    with pytest.raises(dictionary.DictionaryError, match=message.replace("*", r"\*").replace("(", r"\(")):
        dictionary.parse(body)


# -- the views in both engines ------------------------------------------------------------------------------


def _duckdb_type(data_type: str) -> str:
    t = data_type.lower().replace(" ", "")
    return {"varchar": "text", "integer": "integer", "bigint": "bigint", "boolean": "boolean"}.get(t, t)


def _pg_type(data_type: str, precision, scale) -> str:
    if data_type == "numeric":
        return f"decimal({precision},{scale})"
    return {
        "text": "text",
        "character varying": "text",
        "integer": "integer",
        "bigint": "bigint",
        "boolean": "boolean",
    }.get(data_type, data_type)


def view_columns(wh) -> dict[str, list[tuple[str, str, str | None]]]:
    """view → [(column, logical type, comment)] in column order, as the engine reports them."""
    out: dict[str, list] = {}
    if wh.dialect == "duckdb":
        comments = {
            (t, c): m
            for t, c, m in rows(
                wh, "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'mart'"
            )
        }
        for t, c, dt in rows(
            wh,
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'mart' ORDER BY table_name, ordinal_position",
        ):
            out.setdefault(f"mart.{t}", []).append((c, _duckdb_type(dt), comments[(t, c)]))
    else:
        for t, c, dt, p, s, m in rows(
            wh,
            """
                SELECT table_name, column_name, data_type, numeric_precision, numeric_scale,
                       col_description(('mart.' || table_name)::regclass, ordinal_position)
                FROM information_schema.columns WHERE table_schema = 'mart'
                ORDER BY table_name, ordinal_position""",
        ):
            out.setdefault(f"mart.{t}", []).append((c, _pg_type(dt, p, s), m))
    return out


def view_comments(wh) -> dict[str, str | None]:
    if wh.dialect == "duckdb":
        return {
            f"mart.{v}": m
            for v, m in rows(wh, "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'mart'")
        }
    return {
        f"mart.{v}": m
        for v, m in rows(
            wh,
            "SELECT table_name, obj_description(('mart.' || table_name)::regclass) "
            "FROM information_schema.views WHERE table_schema = 'mart'",
        )
    }


def test_views_have_the_dictionary_columns_types_and_comments(url):
    wh = open_wh(url)
    d = dictionary.load()
    got = view_columns(wh)
    assert set(got) == set(d.views)
    for name, view in d.views.items():
        assert [c for c, _, _ in got[name]] == [c.name for c in view.columns], name
        assert [(c, t) for c, t, _ in got[name]] == [(c.name, c.type) for c in view.columns], name
        assert [m for _, _, m in got[name]] == [c.description for c in view.columns], name
    assert view_comments(wh) == {name: view.description for name, view in d.views.items()}
    # a quote in a description survives (SQL literal escaping), and so does a % (psycopg placeholders)
    perf = dict((c, m) for c, _, m in got["mart.expenditure_yoy_by_department_class"])
    assert (
        perf["change_pct"] == "Change in percent of the previous year's amount (NULL without a previous year, "
        "or when it was 0)."
    )
    targets = dict((c, m) for c, _, m in got["mart.performance_targets"])
    assert targets["target_unit"] == "Unit of a quantitative target (%, 人次, 万元 …)."
    wh.dispose()


# -- amounts --------------------------------------------------------------------------------------------------


def amount_stems(view: dictionary.View) -> list[str]:
    names = {c.name for c in view.columns}
    return [c.name[:-4] for c in view.columns if c.name.endswith("_wan") and f"{c.name[:-4]}_yuan" in names]


def test_yuan_sums_equal_the_rollups_to_the_fen(url, partitions):
    wh = open_wh(url)
    load_all(wh, partitions)
    facts = {
        (r[0], r[1], r[2]): r[3:]
        for r in rows(
            wh,
            """
        SELECT region_code, fiscal_year, class_code, SUM(total_yuan), SUM(basic_yuan), SUM(project_yuan),
               SUM(total_wan) FROM mart.expenditure_by_function GROUP BY region_code, fiscal_year, class_code""",
        )
    }
    rollup = {
        (r[0], r[1], r[2]): r[3:]
        for r in rows(
            wh,
            """
        SELECT region_code, fiscal_year, class_code, total_yuan, basic_yuan, project_yuan, total_wan, basic_wan,
               project_wan FROM mart.class_totals_by_region_year""",
        )
    }
    assert set(facts) == set(rollup) and len(rollup) > 10
    for key, (total, basic, project, _) in facts.items():
        assert rollup[key][:3] == (total, basic, project), key  # to the 分
        assert rollup[key][3:] == (wan(total), wan(basic), wan(project)), key  # rounded once
    # why: the sum of rounded rows drifts (the example, 伊川县 2023 类 208)
    assert facts[("410329", 2023, "208")][3] == Decimal("203.39")
    assert rollup[("410329", 2023, "208")][3] == Decimal("203.37")
    # year over year: the department × 类 totals in 元, and their change
    yoy = rows(
        wh,
        "SELECT department_key, fiscal_year, class_code, total_yuan, prev_total_yuan, change_yuan, "
        "total_wan, change_wan FROM mart.expenditure_yoy_by_department_class",
    )
    by_dept = {
        (r[0], r[1], r[2]): r[3]
        for r in rows(
            wh,
            """
        SELECT department_key, fiscal_year, class_code, SUM(total_yuan) FROM mart.expenditure_by_function
        GROUP BY department_key, fiscal_year, class_code""",
        )
    }
    for dept, year, cls, total, prev, change, total_w, change_w in yoy:
        assert total == by_dept.get((dept, year, cls), Decimal("0.00")), (dept, year, cls)
        assert total_w == wan(total)
        if prev is not None:
            assert change == total - prev and change_w == wan(change)
    assert any(r[4] is not None for r in yoy)
    wh.dispose()


def test_every_wan_column_is_its_yuan_column_rounded_once(url, partitions):
    wh = open_wh(url)
    load_all(wh, partitions)
    checked = 0
    for name, view in dictionary.load().views.items():
        for stem in amount_stems(view):
            for w, y in rows(wh, f"SELECT {stem}_wan, {stem}_yuan FROM {name}"):
                assert (w is None) == (y is None), (name, stem)
                if y is not None:
                    assert w == wan(y), (name, stem, w, y)
                    checked += 1
    assert checked > 1000
    units = dict(rows(wh, "SELECT printed_unit, COUNT(*) FROM mart.expenditure_by_function GROUP BY printed_unit"))
    assert set(units) == {"万元", "元"}  # the 农业农村局 2023 document prints 元
    ((yuan_printed,),) = rows(
        wh, "SELECT COUNT(*) FROM mart.expenditure_by_function WHERE printed_unit = '元' AND MOD(total_yuan, 100) <> 0"
    )
    assert yuan_printed > 0  # 分 that 万元 with 2 decimals cannot show
    wh.dispose()


#: the only NULL amounts: amounts that do not apply to the row (dictionary rule `blank_cells`)
NOT_APPLICABLE = {
    "mart.fiscal_appropriation": "side = 'income'",
    "mart.expenditure_yoy_by_department_class": "prev_total_yuan IS NULL",
    "mart.performance_targets": "target_scope = 'department'",
}
LONG_VIEWS = ("mart.revenue_by_function", "mart.project_expenditure_by_fund_source")


def test_blank_cells_and_printed_zeros_follow_one_rule(url, partitions):
    wh = open_wh(url)
    load_all(wh, partitions)
    # the corpus prints both: blank cells (NULL in core) and 0.00 (0 in core)
    ((blank, zero),) = rows(
        wh,
        "SELECT SUM(CASE WHEN public_yuan IS NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN public_yuan = 0 THEN 1 ELSE 0 END) FROM core.fact_basic_economic "
        "WHERE row_kind = 'detail'",
    )
    assert blank > 0 and zero > 0
    ((rblank, rzero),) = rows(
        wh,
        "SELECT SUM(CASE WHEN gov_fund_yuan IS NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN gpb_yuan = 0 OR gov_fund_yuan = 0 THEN 1 ELSE 0 END) "
        "FROM core.fact_revenue",
    )
    assert rblank > 0 and rzero > 0
    for name, view in dictionary.load().views.items():
        for stem in amount_stems(view):
            col = f"{stem}_yuan"
            where = f"{col} IS NULL" + (f" AND NOT ({NOT_APPLICABLE[name]})" if name in NOT_APPLICABLE else "")
            ((n,),) = rows(wh, f"SELECT COUNT(*) FROM {name} WHERE {where}")
            assert n == 0, f"{name}.{col}: {n} NULL amounts that apply to their row"
            if name in LONG_VIEWS:
                ((n,),) = rows(wh, f"SELECT COUNT(*) FROM {name} WHERE {col} = 0")
                assert n == 0, f"{name}: a row for a zero amount"
    # a blank 公用经费 cell and a printed 0.00 read the same
    seed = {
        r[0]: r[1:]
        for r in rows(
            wh,
            """SELECT econ_code, personnel_wan, public_wan, personnel_yuan, public_yuan
        FROM mart.basic_expenditure_by_economic
        WHERE department_name = '伊川县政务服务中心' AND fiscal_year = 2024""",
        )
    }
    assert seed["30199"] == (Decimal("570.51"), Decimal("0.00"), Decimal("5705100.00"), Decimal("0.00"))
    assert seed["30201"] == (Decimal("0.00"), Decimal("10.56"), Decimal("0.00"), Decimal("105600.00"))
    # not applicable: the 收入 side of 财政拨款收支 has one amount
    ((n,),) = rows(wh, "SELECT COUNT(*) FROM mart.fiscal_appropriation WHERE side = 'income' AND gpb_yuan IS NOT NULL")
    assert n == 0
    wh.dispose()
