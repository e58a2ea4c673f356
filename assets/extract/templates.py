"""The national template's table types and their vocabulary, interpreted.

The table types are declared once, in the registry (``warehouse_schema/table_types.yaml``, read by
:mod:`warehouse_schema.registry`); this module reads their extraction part.

The words are data; this module only reads them:

* :func:`title_scores` / :func:`match_title`: the table type a title names, by scored evidence;
* :func:`canonical_path`: a column's header path reduced to comparable words (synonyms, group totals,
  fund and year qualifiers);
* :func:`map_columns`: columns → fields by the most specific header pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assets.extract.cells import header_text, to_halfwidth
from warehouse_schema import registry

#: a title must score this much for its type to be taken from it
MIN_TITLE_SCORE = 3


@dataclass(frozen=True)
class ColumnRule:
    """A text table's column rule: all ``all`` words in the header, none of ``none``."""

    field: str
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    last: str | None = None
    in_last: tuple[str, ...] = ()

    def matches(self, path: list[str]) -> bool:
        joined = "/".join(path)
        if any(word not in joined for word in self.all) or any(word in joined for word in self.none):
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
class Pattern:
    """A header pattern: words that must occur in the path's segments in order, the last in the leaf;
    ``exact`` words must equal their segment."""

    words: tuple[str, ...]
    exact: tuple[bool, ...]
    forbidden: tuple[str, ...] = ()  # words the leaf must not contain ("运行维护-购置")
    bonus: int = 0  # "三公!": preferred over the generic patterns of other fields

    def score(self, path: tuple[str, ...], printed: tuple[str, ...] | None = None) -> int:
        """0 when the pattern does not match the path, else its specificity.  A word matches a segment
        by its canonical word or by its printed text (``printed``, parallel to ``path``)."""
        if not path or not self.words:
            return 0
        printed = printed if printed is not None and len(printed) == len(path) else path
        leaf = (path[-1], printed[-1])
        if not self._word_matches(len(self.words) - 1, *leaf) or any(w in x for w in self.forbidden for x in leaf):
            return 0
        k = len(self.words) - 2
        for seg in reversed(list(zip(path[:-1], printed[:-1], strict=False))):
            if k < 0:
                break
            if self._word_matches(k, *seg):
                k -= 1
        if k >= 0:
            return 0
        exact_leaf = self.words[-1] in leaf
        return 10 * len(self.words) + (5 if exact_leaf else 0) - (len(path) - len(self.words)) + self.bonus

    def _word_matches(self, i: int, segment: str, printed: str) -> bool:
        w = self.words[i]
        if self.exact[i]:
            return w in (segment, printed)
        return w in segment or w in printed


@dataclass(frozen=True)
class FieldSpec:
    name: str
    patterns: tuple[Pattern, ...]
    role: str = "amount"  # code | code_part | text | unit | amount | year


