"""The table-type registry: ``table_types.yaml``, the one declaration of every table type.

A table type (部门收支预算表, 一般公共预算支出预算表 …) is declared once there: its title and header
vocabulary, its fields, whether a budget must publish it (``required``), which of its amounts can never
be negative, the identities checked on it (``rules``) and the fact table its rows go to.  A fact table's
columns (type, the field(s) each is read from, its description) are declared there too.  Everything
else is generated from it:

* the extractor's vocabulary and which fields are loaded (:mod:`assets.extract.templates`);
* the SQLAlchemy fact tables and their column comments (:mod:`warehouse_schema.tables`), hence the
  DuckDB schema and the Alembic migrations (autogenerate);
* the normaliser's fact rows (:mod:`assets.normalize.facts`);
* the required-table and non-negative lists of the GX suites (:mod:`expectations.suites`) and the
  within-table rules (:mod:`assets.validate.rules`);
* the data dictionary (:mod:`warehouse_schema.dictionary`).

Pure: no Dagster, no database.  :func:`parse` checks the declaration (unknown column types, a
``from`` naming no field of the types that feed the table, a rule or derivation nobody implements…)
and raises :class:`RegistryError` naming the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

REGISTRY_FILE = Path(__file__).with_name("table_types.yaml")

#: column types of the declaration → (SQL type name, length); see warehouse_schema/tables.py
COLUMN_TYPES = ("text", "code3", "code5", "code7", "code9", "amount", "bool", "decimal")
#: named derivations a fact column may use (implemented in assets/normalize/facts.py DERIVATIONS)
DERIVATIONS = (
    "unit_name",
    "code_printed",
    "basic_total",
    "none",
    "revenue_category",
    "fund_source",
    "income_kind",
    "is_of_which",
    "expense_kind",
    "class_code",
    "target_operator",
    "target_value",
    "target_unit",
)
#: which printed rows become facts (assets/normalize/facts.py ROW_FILTERS)
ROW_FILTERS = ("all", "total_with_amounts", "indicators")
#: steps after a table's rows are built (assets/normalize/facts.py)
AFTER_STEPS = ("carry_unit",)
#: within-table identities (assets/validate/rules.py TABLE_RULES)
TABLE_RULES = ("function_totals", "basic_totals", "three_public_parts")
SEVERITIES = ("hard", "soft")
#: values the extractor adds to a row besides its fields (how a code was read: assets/extract/printed_codes.py)
ROW_ANNOTATIONS = ("code_printed", "econ_code_printed")


class RegistryError(ValueError):
    """The declaration in table_types.yaml is inconsistent (the message names the entry)."""


@dataclass(frozen=True)
class FactColumn:
    name: str
    type: str  # one of COLUMN_TYPES
    description: str
    sources: tuple[str, ...] = ()  # extracted fields, first printed one wins
    derive: str | None = None  # a DERIVATIONS name instead of `sources`
    reads: tuple[str, ...] = ()  # the fields the derivation reads
    revenue_category: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """Every extracted field this column reads."""
        return self.sources + self.reads


@dataclass(frozen=True)
class FactTable:
    name: str
    description: str
    columns: tuple[FactColumn, ...]
    rows: str = "all"
    after: tuple[str, ...] = ()

    def column(self, name: str) -> FactColumn:
        return next(c for c in self.columns if c.name == name)

    @cached_property
    def fields(self) -> frozenset[str]:
        """The extracted fields the table keeps."""
        return frozenset(f for c in self.columns for f in c.fields)


@dataclass(frozen=True)
class TableType:
    key: str
    name: str  # the canonical Chinese title
    kind: str
    fact_table: str | None
    required: str | None  # hard | soft | None
    non_negative: tuple[str, ...]
    rules: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Registry:
    data: dict[str, Any]  # the parsed YAML (the extractor reads its vocabulary from it)
    types: tuple[TableType, ...]
    facts: tuple[FactTable, ...]

    def table_type(self, key: str) -> TableType:
        for t in self.types:
            if t.key == key:
                return t
        raise KeyError(key)

    def fact_table(self, name: str) -> FactTable:
        for f in self.facts:
            if f.name == name:
                return f
        raise KeyError(name)

    def fact_table_of(self) -> dict[str, str]:
        """table type → the fact table its rows go to."""
        return {t.key: t.fact_table for t in self.types if t.fact_table}

    def loaded_fields(self, type_key: str) -> frozenset[str] | None:
        """The fields of a table type the warehouse keeps (None: the type has no fact table, every field
        counts)."""
        t = self.table_type(type_key)
        return self.fact_table(t.fact_table).fields if t.fact_table else None

    def required_tables(self) -> dict[str, str]:
        """table type → severity of its absence, in declaration order."""
        return {t.key: t.required for t in self.types if t.required}

    def non_negative_fields(self) -> dict[str, tuple[str, ...]]:
        return {t.key: t.non_negative for t in self.types if t.non_negative}

    def types_with_rule(self, rule: str) -> tuple[str, ...]:
        return tuple(t.key for t in self.types if rule in t.rules)

    def revenue_columns(self) -> dict[str, str]:
        """fact_revenue amount column → its dim_revenue_category key."""
        return {c.name: c.revenue_category for c in self.fact_table("fact_revenue").columns if c.revenue_category}


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _column(table: str, name: str, spec: dict[str, Any]) -> FactColumn:
    where = f"fact_tables.{table}.columns.{name}"
    if spec.get("type") not in COLUMN_TYPES:
        raise RegistryError(f"{where}: type {spec.get('type')!r} is not one of {', '.join(COLUMN_TYPES)}")
    if not spec.get("description"):
        raise RegistryError(f"{where}: no description")
    if ("from" in spec) == ("derive" in spec):
        raise RegistryError(f"{where}: give exactly one of `from` and `derive`")
    if "derive" in spec and spec["derive"] not in DERIVATIONS:
        raise RegistryError(f"{where}: unknown derivation {spec['derive']!r}")
    return FactColumn(
        name=name,
        type=spec["type"],
        description=str(spec["description"]),
        sources=_tuple(spec.get("from")),
        derive=spec.get("derive"),
        reads=_tuple(spec.get("reads")),
        revenue_category=spec.get("revenue_category"),
    )


def _fact_table(name: str, spec: dict[str, Any]) -> FactTable:
    if not name.startswith("fact_"):
        raise RegistryError(f"fact_tables.{name}: a fact table's name starts with fact_")
    rows = spec.get("rows", "all")
    if rows not in ROW_FILTERS:
        raise RegistryError(f"fact_tables.{name}: rows {rows!r} is not one of {', '.join(ROW_FILTERS)}")
    after = _tuple(spec.get("after"))
    for step in after:
        if step not in AFTER_STEPS:
            raise RegistryError(f"fact_tables.{name}: unknown step after {step!r}")
    columns = tuple(_column(name, c, s) for c, s in (spec.get("columns") or {}).items())
    if not columns:
        raise RegistryError(f"fact_tables.{name}: no columns")
    return FactTable(name=name, description=str(spec.get("description") or ""), columns=columns, rows=rows, after=after)


def _fields_of(spec: dict[str, Any]) -> tuple[str, ...]:
    names = list((spec.get("fields") or {}).keys())
    names += [c["field"] for c in spec.get("columns") or ()]
    names += [f["field"] for f in spec.get("facts") or ()]
    return tuple(dict.fromkeys(names))


def _table_type(key: str, spec: dict[str, Any], facts: dict[str, FactTable]) -> TableType:
    where = f"types.{key}"
    fact = spec.get("fact_table")
    if fact is not None and fact not in facts:
        raise RegistryError(f"{where}: fact_table {fact!r} is not declared under fact_tables")
    required = spec.get("required")
    if required is not None and required not in SEVERITIES:
        raise RegistryError(f"{where}: required {required!r} is not one of {', '.join(SEVERITIES)}")
    fields = _fields_of(spec)
    non_negative = _tuple(spec.get("non_negative"))
    unknown = [f for f in non_negative if fields and f not in fields]
    if unknown:
        raise RegistryError(f"{where}: non_negative names fields it does not declare: {', '.join(unknown)}")
    rules = _tuple(spec.get("rules"))
    for rule in rules:
        if rule not in TABLE_RULES:
            raise RegistryError(f"{where}: unknown rule {rule!r}")
    return TableType(
        key=key,
        name=str(spec.get("name") or key),
        kind=spec.get("kind", "grid"),
        fact_table=fact,
        required=required,
        non_negative=non_negative,
        rules=rules,
        fields=fields,
    )


def parse(data: dict[str, Any]) -> Registry:
    """The registry of a parsed table_types.yaml (checked; see :class:`RegistryError`)."""
    facts = {name: _fact_table(name, spec) for name, spec in (data.get("fact_tables") or {}).items()}
    types = tuple(_table_type(k, s, facts) for k, s in (data.get("types") or {}).items())
    fed = {f: [t for t in types if t.fact_table == f] for f in facts}
    for name, table in facts.items():
        if not fed[name]:
            raise RegistryError(f"fact_tables.{name}: no table type names it as its fact_table")
        known = {f for t in fed[name] for f in t.fields}
        if all(t.kind == "grid" for t in fed[name]):  # two-sided tables' fields come from their item header
            missing = sorted(f for f in table.fields if f not in known and f not in ROW_ANNOTATIONS)
            if missing:
                raise RegistryError(
                    f"fact_tables.{name}: reads fields no table type feeding it declares: {', '.join(missing)}"
                )
    return Registry(data=data, types=types, facts=tuple(facts.values()))


@lru_cache(maxsize=1)
def current() -> Registry:
    """The registry of the project's table_types.yaml (read once per process)."""
    return parse(yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8")))
