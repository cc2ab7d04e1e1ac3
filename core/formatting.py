"""Locale-aware display of money, numbers, percentages, dates and timestamps.

pt-BR shows ``R$ 1.234,56`` and ``dd/mm/aaaa``; English shows ``R$ 1,234.56`` and ISO dates.
Timestamps are stored in UTC and shown in America/Sao_Paulo.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from zoneinfo import ZoneInfo

DISPLAY_TZ = ZoneInfo("America/Sao_Paulo")
DASH = "—"
PERCENT_SHOWN_MAX = Decimal(9999)


def format_number(value: Decimal | float | int | None, locale: str, places: int = 2) -> str:
    """Group thousands and round half-even to ``places`` decimals in the locale's style."""
    if value is None:
        return DASH
    number = Decimal(str(value))
    if not number.is_finite():
        return DASH
    quantum = Decimal(1).scaleb(-places)
    # Enough digits for any magnitude: the default 28 make quantize fail past 10^26.
    context = Context(prec=max(28, number.adjusted() + places + 2))
    rounded = number.quantize(quantum, rounding=ROUND_HALF_EVEN, context=context)
    text = f"{rounded:,.{places}f}"
    if locale == "pt_BR":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def format_quantity(value: Decimal | float | int | None, locale: str) -> str:
    """A quantity for display: grouped, without trailing zeros (``1.000``, ``2,5``)."""
    if value is None:
        return DASH
    return format_number(value, locale, 8).rstrip("0").rstrip(",.")


def format_brl(value: Decimal | float | int | None, locale: str) -> str:
    """Brazilian reais: ``R$ 1.234,56`` in pt-BR, ``R$ 1,234.56`` in English (the symbol is
    always followed by a space, as the amounts in other currencies are: ``US$ 10.00``)."""
    if value is None:
        return DASH
    number = format_number(abs(Decimal(str(value))), locale)
    sign = "-" if Decimal(str(value)) < 0 else ""
    return f"{sign}R$ {number}"


def format_percent(ratio: Decimal | float | None, locale: str, places: int = 2) -> str:
    """A ratio as a percentage: 0.1234 -> ``12,34%`` (pt-BR) / ``12.34%`` (en).

    Past ±:data:`PERCENT_SHOWN_MAX` % (an IRR annualised over a day or two can reach 10^24 %)
    the page shows ``> 9.999%`` / ``< -9.999%``: readable, and no figure breaks a page.
    Exports keep the exact value; a NaN or infinity shows as ``—``.
    """
    if ratio is None:
        return DASH
    percent = Decimal(str(ratio)) * 100
    if not percent.is_finite():
        return DASH
    if abs(percent) > PERCENT_SHOWN_MAX:
        bound = format_number(PERCENT_SHOWN_MAX, locale, 0)
        return f"> {bound}%" if percent > 0 else f"< -{bound}%"
    return f"{format_number(percent, locale, places)}%"


def format_date(value: date | None, locale: str) -> str:
    """``dd/mm/aaaa`` in pt-BR, ISO ``yyyy-mm-dd`` in English."""
    if value is None:
        return DASH
    return value.strftime("%d/%m/%Y") if locale == "pt_BR" else value.isoformat()


def format_timestamp(value: datetime | None, locale: str) -> str:
    """A UTC timestamp in São Paulo time, to the second."""
    if value is None:
        return DASH
    local = value.astimezone(DISPLAY_TZ)
    if locale == "pt_BR":
        return local.strftime("%d/%m/%Y %H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S")


_GROUPED = {
    "pt_BR": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$"),
    "en": re.compile(r"^[+-]?\d{1,3}(,\d{3})+$"),
}


def ungroup_number(text: str, locale: str) -> str:
    """Read a lone thousands separator the way the user's locale means it.

    ``1.000`` typed in pt-BR is one thousand (and ``1,000`` in English), not one: strip the
    grouping before the text reaches validation, which would otherwise read a lone
    separator as the decimal mark. Anything else is passed on unchanged.
    """
    cleaned = text.strip()
    pattern = _GROUPED.get(locale)
    if pattern and pattern.match(cleaned):
        return cleaned.replace("." if locale == "pt_BR" else ",", "")
    return text
