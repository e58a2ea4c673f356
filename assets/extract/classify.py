"""Which table is it: the type of a printed table from scored evidence.

Three kinds of evidence, all from the vocabulary (``table_types.yaml``), none from a page number or
the order of the tables:

* the title's words (预算表 / 总表 / 情况表, 一般公共预算 / 政府性基金 / 财政拨款, （功能科目） / （经济科目）…);
* the header's words (基本支出, 人员经费 …);
* what the rows hold: 功能分类 codes or names (2xx, 一般公共服务支出) or 经济分类 ones (301xx / 501xx,
  工资福利支出): a 一般公共预算支出表 holding 经济分类 rows is the economic table whatever its title says.

Then per document: a type that exists once (``unique``) goes to its best-scored table; the others
take their next type (``demote_to``) or stay recorded as a second copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assets.extract.cells import clean_text, to_halfwidth
from assets.extract.templates import MIN_TITLE_SCORE, Template, load_templates, template, title_scores

#: the weight of the rows' evidence: a table whose rows hold the other classification is not that type
CONTENT_MATCH = 3
CONTENT_CONTRADICTS = -8

_FUNCTION_CODE = re.compile(r"^[\[【]?(2\d{2}|2\d{4}|2\d{6})[\]】]?(?!\d)")
_ECONOMIC_CODE = re.compile(r"^[\[【]?([35]\d{2}|[35]\d{4}|[35]\d{6})[\]】]?(?!\d)")
_FUNCTION_NAMES = (
    "一般公共服务支出",
    "社会保障和就业支出",
    "卫生健康支出",
    "住房保障支出",
    "教育支出",
    "科学技术支出",
    "城乡社区支出",
    "农林水支出",
    "交通运输支出",
    "公共安全支出",
    "节能环保支出",
    "行政运行",
    "行政事业单位养老支出",
    "住房公积金",
    "行政单位医疗",
    "事业单位医疗",
)
_ECONOMIC_NAMES = (
    "工资福利支出",
    "商品和服务支出",
    "对个人和家庭的补助",
    "资本性支出",
    "基本工资",
    "津贴补贴",
    "奖金",
    "办公费",
    "印刷费",
    "差旅费",
    "退休费",
    "绩效工资",
    "机关事业单位基本养老保险缴费",
    "职业年金缴费",
    "职工基本医疗保险缴费",
    "其他工资福利支出",
    "其他商品和服务支出",
    "工会经费",
    "福利费",
)


@dataclass
class ContentProfile:
    function: int = 0
    economic: int = 0

    @property
    def kind(self) -> str:
        if self.function >= 2 and self.function > 2 * self.economic:
            return "function"
        if self.economic >= 2 and self.economic > 2 * self.function:
            return "economic"
        return "none"


def content_profile(cells: list[list[str]]) -> ContentProfile:
    """Count the rows holding 功能分类 and 经济分类 codes or names.  A 3-digit code counts only beside a
    class name of its kind (a department's own code, "327 某某局", is no 经济分类 类)."""
    p = ContentProfile()
    for row in cells:
        texts = [clean_text(to_halfwidth(c)) for c in row[:4]]
        joined = "".join(texts)
        for t in texts:
            if not t:
                continue
            m = _FUNCTION_CODE.match(t)
            if m and (len(m.group(1)) > 3 or any(n in joined for n in _FUNCTION_NAMES)):
                p.function += 1
                break
            m = _ECONOMIC_CODE.match(t)
            if m and (len(m.group(1)) > 3 or any(n in joined for n in _ECONOMIC_NAMES)):
                p.economic += 1
                break
            bare = re.sub(r"^[\[【(（]?[一二三四五六七八九十\d]+[、.．)）\]】]?", "", t)
            if bare in _FUNCTION_NAMES:
                p.function += 1
                break
            if bare in _ECONOMIC_NAMES:
                p.economic += 1
                break
    return p


@dataclass
class Candidate:
    """A printed table waiting for its type: its title's and rows' evidence, scored per type."""

    title: str
    scores: dict[str, int] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)  # type → what counted
    chosen: str | None = None

    def ranked(self) -> list[tuple[str, int]]:
        return sorted(self.scores.items(), key=lambda kv: -kv[1])


def score_table(title: str, header_words: str, profile: ContentProfile) -> Candidate:
    """Every type's score for a table: title + header + content evidence."""
    cand = Candidate(title)
    base = title_scores(title)
    for t in load_templates():
        s = base.get(t.key, 0)
        ev = [f"title {s:+d}"] if s else []
        h = sum(w for p, w in t.header_weights if p.search(header_words))
        if h:
            s += h
            ev.append(f"header {h:+d}")
        kind = profile.kind
        if t.content in ("function", "economic") and kind != "none":
            c = CONTENT_MATCH if kind == t.content else CONTENT_CONTRADICTS
            s += c
            ev.append(f"rows hold {kind} codes {c:+d}")
        if base.get(t.key, 0) > 0 or s >= MIN_TITLE_SCORE:
            cand.scores[t.key] = s
            cand.evidence[t.key] = ev
    return cand


def best_type(cand: Candidate, taken: set[str] = frozenset()) -> str | None:
    for key, s in cand.ranked():
        if s < MIN_TITLE_SCORE:
            return None
        if key not in taken:
            return key
    return None


def assign_types(cands: list[Candidate]) -> None:
    """Give each candidate its type: a unique type to its best-scored table, the others their next
    best type (or the type's ``demote_to``); ``chosen`` None: a second copy, recorded."""
    order = sorted(range(len(cands)), key=lambda i: -max(cands[i].scores.values(), default=-99))
    taken: set[str] = set()
    for i in order:
        c = cands[i]
        key = best_type(c)
        if key is None:
            continue
        tpl = template(key)
        if tpl.unique and key in taken:
            alt = (
                tpl.demote_to
                if tpl.demote_to and (not template(tpl.demote_to).unique or tpl.demote_to not in taken)
                else None
            )
            key = alt or best_type(c, taken | {key})
            if key is None:
                continue
            tpl = template(key)
        c.chosen = key
        if tpl.unique:
            taken.add(key)


def resolved_template(cand: Candidate) -> Template | None:
    return template(cand.chosen) if cand.chosen else None