@dataclass(frozen=True)
class Template:
    key: str
    name: str  # the canonical Chinese title
    kind: str = "grid"  # grid | two_sided | text
    title_weights: tuple[tuple[re.Pattern, int], ...] = ()
    header_weights: tuple[tuple[re.Pattern, int], ...] = ()
    content: str = "none"  # function | economic | none: what the rows hold
    unique: bool = False
    demote_to: str | None = None
    subject: frozenset[str] = frozenset()
    fields: tuple[FieldSpec, ...] = ()
    fund: str | None = None  # keep only this fund's columns (others are recorded as that fund's part)
    one_total: bool = False
    transposable: bool = False
    fact_table: str | None = None  # the core fact table of its rows (None: kept in core.extracted_table only)
    requires: tuple[tuple[str, ...], ...] = ()  # fields it must have read (each: alternatives)
    # text tables
    columns: tuple[ColumnRule, ...] = field(default_factory=tuple)
    facts: tuple[FactRule, ...] = ()
    fill_down: tuple[str, ...] = ()
    amount_fields: tuple[str, ...] = ()

    @property
    def code_field(self) -> str:
        return "econ_code" if self.content == "economic" else "function_code"

    @property
    def row_kind(self) -> str | None:  # the 三公 table's data row is its total
        return "total" if self.one_total else None

    def spec(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def role(self, name: str) -> str:
        spec = self.spec(name)
        return spec.role if spec else "amount"


@dataclass(frozen=True)
class Vocabulary:
    totals: frozenset[str]
    synonyms: dict[str, str]  # printed word → canonical word
    noise: frozenset[str]
    funds: dict[str, str]  # printed fund word → fund key
    change: tuple[str, ...]
    prior: tuple[str, ...]
    total_rows: tuple[re.Pattern, ...]
    change_rows: tuple[str, ...]
    prior_rows: tuple[re.Pattern, ...]
    ordinal: re.Pattern
    empty_notes: re.Pattern


@lru_cache(maxsize=1)
def _raw() -> dict:
    return registry.current().data


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    raw = _raw()
    h = raw["header"]
    synonyms: dict[str, str] = {}
    for canonical, words in h["synonyms"].items():
        for w in words:
            synonyms[header_text(w)] = canonical
    funds = {header_text(w): key for key, words in h["funds"].items() for w in words}
    rows = raw["rows"]
    return Vocabulary(
        totals=frozenset(header_text(w) for w in h["totals"]),
        synonyms=synonyms,
        noise=frozenset(header_text(w) for w in h["noise"]),
        funds=funds,
        change=tuple(header_text(w) for w in h["change"]),
        prior=tuple(header_text(w) for w in h["prior"]),
        total_rows=tuple(re.compile(p) for p in rows["total"]),
        change_rows=tuple(rows["change"]),
        prior_rows=tuple(re.compile(p) for p in rows["prior"]),
        ordinal=re.compile(rows["ordinal"]),
        empty_notes=re.compile("|".join(f"(?:{p})" for p in raw["empty_notes"])),
    )


def canonical_word(word: str) -> str:
    """A printed header word as the vocabulary's canonical word (totals → 合计)."""
    v = vocabulary()
    w = header_text(word)
    if w in v.totals:
        return "合计"
    return v.synonyms.get(w, w)


def _pattern(text: str) -> Pattern:
    """``"基本支出/人员经费"``, ``"=类"`` (equal, not contained), ``"运行维护-购置"`` (the leaf without 购置),
    ``"三公!"`` (preferred)."""
    bonus = 20 if text.endswith("!") else 0
    text = text.rstrip("!")
    text, *forbidden = text.split("-")
    words, exact = [], []
    for part in text.split("/"):
        is_exact = part.startswith("=")
        w = part[1:] if is_exact else part
        # a total word matches every total ("合计" stands for 小计, 总计 …); other words match printed or
        # canonical text as they are
        words.append("合计" if header_text(w) in vocabulary().totals else header_text(w))
        exact.append(is_exact)
    return Pattern(tuple(words), tuple(exact), tuple(header_text(w) for w in forbidden), bonus)


def _weights(spec: dict | None) -> tuple[tuple[re.Pattern, int], ...]:
    return tuple((re.compile(p), int(w)) for p, w in (spec or {}).items())


@lru_cache(maxsize=1)
def load_templates() -> tuple[Template, ...]:
    out = []
    for key, spec in _raw()["types"].items():
        fields = tuple(
            FieldSpec(name, tuple(_pattern(p) for p in f.get("patterns", ())), f.get("role", "amount"))
            for name, f in (spec.get("fields") or {}).items()
        )
        columns = tuple(
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
                kind=spec.get("kind", "grid"),
                title_weights=_weights(spec.get("title")),
                header_weights=_weights(spec.get("header")),
                content=spec.get("content", "none"),
                unique=bool(spec.get("unique", False)),
                demote_to=spec.get("demote_to"),
                subject=frozenset(header_text(w) for w in spec.get("subject", ())),
                fields=fields,
                fund=spec.get("fund"),
                one_total=bool(spec.get("one_total", False)),
                transposable=bool(spec.get("transposable", False)),
                fact_table=spec.get("fact_table"),
                requires=tuple(tuple(r.split("|")) for r in spec.get("requires", ())),
                columns=columns,
                facts=facts,
                fill_down=tuple(spec.get("fill_down", ())),
                amount_fields=tuple(spec.get("amount_fields", ())),
            )
        )
    return tuple(out)


