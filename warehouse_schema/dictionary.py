"""The data dictionary of the ``mart`` views, written once in ``dictionary.yaml``.

From that one file come
* the ``COMMENT ON VIEW`` / ``COMMENT ON COLUMN`` of every view in DuckDB and PostgreSQL
  (:func:`comment_statements`, applied by :func:`warehouse_schema.views.create_views`; the views'
  fingerprint includes the file, so a changed description re-applies them);
* the column schema of the views' Dagster assets (``pipelines/definitions.py``);
* ``docs/data-dictionary.md`` (:func:`render_markdown`): ``python -m warehouse_schema.dictionary --write``
  rewrites it, ``--check`` exits 1 when it is stale (tests/integration/test_dictionary.py does the same).

Column types are logical (``text``, ``integer``, ``bigint``, ``boolean``, ``decimal(p,s)``); the tests
compare them with what each engine reports for the views.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from warehouse_schema import registry

HERE = Path(__file__).resolve().parent
PATH = HERE / "dictionary.yaml"
#: the rendered dictionary, in the repository's docs/
MARKDOWN = HERE.parent / "docs" / "data-dictionary.md"

TYPE_PATTERN = re.compile(r"^(text|integer|bigint|boolean|decimal\((\d+),(\d+)\))$")
WAN, YUAN = "decimal(18,2)", "decimal(20,2)"


class DictionaryError(ValueError):
    """dictionary.yaml is malformed (names the view and column)."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class View:
    name: str  # schema-qualified: mart.x
    description: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Dictionary:
    rules: dict[str, str]
    views: dict[str, View]


def source_text(path: Path = PATH) -> str:
    return path.read_text(encoding="utf-8")


