"""The national template's tables: title aliases and header → field rules.

The rules are data (``templates.yaml``); this module only interprets them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from assets.extract.cells import header_text

TEMPLATES_FILE = Path(__file__).with_name("templates.yaml")


@dataclass(frozen=True)
class ColumnRule:
    field: str
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    last: str | None = None
    in_last: tuple[str, ...] = ()  # words that must be in the last (lowest) header cell

    def matches(self, path: list[str]) -> bool:
        joined = "/".join(path)
        if any(word not in joined for word in self.all):
            return False
        if any(word in joined for word in self.none):
            return False
        if self.last is not None and (not path or path[-1] != self.last):
            return False
        if self.in_last and (not path or any(word not in path[-1] for word in self.in_last)):
            return False
        return bool(self.all or self.last or self.in_last)


@dataclass(frozen=True)
class FactRule:
    """A table-level fact printed in a head row: ``label`` words, then the value to their right."""

    field: str
    label: tuple[str, ...]
    value: str = "amount"  # amount | text


@dataclass(frozen=True)
class Template:
    key: str
    name: str  # the canonical Chinese title
    titles: tuple[re.Pattern, ...]
    kind: str = "grid"  # grid | two_sided | text
    exclude: tuple[re.Pattern, ...] = ()  # titles that match ``titles`` but name another table
    code_field: str = "function_code"  # where codes from 类|款|项 columns go
    columns: tuple[ColumnRule, ...] = field(default_factory=tuple)
    facts: tuple[FactRule, ...] = ()  # text tables: facts of the head rows above the column header
    fill_down: tuple[str, ...] = ()  # text tables: fields of merged cells repeated on each row
    amount_fields: tuple[str, ...] = ()  # text tables: fields parsed as amounts
    row_kind: str | None = None  # every data row is of this kind (the 三公 table's one row is its 合计)


@lru_cache(maxsize=1)
def load_templates() -> tuple[Template, ...]:
    raw = yaml.safe_load(TEMPLATES_FILE.read_text(encoding="utf-8"))["templates"]
    out = []
    for key, spec in raw.items():
        rules = tuple(
            ColumnRule(
                field=r["field"],
                all=tuple(r.get("all", ())),
                none=tuple(r.get("none", ())),
                last=r.get("last"),
                in_last=tuple(r.get("in_last", ())),
            )
            for r in spec.get("columns", ())
        )
        facts = tuple(
            FactRule(field=r["field"], label=tuple(r["label"]), value=r.get("value", "amount"))
            for r in spec.get("facts", ())
        )
        out.append(
            Template(
                key=key,
                name=spec["name"],
                titles=tuple(re.compile(p) for p in spec["titles"]),
                exclude=tuple(re.compile(p) for p in spec.get("exclude", ())),
                kind=spec.get("kind", "grid"),
                code_field=spec.get("code_field", "function_code"),
                columns=rules,
                facts=facts,
                fill_down=tuple(spec.get("fill_down", ())),
                amount_fields=tuple(spec.get("amount_fields", ())),
                row_kind=spec.get("row_kind"),
            )
        )
    return tuple(out)


def template(key: str) -> Template:
    for t in load_templates():
        if t.key == key:
            return t
    raise KeyError(key)


_TITLE_TAIL = re.compile(r"表(\(.*\))?$")


def is_title_line(line: str) -> bool:
    """A table title: a short line ending in 表 (optionally with a bracketed note)."""
    line = header_text(line)
    return 4 <= len(line) <= 48 and bool(_TITLE_TAIL.search(line)) and "说明" not in line


def match_title(line: str) -> Template | None:
    """The template a title line names, or None."""
    line = header_text(line)
    if not is_title_line(line):
        return None
    for t in load_templates():
        if any(p.search(line) for p in t.titles) and not any(p.search(line) for p in t.exclude):
            return t
    return None


def map_columns(tpl: Template, paths: list[list[str]]) -> dict[int, str]:
    """Column index → canonical field, by header text (never by position)."""
    assigned: dict[int, str] = {}
    used: set[str] = set()
    for idx, path in enumerate(paths):
        if not path:
            continue
        for rule in tpl.columns:
            if rule.field in used:
                continue
            if rule.matches(path):
                assigned[idx] = rule.field
                used.add(rule.field)
                break
    return assigned
