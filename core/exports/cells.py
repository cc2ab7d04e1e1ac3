"""Cell text and number formats, per kind and locale, and the guard against CSV injection.

**CSV injection.** Excel and LibreOffice run a cell whose text starts with ``=``, ``+``,
``-`` or ``@`` as a formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``), and a leading
tab or carriage return can hide such a start. Following OWASP, every *text* cell that
starts with one of them gets a single quote in front in CSV: the spreadsheet shows the text
(with the quote) and never evaluates it. The full-width forms (``＝ ＋ － ＠``), which some
spreadsheet locales also accept as a formula start, are treated the same. Numbers and dates
are written by Anka itself, so a negative amount stays a number. In Excel files text is
written as explicit string cells instead (see :mod:`core.exports.xlsx_writer`), so the text
stays exactly as stored.

**CSV numbers** carry no thousands separator (``1234,56`` in pt-BR, ``1234.56`` in English)
so that Excel, LibreOffice and any program read them back as numbers; percentages keep
their ``%`` (Excel opens ``12,34%`` as the number 0.1234 shown as a percentage).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from core.exports.datasets import Kind
from core.formatting import DISPLAY_TZ, format_date, format_timestamp

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
CENT = Decimal("0.01")
PERCENT_PLACES = Decimal("0.0001")  # of a percent: 12.3457%


def neutralise(text: str) -> str:
    """``text`` made safe for a CSV cell: a formula-like start gets a leading ``'``."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def rounded(value: Decimal, quantum: Decimal) -> Decimal:
    """``value`` rounded half-even to ``quantum`` (0.01 or 0.0001), with enough digits for
    any stored value (an IRR over a few days can be astronomically large; the default
    28-digit context would refuse it), and never a negative zero."""
    if value.adjusted() < 20:  # fits the default context: the common, fast case
        result = value.quantize(quantum, ROUND_HALF_EVEN)
    else:
        with localcontext() as ctx:
            ctx.prec = value.adjusted() - quantum.as_tuple().exponent + 2
            result = value.quantize(quantum, ROUND_HALF_EVEN)
    return result if result else result.copy_abs()  # no "-0.00"


def _plain(value: Decimal, decimal_mark: str) -> str:
    """A decimal without exponent or grouping, with the locale's decimal mark."""
    text = format(value, "f")
    return text.replace(".", decimal_mark) if decimal_mark != "." else text


def _exact(value: Decimal) -> Decimal:
    """Every stored digit and no trailing zeros (100.00000000 -> 100; 0.5 -> 0.5)."""
    normal = value.normalize()
    # normalize() writes 100 as 1E+2; quantize back to a whole number.
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal


def _at_least_cents(value: Decimal) -> Decimal:
    exact = _exact(value)
    exponent = exact.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: stored numbers
    return exact.quantize(CENT) if exponent > -2 else exact


Formatter = Callable[[Any], str]


def csv_formatter(kind: Kind, locale: str) -> Formatter:
    """The function that writes a non-empty value of ``kind`` as CSV text in ``locale``."""
    mark = "," if locale == "pt_BR" else "."
    formatters: dict[Kind, Formatter] = {
        Kind.TEXT: lambda v: neutralise(str(v)),
        Kind.INTEGER: lambda v: str(int(v)),
        Kind.DECIMAL: lambda v: _plain(_exact(Decimal(v)), mark),
        Kind.MONEY: lambda v: _plain(rounded(Decimal(v), CENT), mark),
        Kind.PRICE: lambda v: _plain(_at_least_cents(Decimal(v)), mark),
        Kind.PERCENT: lambda v: _plain(rounded(Decimal(v).scaleb(2), PERCENT_PLACES), mark) + "%",
        Kind.DATE: lambda v: format_date(v, locale),
        Kind.DATETIME: lambda v: format_timestamp(v, locale),
    }
    return formatters[kind]


# -- Excel ----------------------------------------------------------------------------------
# Number format codes are stored in the file in one notation (``,`` groups, ``.`` marks
# decimals); Excel and LibreOffice show them with the reader's own separators.
CURRENCY_SYMBOLS = {"USD": "US$", "EUR": "€", "GBP": "£"}
BRL_MONEY = "[$R$-416] #,##0.00"
BRL_PRICE = "[$R$-416] #,##0.00######"
PERCENT_FORMAT = "0.00%"
INTEGER_FORMAT = "0"
DATE_FORMATS = {"pt_BR": "dd/mm/yyyy", "en": "yyyy-mm-dd"}
DATETIME_FORMATS = {"pt_BR": "dd/mm/yyyy hh:mm:ss", "en": "yyyy-mm-dd hh:mm:ss"}


def money_format(currency: str | None, *, price: bool = False) -> str:
    """The Excel number format for an amount (or a unit price) in ``currency``."""
    digits = "#,##0.00######" if price else "#,##0.00"
    if currency in (None, "", "BRL"):
        return BRL_PRICE if price else BRL_MONEY
    symbol = CURRENCY_SYMBOLS.get(currency, "".join(ch for ch in currency if ch.isalnum()))
    return f'"{symbol}" {digits}' if symbol else digits


def excel_datetime(value: datetime) -> datetime:
    """Excel has no time zones: a UTC timestamp becomes São Paulo wall-clock time."""
    return value.astimezone(DISPLAY_TZ).replace(tzinfo=None) if value.tzinfo else value