def _spec(where: str, value: Any) -> dict[str, str]:
    """A column entry's value → {type?, description?, amount?}."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"description": value}
    if isinstance(value, dict) and set(value) <= {"type", "description", "amount"}:
        return {k: str(v) for k, v in value.items()}
    raise DictionaryError(f"{where}: expected a description or {{type, description, amount}}, got {value!r}")


def _amount_text(amount: str, unit: str, stem: str) -> str:
    if unit == "wan":
        return f"{amount}, in 万元 (rounded half away from zero from the exact `{stem}_yuan`)."
    return f"{amount}, in 元 (exact; sum these and round once)."


def parse(data: dict) -> Dictionary:
    rules = {str(k): str(v).strip() for k, v in (data.get("rules") or {}).items()}
    common = {str(k): _spec(f"columns.{k}", v) for k, v in (data.get("columns") or {}).items()}
    views: dict[str, View] = {}
    for view_name, body in (data.get("views") or {}).items():
        if not isinstance(body, dict) or not body.get("description") or not body.get("columns"):
            raise DictionaryError(f"{view_name}: needs a description and columns")
        amounts: dict[str, str] = {}  # stem → amount text of its _wan column
        columns: list[Column] = []
        for item in body["columns"]:
            if isinstance(item, str):
                name, spec = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                ((name, value),) = item.items()
                spec = _spec(f"{view_name}.{name}", value)
            else:
                raise DictionaryError(f"{view_name}: a column is a name or a one-key mapping, got {item!r}")
            merged = {**common.get(name, {}), **spec}
            kind, description = merged.get("type"), merged.get("description")
            if "amount" in merged:
                if not name.endswith("_wan"):
                    raise DictionaryError(f"{view_name}.{name}: an amount column is named *_wan")
                stem = name[: -len("_wan")]
                amounts[stem] = merged["amount"]
                kind, description = kind or WAN, _amount_text(merged["amount"], "wan", stem)
            elif name.endswith("_yuan") and not description:
                stem = name[: -len("_yuan")]
                if stem not in amounts:
                    raise DictionaryError(
                        f"{view_name}.{name}: no {stem}_wan amount before it to take its description from"
                    )
                kind, description = kind or YUAN, _amount_text(amounts[stem], "yuan", stem)
            if not description:
                raise DictionaryError(f"{view_name}.{name}: no description (give one, or add it to `columns:`)")
            kind = kind or (WAN if name.endswith("_wan") else YUAN if name.endswith("_yuan") else "text")
            if not TYPE_PATTERN.match(kind):
                raise DictionaryError(f"{view_name}.{name}: unknown type {kind!r}")
            if any(c.name == name for c in columns):
                raise DictionaryError(f"{view_name}.{name}: listed twice")
            columns.append(Column(name, kind, " ".join(description.split())))
        views[view_name] = View(view_name, " ".join(str(body["description"]).split()), tuple(columns))
    return Dictionary(rules, views)


@lru_cache(maxsize=4)
def load(path: Path = PATH) -> Dictionary:
    return parse(yaml.safe_load(source_text(path)))


# -- COMMENT ON ------------------------------------------------------------------------------------------


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statements(views: list[str] | None = None, dictionary: Dictionary | None = None) -> list[str]:
    """``COMMENT ON VIEW`` and ``COMMENT ON COLUMN`` statements (the same SQL in DuckDB and PostgreSQL)."""
    d = dictionary or load()
    out = []
    for name in views or list(d.views):
        view = d.views[name]
        out.append(f"COMMENT ON VIEW {name} IS {_literal(view.description)}")
        out += [f"COMMENT ON COLUMN {name}.{c.name} IS {_literal(c.description)}" for c in view.columns]
    return out


def apply_comments(conn, views: list[str]) -> None:
    """Comment ``views`` (which must exist) in the caller's transaction.

    Through the DB-API cursor without parameters: descriptions contain ``%``, which SQLAlchemy's
    ``exec_driver_sql`` would hand psycopg as a placeholder."""
    cur = conn.connection.cursor()
    try:
        for sql in comment_statements(views):
            cur.execute(sql)
    finally:
        cur.close()


# -- docs/data-dictionary.md ----------------------------------------------------------------------------

RULE_TITLES = {
    "amounts": "Amounts: 万元 and exact 元",
    "blank_cells": "Blank cells and zeros",
    "loaded_only": "Which documents the views show",
    "names": "Names",
    "provenance": "Provenance",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _anchor(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "", name.lower())


def render_markdown(dictionary: Dictionary | None = None) -> str:
    d = dictionary or load()
    lines = [
        "# Data dictionary: the `mart` views",
        "",
        "<!-- generated from warehouse_schema/dictionary.yaml by `python -m warehouse_schema.dictionary --write`: "
        "edit that file, not this one -->",
        "",
        "Written once in `warehouse_schema/dictionary.yaml`. The same descriptions are the comments of the views "
        "and their columns in the warehouse (DuckDB: `SELECT view_name, comment FROM duckdb_views()` and "
        "`SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'mart'`; "
        "PostgreSQL: `\\d+ mart.expenditure_by_function` in psql) and the column schema of the views' assets "
        "in the Dagster UI.",
        "",
        "## Rules",
        "",
    ]
    for key, text in d.rules.items():
        lines += [f"### {RULE_TITLES.get(key, key)}", "", *text.splitlines(), ""]
    lines += ["## Views", ""]
    for view in d.views.values():
        lines.append(f"* [`{view.name}`](#{_anchor(view.name)}): {view.description}")
    lines.append("")
    for view in d.views.values():
        lines += [f"## {view.name}", "", view.description, "", "| column | type | description |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {c.type} | {_cell(c.description)} |" for c in view.columns]
        lines.append("")
    return "\n".join(lines + core_fact_tables_markdown())


def core_fact_tables_markdown(reg: registry.Registry | None = None) -> list[str]:
    """The ``core`` fact tables behind the views, from the table-type registry (``table_types.yaml``)."""
    reg = reg or registry.current()
    lines = [
        "# Behind the views: the `core` fact tables",
        "",
        "<!-- generated from warehouse_schema/table_types.yaml (the table-type registry) -->",
        "",
        "Declared once, with their table types, in `warehouse_schema/table_types.yaml`; the SQL schema (and its "
        "column comments) is generated from the same declaration. Analysts read the `mart` views; these tables "
        "are for data engineers. Every fact table starts with `document_sha256`, `table_type`, `page`, "
        "`row_index` and `row_kind` (detail | subtotal | total); its key is (`document_sha256`, `table_type`, "
        "`row_index`): one row per printed row (a constraint on PostgreSQL; on DuckDB, where a key index would "
        "cost every load, each load checks it before writing).",
        "",
    ]
    for fact in reg.facts:
        fed_by = [f"{t.name} (`{t.key}`)" for t in reg.types if t.fact_table == fact.name]
        lines += [
            f"## core.{fact.name}",
            "",
            fact.description,
            "",
            f"Rows from: {', '.join(fed_by)}.",
            "",
            "| column | type | read from | description |",
            "|---|---|---|---|",
        ]
        for c in fact.columns:
            source = ", ".join(f"`{f}`" for f in c.sources) or f"derived ({c.derive})"
            lines.append(f"| `{c.name}` | {c.type} | {source} | {_cell(c.description)} |")
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render_markdown()
    if args == ["--write"]:
        MARKDOWN.parent.mkdir(parents=True, exist_ok=True)
        MARKDOWN.write_text(text, encoding="utf-8")
        print(f"wrote {MARKDOWN}")
        return 0
    if args == ["--check"]:
        current = MARKDOWN.read_text(encoding="utf-8") if MARKDOWN.exists() else ""
        if current != text:
            print(f"{MARKDOWN} is stale: run python -m warehouse_schema.dictionary --write", file=sys.stderr)
            return 1
        return 0
    if not args:
        sys.stdout.write(text)
        return 0
    print("usage: python -m warehouse_schema.dictionary [--write | --check]", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
