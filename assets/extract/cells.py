"""Cleaning of single cells: text, amounts and codes as printed.

Pure functions; no PDF library here.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

# a dash printed in an amount cell is a zero; a blank cell (or "/" …) is nothing printed
_ZERO_MARKS = {"-", "--", "—", "——", "–", "－", "―", "─", "0", "0.0", "0.00"}
_NOTHING_MARKS = {"", "/", "／", "*", "…"}
ZERO = Decimal("0.00")
_AMOUNT_RE = re.compile(r"^[-+]?\d+(\.\d+)?$")


class AmountError(ValueError):
    """A cell that should hold an amount holds something else."""


def to_halfwidth(text: str) -> str:
    """Full-width digits, letters, brackets and punctuation → ASCII (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def clean_text(text: str | None) -> str:
    """Join a cell's wrapped lines and drop stray spaces.

    Chinese text wraps inside a cell without a separator, so the lines are
    joined with nothing; runs of whitespace inside are removed as well because
    the template never puts spaces inside names ("项 目" is "项目").
    """
    if text is None:
        return ""
    text = str(text).replace("\u3000", " ")
    return re.sub(r"\s+", "", text)


def header_text(text: str | None) -> str:
    """A header cell as a comparable key: half-width, no whitespace or quotes."""
    t = clean_text(to_halfwidth(text or ""))
    return re.sub(r"[\"'“”‘’]", "", t)


def parse_amount(text: str | None) -> Decimal | None:
    """Parse a printed amount exactly.

    ``None`` for a blank cell; ``Decimal("0.00")`` for a zero printed as
    "0.00", "-" or "—"; thousands separators, full-width digits, and negatives
    in parentheses or with a minus sign are handled.  Raises
    :class:`AmountError` for anything that is not a number.
    """
    if text is None:
        return None
    t = to_halfwidth(str(text)).strip()
    t = re.sub(r"\s+", "", t)
    if t in _NOTHING_MARKS:
        return None
    if t in _ZERO_MARKS:
        return ZERO
    negative = False
    if t.startswith("(") and t.endswith(")"):
        negative, t = True, t[1:-1]
    t = t.replace(",", "").replace("，", "")
    if t.endswith("%"):
        raise AmountError(f"percentage, not an amount: {text!r}")
    if not _AMOUNT_RE.match(t):
        raise AmountError(f"not an amount: {text!r}")
    try:
        value = Decimal(t)
    except InvalidOperation as exc:  # pragma: no cover - regex guards this
        raise AmountError(f"not an amount: {text!r}") from exc
    return -value if negative else value


def is_amount(text: str | None) -> bool:
    try:
        return parse_amount(text) is not None
    except AmountError:
        return False


def is_amount_or_blank(text: str | None) -> bool:
    try:
        parse_amount(text)
        return True
    except AmountError:
        return False


_CODE_RE = re.compile(r"^\d{2,7}$")


def code_text(text: str | None) -> str:
    """A code cell: half-width digits only ("２０１ 03" → "20103")."""
    t = to_halfwidth(text or "")
    return re.sub(r"[\s\-.]", "", t)


def is_code(text: str | None) -> bool:
    return bool(_CODE_RE.match(code_text(text)))


def split_lines(text: str | None) -> list[str]:
    return [line.strip() for line in str(text or "").split("\n") if line.strip()]
