"""The 说明 (narrative) against the tables, and against last year's document.

Pure functions.  The amounts and percentages the 说明 quotes ("收入总计 1145.25
万元", "基本支出 909.25 万元，占 79.39%", "与 2023 年预算相比…减少 0.76 万元，下降
0.65%") become soft :class:`~assets.validate.rules.Comparison` s: a mismatch
loads the document with a warning.

Tolerances come from what is printed: a quoted "1145.25" is ±0.005 万元, a
quoted "236" ±0.5 万元, each table amount ±0.005 of its unit; a percentage
is compared with the interval its printed operands allow, plus half its own
last digit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from assets.records import (
    TABLE_EXPENDITURE,
    TABLE_GPB_BASIC,
    TABLE_GPB_EXPENDITURE,
    TABLE_INCOME_EXPENDITURE,
    TABLE_REVENUE,
    TABLE_THREE_PUBLIC,
    ExtractedTable,
    ExtractionResult,
)
from assets.validate.rules import (
    EXPENSE_GRAND,
    EXPENSE_YEAR,
    FEN_PER_UNIT,
    INCOME_GRAND,
    INCOME_YEAR,
    Comparison,
    basic_field,
    half_precision,
    table_total,
    two_sided_amount,
)

WAN = "万元"
NUM = r"(\d[\d,]*(?:\.\d+)?)"
_FOOTER = re.compile(r"(?m)^\s*[-—]\s*\d{1,3}\s*[-—]\s*$")
_HEADING = re.compile(r"(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\))[^。;,:]{2,40}?(?:情况说明|情况)")


@dataclass
class TableValue:
    """An amount of a table, in 万元, with where it is printed."""

    amount: Decimal  # 万元
    half: Decimal  # half the printed precision, in 万元
    page: int | None
    row_index: int | None
    table_type: str
    what: str  # e.g. "部门收支预算表 收入总计"


@dataclass
class Quote:
    """An amount or percentage quoted in the 说明."""

    key: str  # which figure (income_total, basic, basic_pct …)
    text: str  # the number as printed
    value: Decimal
    unit: str  # 万元 | 元 | %
    page: int | None
    context: str  # the sentence around it
    section: str  # the heading it is under


@dataclass
class ChangeQuote:
    """ "与 2023 年预算相比，收支总计各减少 0.76 万元，下降 0.65%"."""

    subject: str  # total | gpb
    year: int
    signed_change: Decimal  # 万元, negative for 减少
    change_text: str
    pct: Decimal | None
    pct_text: str | None
    page: int | None
    context: str


def squash(text: str) -> str:
    """NFKC (full-width digits and punctuation → ASCII), page footers and whitespace removed."""
    text = _FOOTER.sub("", unicodedata.normalize("NFKC", text))
    return re.sub(r"\s+", "", text)


def _joined(pages: list[tuple[int | None, str]]) -> tuple[str, list[tuple[int, int | None]]]:
    parts, starts, pos = [], [], 0
    for number, text in pages:
        s = squash(text)
        starts.append((pos, number))
        parts.append(s)
        pos += len(s)
    return "".join(parts), starts


def _page_at(starts: list[tuple[int, int | None]], offset: int) -> int | None:
    page = None
    for pos, number in starts:
        if pos <= offset:
            page = number
    return page


def _sentence(text: str, start: int, end: int) -> str:
    a = max(text.rfind("。", 0, start), text.rfind(";", 0, start)) + 1
    b = min((i for i in (text.find("。", end), text.find(";", end)) if i >= 0), default=len(text))
    sentence = _HEADING.split(text[a : b + 1])[-1]
    return sentence[:160]


def _dec(s: str) -> Decimal:
    return Decimal(s.replace(",", ""))


# label → key; the reference table of basic/project depends on the section (see _section_table)
AMOUNT_PATTERNS: list[tuple[str, str]] = [
    ("income_total", r"收入总计"),
    ("expense_total", r"支出总计"),
    ("income_year", r"(?<!总)收入合计"),
    ("expense_year", r"(?<![总出])支出合计"),
    ("gpb_income", r"一般公共预算拨款收入"),
    ("gpb_total", r"一般公共预算支出年初预算为"),
    ("gpb_total", r"一般公共预算收支预算"),
    ("basic_table_total", r"一般公共预算基本支出年初预算为"),
    ("basic", r"(?<!公共预算)基本支出"),
    ("project", r"项目支出"),
    ("personnel", r"人员经费支出"),
    ("public", r"公用经费支出"),
    ("three_public_total", r"“三公”经费预算"),
    ("three_public_outbound", r"因公出国\(境\)费"),
    ("three_public_vehicle_total", r"公务用车购置及运行费"),
    ("three_public_vehicle_purchase", r"公务用车购置费"),
    ("three_public_vehicle_operation", r"公务用车运行费"),
    ("three_public_reception", r"公务接待费"),
]
_PCT_AFTER = re.compile(r",占(?:比)?" + NUM + r"%")
_CHANGE = re.compile(
    r"与(\d{4})年(?:预算)?(?:数)?相比,?(收支总计|一般公共预算收支预算|一般公共预算支出预算|一般公共预算支出)各?"
    r"(增加|减少)" + NUM + r"万元,(增长|下降)" + NUM + r"%"
)


def find_quotes(pages: list[tuple[int | None, str]]) -> tuple[list[Quote], list[ChangeQuote]]:
    """Every amount/percentage the 说明 quotes that a table can confirm."""
    text, starts = _joined(pages)
    headings = [(m.start(), m.group(0)) for m in _HEADING.finditer(text)]

    def section(at: int) -> str:
        return next((h for pos, h in reversed(headings) if pos <= at), "")

    quotes: list[Quote] = []
    taken: set[int] = set()
    for key, label in AMOUNT_PATTERNS:
        for m in re.finditer(label + r"(?:为|是|:)?" + NUM + r"(万元|元)", text):
            if m.start(1) in taken or re.search(r"年(预算)?相比", text[max(0, m.start() - 30) : m.start()]):
                continue
            taken.add(m.start(1))
            page = _page_at(starts, m.start(1))
            ctx = _sentence(text, m.start(), m.end())
            sec = section(m.start())
            quotes.append(Quote(key, m.group(1), _dec(m.group(1)), m.group(2), page, ctx, sec))
            if key in ("basic", "project", "personnel", "public"):
                p = _PCT_AFTER.match(text, m.end())
                if p:
                    quotes.append(Quote(f"{key}_pct", p.group(1), _dec(p.group(1)), "%", page, ctx, sec))
    changes: list[ChangeQuote] = []
    for m in _CHANGE.finditer(text):
        sign = -1 if m.group(3) == "减少" else 1
        subject = "total" if m.group(2) == "收支总计" else "gpb"
        changes.append(
            ChangeQuote(
                subject,
                int(m.group(1)),
                sign * _dec(m.group(4)),
                m.group(4),
                _dec(m.group(6)),
                m.group(6),
                _page_at(starts, m.start(4)),
                _sentence(text, m.start(), m.end()),
            )
        )
    return quotes, changes


# --------------------------------------------------------------------------- table values


def _tv(table: ExtractedTable, amount: Decimal | None, row, what: str) -> TableValue | None:
    if amount is None:
        return None
    f = Decimal(FEN_PER_UNIT.get(table.unit, FEN_PER_UNIT[WAN])) / FEN_PER_UNIT[WAN]
    return TableValue(
        amount * f,
        Decimal("0.005") * f,
        row.page if row else (table.pages or [None])[0],
        row.row_index if row else None,
        table.table_type,
        f"{_base_title(table)} {what}",
    )


def _base_title(table: ExtractedTable) -> str:
    return re.sub(r"^(\d{4}年|表\d+\s*)", "", table.title or table.table_type).strip()


def table_values(result: ExtractionResult) -> dict[str, TableValue]:
    """The figures a 说明 quotes, read from the tables (万元)."""
    out: dict[str, TableValue] = {}

    def put(key: str, tv: TableValue | None) -> None:
        if tv is not None and key not in out:
            out[key] = tv

    summ = _usable(result.table(TABLE_INCOME_EXPENDITURE))
    if summ:
        for key, side, labels, what in (
            ("income_total", "income", INCOME_GRAND, "收入总计"),
            ("expense_total", "expense", EXPENSE_GRAND, "支出总计"),
            ("income_year", "income", INCOME_YEAR, "本年收入合计"),
            ("expense_year", "expense", EXPENSE_YEAR, "本年支出合计"),
        ):
            a, row = two_sided_amount(summ, side, labels)
            put(key, _tv(summ, a, row, what))
    rev = _usable(result.table(TABLE_REVENUE))
    if rev:
        put("income_year", _tv(rev, *table_total(rev, "total"), "合计"))
        put("gpb_income", _tv(rev, *table_total(rev, "gpb"), "一般公共预算 合计"))
    for prefix, ttype in (("dept", TABLE_EXPENDITURE), ("gpb", TABLE_GPB_EXPENDITURE)):
        t = _usable(result.table(ttype))
        if t:
            put(f"{prefix}_total", _tv(t, *table_total(t, "total"), "合计"))
            put(f"{prefix}_basic", _tv(t, *table_total(t, "basic_total"), "基本支出"))
            put(f"{prefix}_project", _tv(t, *table_total(t, "project_total"), "项目支出"))
    if "dept_total" in out:
        put("expense_year", out["dept_total"])
    basic = _usable(result.table(TABLE_GPB_BASIC))
    if basic:
        put("basic_table_total", _tv(basic, *table_total(basic, basic_field(basic)), "合计"))
        put("personnel", _tv(basic, *table_total(basic, "personnel"), "人员经费"))
        put("public", _tv(basic, *table_total(basic, "public"), "公用经费"))
    tp = result.table(TABLE_THREE_PUBLIC)
    if tp is not None:
        if tp.empty or not tp.rows:
            for k in ("total", "outbound", "vehicle_total", "vehicle_purchase", "vehicle_operation", "reception"):
                put(
                    f"three_public_{k}",
                    TableValue(
                        Decimal(0),
                        Decimal(0),
                        (tp.pages or [None])[0],
                        None,
                        tp.table_type,
                        f"{_base_title(tp)} (此表无数据)",
                    ),
                )
        else:
            # the budget's row: not last year's, nor the change, nor a unit's (the 三公 table may print all)
            row = next((r for r in tp.rows if r.kind == "total"), tp.rows[0])
            for k, what in (
                ("total", "合计"),
                ("outbound", "因公出国(境)费"),
                ("vehicle_total", "公务用车购置及运行费"),
                ("vehicle_purchase", "公务用车购置费"),
                ("vehicle_operation", "公务用车运行费"),
                ("reception", "公务接待费"),
            ):
                v = row.values.get(k)
                put(f"three_public_{k}", _tv(tp, v if isinstance(v, Decimal) else Decimal(0), row, what))
    return out


def _usable(t: ExtractedTable | None) -> ExtractedTable | None:
    return t if t is not None and not t.empty and t.rows else None


def _section_table(section: str) -> str:
    """Which table a 基本支出/项目支出 figure refers to: the section's heading decides."""
    return "gpb" if "一般公共预算" in section else "dept"