def template(key: str) -> Template:
    for t in load_templates():
        if t.key == key:
            return t
    raise KeyError(key)


# --------------------------------------------------------------------------- titles

_TITLE_TAIL = re.compile(r"表(\(.*\))?$")
#: numbering and year in front of a title: "表5：", "公开08表", "五、", "2026年", "(一)"
_TITLE_PREFIX = re.compile(
    r"^(?:公开\s*\d+\s*表|表\s*\d+\s*[:：、.．]?|表[一二三四五六七八九十]+(?:\s*[:：、.．]|\s|(?=\d))|"
    r"附表\s*\d*[:：]?|[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、.．])\s*"
)
_CONTINUED = re.compile(r"[(（]?续(表)?[)）]?$|^续表")


def is_title_line(line: str) -> bool:
    """A table title: a short line ending in 表 (optionally with a bracketed note)."""
    line = header_text(line)
    return 4 <= len(line) <= 60 and bool(_TITLE_TAIL.search(line)) and "说明" not in line


def title_key(line: str) -> str:
    """A title without its numbering, year and 续: two pages of one table print the same key."""
    t = re.sub(r"\s+", " ", to_halfwidth(line or "")).strip()
    for _ in range(3):
        t = _TITLE_PREFIX.sub("", t)
    t = _CONTINUED.sub("", header_text(t))
    t = re.sub(r"^(?:\d{4}年度?)", "", t)
    return t


def title_scores(line: str) -> dict[str, int]:
    """Each table type's score for a title (the evidence of ``title`` in the vocabulary)."""
    key = title_key(line)
    out = {}
    for t in load_templates():
        s = sum(w for p, w in t.title_weights if p.search(key))
        if s:
            out[t.key] = s
    return out


def match_title(line: str) -> Template | None:
    """The type a title line names (the best score, when it reaches :data:`MIN_TITLE_SCORE`), or None."""
    if not is_title_line(line):
        return None
    scores = title_scores(line)
    if not scores:
        return None
    best = max(scores.items(), key=lambda kv: kv[1])
    if best[1] < MIN_TITLE_SCORE or list(scores.values()).count(best[1]) > 1:
        return None
    return template(best[0])


# --------------------------------------------------------------------------- header paths

_YEAR = re.compile(r"(?:19|20)(\d{2})\s*年度?")
_FUND_WORD = {"gpb": "一般公共预算", "gov_fund": "政府性基金", "soe_capital": "国有资本经营"}
_BRACKETED_UNIT = re.compile(r"[(（](?:万元|元|千元|亿元|单位[:：].*)[)）]")
_OF_WHICH = re.compile(r"^(其中[:：]?|含[:：])")


@dataclass(frozen=True)
class CanonicalPath:
    """A column's header path reduced to comparable words, with its qualifiers."""

    words: tuple[str, ...]
    fund: str | None = None  # gpb | gov_fund | soe_capital: the column is that fund's part of its group
    year: str = "current"  # current | prior | change
    printed: tuple[str, ...] = ()  # each word as printed (cleaned), parallel to ``words``

    def __str__(self) -> str:
        return "/".join(self.words)


