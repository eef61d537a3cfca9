"""Money is integer fen. Parsing and printing yuan amounts without ever using a float."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

# digits, either plain or in groups of three after the first (``12,345,678``: one separator
# throughout, ASCII or full-width comma; the first group not led by a zero), and at most
# two decimals
_AMOUNT = re.compile(
    r"^-?(?:\d+|(?P<lead>\d{1,3})(?P<sep>[,，])\d{3}(?:(?P=sep)\d{3})*)(?:\.\d{1,2})?$"
)
_PLAIN = re.compile(r"^(\d+)(?:\.(\d{1,2}))?$")


#: the largest amount a portfolio file may state: 10^15 fen (10 trillion yuan), far inside a
#: signed 64-bit ``*_fen`` column even when a few such amounts are added up
MAX_AMOUNT_FEN = 10**15


class AmountError(ValueError):
    """An amount that is not a plain yuan figure with at most two decimals."""


def yuan_to_fen(text: str) -> int:
    """Parse ``"1,234.56"`` / ``"¥1234.5"`` / ``"1234"`` into fen (123456, 123450, 123400).

    Thousands separators (``,`` or ``，``, in groups of three: ``12,345,678.90``), a currency
    sign and surrounding spaces are tolerated; a comma anywhere else (``12,34``, ``1,2,3,4``:
    no figure can be read from it with certainty), more than two decimals, exponents or
    anything non-numeric is refused.
    """
    plain = _PLAIN.match(text)
    if plain is not None:  # fast path for the common "1234.56"
        whole, cents = plain.group(1), plain.group(2) or ""
        return int(whole) * 100 + int((cents + "00")[:2])
    cleaned = text.strip().lstrip("¥￥").strip()
    if cleaned.endswith("元"):
        cleaned = cleaned[:-1].strip()
    amount = _AMOUNT.match(cleaned)
    if amount is None or unicodedata.decimal((amount.group("lead") or "1")[0]) == 0:
        raise AmountError(f"not an amount in yuan with at most 2 decimals: {text!r}")
    if amount.group("sep"):
        cleaned = cleaned.replace(amount.group("sep"), "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise AmountError(f"not an amount: {text!r}") from exc
    return int(value * 100)


def fen_to_yuan(fen: int, *, symbol: bool = False) -> str:
    """``123456`` → ``"1,234.56"`` (``symbol``: ``"¥1,234.56"``); negative amounts keep
    their sign in front (``"-¥1,234.56"``). The one way debtflow prints money."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{'¥' if symbol else ''}{whole:,}.{cents:02d}"