def _pct_tolerance(a: Decimal, ea: Decimal, b: Decimal, eb: Decimal, printed: str) -> tuple[Decimal, Decimal]:
    """(a / b × 100, the largest deviation the printed operands allow + half the printed pct digit)."""
    mid = a / b * 100
    lo = (a - ea) / (b + eb) * 100 if b + eb else mid
    hi = (a + ea) / (b - eb) * 100 if b - eb > 0 else mid
    tol = max(hi - mid, mid - lo) + half_precision(printed)
    q = Decimal("0.0001")
    return mid.quantize(q, rounding=ROUND_HALF_UP), tol.quantize(q, rounding=ROUND_CEILING)


def _display(value: Decimal, printed: str) -> str:
    decimals = len(printed.split(".", 1)[1]) if "." in printed else 0
    return str(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def narrative_comparisons(
    result: ExtractionResult, pages: list[tuple[int | None, str]] | None = None
) -> list[Comparison]:
    """Quoted amounts and percentages of the 说明 against the tables (soft)."""
    pages = pages if pages is not None else [(None, result.narrative)]
    quotes, changes = find_quotes(pages)
    values = table_values(result)
    out: list[Comparison] = []
    for q in quotes:
        key = q.key
        if key.endswith("_pct"):
            part_key = key[:-4]
            if part_key in ("basic", "project"):
                src = _section_table(q.section)
                part, whole = values.get(f"{src}_{part_key}"), values.get(f"{src}_total")
            else:  # personnel / public: share of 基本支出
                part, whole = values.get(part_key), values.get("basic_table_total")
            if not part or not whole or not whole.amount:
                continue
            exp, tol = _pct_tolerance(part.amount, part.half, whole.amount, whole.half, q.text)
            out.append(
                _quote_cmp(
                    f"narrative_{key}",
                    exp,
                    q,
                    tol,
                    part,
                    f"说明 says {q.context!r}: {part.what} {part.amount} / {whole.what} {whole.amount} "
                    f"= {_display(exp, q.text)}%",
                )
            )
            continue
        if key in ("basic", "project"):
            key = f"{_section_table(q.section)}_{key}"
        tv = values.get(key)
        if tv is None:
            continue
        quoted = q.value if q.unit == WAN else q.value / 10000
        half = half_precision(q.text) * (1 if q.unit == WAN else Decimal("0.0001"))
        c = _quote_cmp(
            f"narrative_{q.key}",
            tv.amount,
            q,
            half + tv.half,
            tv,
            f"说明 says {q.context!r}; {tv.what} is {tv.amount} 万元",
        )
        c.actual = quoted
        out.append(c)
    for ch in changes:
        now = (
            values.get("income_total") or values.get("dept_total") if ch.subject == "total" else values.get("gpb_total")
        )
        if now is None or ch.pct is None:
            continue
        half_change = half_precision(ch.change_text)
        prev = now.amount - ch.signed_change
        if prev <= 0:
            continue
        exp, tol = _pct_tolerance(abs(ch.signed_change), half_change, prev, now.half + half_change, ch.pct_text)
        base = now.amount
        hint = ""
        if base and abs(abs(ch.signed_change) / base * 100 - ch.pct) <= half_precision(ch.pct_text):
            hint = f" (the printed {ch.pct_text}% is the change divided by this year's {base}, not last year's)"
        out.append(
            Comparison(
                f"narrative_change_pct_{ch.subject}",
                "soft",
                exp,
                ch.pct,
                "%",
                tol,
                ch.page,
                None,
                None,
                f"说明 says {ch.context!r}: a change of {ch.change_text} 万元 from last year's {prev} 万元 "
                f"(this year {now.amount} {'+' if ch.signed_change < 0 else '-'} {ch.change_text}) is "
                f"{_display(exp, ch.pct_text)}%{hint}",
                extra={"expected_text": _display(exp, ch.pct_text)},
            )
        )
    return out


def _quote_cmp(check: str, expected: Decimal, q: Quote, tol: Decimal, tv: TableValue, detail: str) -> Comparison:
    c = Comparison(
        check, "soft", expected, q.value, "%" if q.unit == "%" else WAN, tol, q.page, None, tv.table_type, detail
    )
    if q.unit == "%":
        c.extra["expected_text"] = _display(expected, q.text)
    c.extra["table_page"] = tv.page
    return c


# --------------------------------------------------------------------------- previous year


@dataclass
class PreviousYear:
    """What the warehouse holds of last year's loaded document of the same region and department."""

    document_sha256: str
    fiscal_year: int
    totals: dict[str, Decimal]  # total | gpb → 万元
    source_url: str | None = None


def previous_year_comparisons(
    result: ExtractionResult, previous: PreviousYear | None, pages: list[tuple[int | None, str]] | None = None
) -> list[Comparison]:
    """The 说明's year-over-year change against last year's loaded document (soft)."""
    if previous is None:
        return []
    pages = pages if pages is not None else [(None, result.narrative)]
    _, changes = find_quotes(pages)
    values = table_values(result)
    out: list[Comparison] = []
    for ch in changes:
        if ch.year != previous.fiscal_year or ch.subject not in previous.totals:
            continue
        now = (
            values.get("income_total") or values.get("dept_total") if ch.subject == "total" else values.get("gpb_total")
        )
        if now is None:
            continue
        prev = previous.totals[ch.subject]
        expected = now.amount - prev
        what = "收支总计" if ch.subject == "total" else "一般公共预算支出"
        out.append(
            Comparison(
                f"previous_year_change_{ch.subject}",
                "soft",
                expected,
                ch.signed_change,
                WAN,
                half_precision(ch.change_text) + now.half + Decimal("0.005"),
                ch.page,
                None,
                None,
                f"说明 says {ch.context!r}; {what} is {now.amount} 万元 this year and {prev} 万元 in the loaded "
                f"{previous.fiscal_year} document {previous.document_sha256[:12]}, a change of {expected} 万元",
                extra={"previous_document": previous.document_sha256},
            )
        )
    return out