def canonical_path(path: list[str], tpl: Template | None = None, fiscal_year: int | None = None) -> CanonicalPath:
    """Reduce a header path (cells top-down) to canonical words.

    Per segment: half-width, no spaces, quotes, 其中 or bracketed unit; a year is dropped when it is the
    fiscal year and marks a prior-year column otherwise; synonyms (vocabulary) become their canonical
    word, every total word becomes 合计.  Then: the type's subject words and noise are dropped, a
    fund word becomes the ``fund`` qualifier, a 合计 that is not the leaf (a wrapper group) is dropped,
    and a 合计 leaf under a group becomes that group (the group's total: 基本支出/小计 = 基本支出)."""
    v = vocabulary()
    year = "current"
    words: list[str] = []
    printed: list[str] = []
    fund = None
    for raw in path:
        seg = _BRACKETED_UNIT.sub("", header_text(raw))
        seg = _OF_WHICH.sub("", seg)
        m = _YEAR.search(seg)
        if m:
            y = int(m.group(0)[:4])
            if fiscal_year is not None and y < fiscal_year:
                year = "prior"
            seg = _YEAR.sub("", seg)
        if not seg:
            continue
        if any(seg.startswith(w) for w in v.change):
            year = "change"
            continue
        if seg in v.prior:  # 上年预算数 (last year's budget); 上年结转 is this year's carry-over, not last year
            year = "prior"
            continue
        shown = seg
        if seg in v.funds:
            if tpl is not None and tpl.fund:
                fund = v.funds[seg]
                continue
            seg = _FUND_WORD[v.funds[seg]]
        word = canonical_word(seg)
        if words and words[-1] == word:
            continue
        words.append(word)
        printed.append(shown)
    if not words and fund is not None:
        words, printed = [_FUND_WORD[fund]], [_FUND_WORD[fund]]
        fund = None
    pairs = [
        (w, p)
        for w, p in zip(words, printed, strict=False)
        if w not in v.noise and p not in v.noise and not (tpl is not None and (w in tpl.subject or p in tpl.subject))
    ]
    if not pairs and words:
        pairs = [(words[-1], printed[-1])]
    # a wrapper group named as a total, and a total leaf under a group (the group's own total)
    out = [wp for i, wp in enumerate(pairs) if wp[0] != "合计" or i == len(pairs) - 1]
    if len(out) > 1 and out[-1][0] == "合计":
        out = out[:-1]
    return CanonicalPath(tuple(w for w, _ in out), fund, year, tuple(p for _, p in out))


def map_columns(tpl: Template, paths: list[list[str]], fiscal_year: int | None = None) -> dict[int, str]:
    """Column index → field, by header text (never by position).

    Grid tables: every (column, field) pair whose pattern matches is scored by the pattern's
    specificity; pairs are taken best first, each field and each column once.  A column of another
    fund than the type's (``fund``), of last year or of the change is prefixed ``prior:``, ``change:`` or
    ``<fund>:`` (recorded, never loaded as this year's budget).  Text tables use their column rules."""
    if not tpl.fields:
        return _map_rules(tpl, paths)
    canon = [canonical_path(p, tpl, fiscal_year) if p else None for p in paths]
    pairs = []
    for j, cp in enumerate(canon):
        if cp is None or not cp.words:
            continue
        for order, spec in enumerate(tpl.fields):
            best = max((pat.score(cp.words, cp.printed) for pat in spec.patterns), default=0)
            if best:
                pairs.append((-best, order, j, spec.name))
    pairs.sort()
    assigned: dict[int, str] = {}
    used: set[str] = set()
    for _, _, j, name in pairs:
        if j in assigned:
            continue
        cp = canon[j]
        prefix = _qualifier(cp, tpl)
        full = f"{prefix}{name}" if prefix else name
        if full in used:
            continue
        assigned[j] = full
        used.add(full)
    return assigned


def _qualifier(cp: CanonicalPath, tpl: Template) -> str:
    if cp.year == "prior":
        return "prior:"
    if cp.year == "change":
        return "change:"
    if tpl.fund and cp.fund and cp.fund != tpl.fund:
        return f"{cp.fund}:"
    return ""


def _map_rules(tpl: Template, paths: list[list[str]]) -> dict[int, str]:
    assigned: dict[int, str] = {}
    used: set[str] = set()
    for idx, path in enumerate(paths):
        if not path:
            continue
        for rule in tpl.columns:
            if rule.field not in used and rule.matches(path):
                assigned[idx] = rule.field
                used.add(rule.field)
                break
    return assigned


def loaded_field(tpl: Template, name: str) -> bool:
    """A field the warehouse keeps: not a qualified column, and read by a column of the type's fact table
    (the registry's ``fact_tables``); every field of a type without a fact table counts."""
    if ":" in name:
        return False
    loaded = registry.current().loaded_fields(tpl.key)
    return loaded is None or name in loaded
