"""Input and output schemas of the ledger: assets picked from a search, buys (allocations),
sells and typed income, and the ledger's lines; with the money, quantity, ticker and date
rules they parse by (pt-BR and English numbers, at most 8 decimal places, no future date).

The text and identity rules they share with the client and user schemas (cleaning,
formula-looking text refused, labels) are :mod:`core.schemas`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from core.book_limits import MIN_BUY_PRICE, lot_cost_fits
from core.market.symbols import resolve_symbol
from core.schemas import NAME_MAX, Clean, _Input, _optional_text

# -- assets and allocations ----------------------------------------------------------------
AMOUNT_MAX = Decimal("1000000000000")  # 10^12: no real lot is larger; guards typos
SYMBOL_MAX = 24


def _amount(value: Any) -> Decimal:
    """A positive, finite amount below 10^12, from a number or a string in either locale."""
    if isinstance(value, str):
        value = _locale_number(value)
    if isinstance(value, bool) or value is None or value == "":
        raise PydanticCustomError("validation.required", "required")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise PydanticCustomError("validation.number", "not a number") from exc
    if not amount.is_finite():
        raise PydanticCustomError("validation.number", "not a number")
    if amount <= 0:
        raise PydanticCustomError("validation.positive", "must be positive")
    if amount >= AMOUNT_MAX:
        raise PydanticCustomError("validation.too_large", "too large")
    if _decimal_places(amount) > DECIMAL_PLACES:
        raise PydanticCustomError(
            "validation.decimals", "too many decimals", {"max": DECIMAL_PLACES}
        )
    return amount


def _decimal_places(amount: Decimal) -> int:
    """Decimals that matter (exactly, no rounding): trailing zeros don't, 1.500000000 has 1."""
    digits, exponent = amount.as_tuple().digits, int(amount.as_tuple().exponent)
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + zeros))


def _locale_number(text: str) -> str:
    """Accept ``1.234,56`` (pt-BR) as well as ``1,234.56`` / ``1234.56`` (en).

    A lone separator is the decimal one (``1,5`` and ``1.5`` are both 1.5); a separator
    repeated in thousands groups (``1.234.567``, ``1,234,567``) is the grouping one.
    """
    cleaned = text.strip().replace(" ", "").replace("R$", "")
    if _GROUPED_DOTS.match(cleaned) or _GROUPED_COMMAS.match(cleaned):
        cleaned = cleaned.replace(".", "").replace(",", "")
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", ".")
    return cleaned


def _buy_price(value: Decimal) -> Decimal:
    """Refuse a buy price below :data:`core.book_limits.MIN_BUY_PRICE`: a return is the
    price now over the buy price, and one near zero overflows the stored returns."""
    if value < MIN_BUY_PRICE:
        raise PydanticCustomError("validation.price_too_small", "buy price too small")
    return value


def _buy_date(value: date) -> date:
    if value > today_in_brazil():
        raise PydanticCustomError("validation.future_date", "in the future")
    if value < EARLIEST_DATE:
        raise PydanticCustomError("validation.too_old", "too old")
    return value


def _symbol(value: str) -> str:
    """A typed ticker as stored: trimmed, upper-cased, a bare B3 code resolved to its
    listing (``petr4`` -> ``PETR4.SA``, :func:`core.market.symbols.resolve_symbol`)."""
    symbol = resolve_symbol(value)
    if not symbol:
        raise PydanticCustomError("validation.required", "required")
    if len(symbol) > SYMBOL_MAX or not SYMBOL_RE.match(symbol):
        raise PydanticCustomError("validation.symbol", "invalid ticker")
    return symbol


DECIMAL_PLACES = 8
_GROUPED_DOTS = re.compile(r"^[+-]?\d{1,3}(\.\d{3}){2,}$")
_GROUPED_COMMAS = re.compile(r"^[+-]?\d{1,3}(,\d{3}){2,}$")
EARLIEST_DATE = date(1900, 1, 1)
SYMBOL_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.=\-^]{0,23}$")
MARKET_TZ = ZoneInfo("America/Sao_Paulo")
Amount = Annotated[Decimal, BeforeValidator(_amount)]
BuyPrice = Annotated[Decimal, BeforeValidator(_amount), AfterValidator(_buy_price)]
BuyDate = Annotated[date, AfterValidator(_buy_date)]
Symbol = Annotated[
    str, BeforeValidator(lambda v: v if isinstance(v, str) else ""), AfterValidator(_symbol)
]
OptionalLabel = Annotated[str | None, Clean, AfterValidator(_optional_text(NAME_MAX))]


def _zero_or_amount(value: Any) -> Decimal:
    """Fees or tax: blank means zero; otherwise zero or an amount parsed like
    :data:`Amount` (either locale, at most 8 decimals, below 10^12)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal(0)
    if isinstance(value, str):
        value = _locale_number(value)
    number: Decimal | None = None
    if not isinstance(value, bool):
        try:
            number = Decimal(str(value))
            number = number if number.is_finite() else None
        except (InvalidOperation, ValueError):
            number = None  # _amount says it is not a number
    if number is not None and number == 0:
        return Decimal(0)
    if number is not None and number < 0:
        raise PydanticCustomError("validation.non_negative", "negative")
    return _amount(value)


ZeroOrAmount = Annotated[Decimal, BeforeValidator(_zero_or_amount)]


def today_in_brazil() -> date:
    """Today's date in São Paulo (where 'not in the future' is judged)."""
    return datetime.now(MARKET_TZ).date()


class AssetIn(_Input):
    """An asset as picked from a search result (created the first time it is held)."""

    symbol: Symbol
    name: OptionalLabel = None
    exchange: OptionalLabel = None
    asset_type: OptionalLabel = None
    currency: Annotated[str | None, Clean, AfterValidator(_optional_text(8))] = None


class AllocationIn(_Input):
    """A lot: quantity (fractions allowed) bought at a price on a date.

    Its cost, quantity × buy price in the asset's currency, must be below
    :data:`core.book_limits.LOT_COST_LIMIT` (refused on ``buy_price``): the stored figures
    could not hold a larger lot. The client's whole book is checked by the allocation
    service, which knows the client's other lots.
    """

    quantity: Amount
    buy_price: BuyPrice
    buy_date: BuyDate
    # Brokerage and exchange fees paid on the buy (blank means zero): part of its cost in
    # the figures (core.analytics.entries), not of the lot limit, which judges the price.
    fees: ZeroOrAmount = Decimal(0)

    @field_validator("buy_price")
    @classmethod
    def _cost_fits(cls, buy_price: Decimal, info: ValidationInfo) -> Decimal:
        """Refuse a lot whose cost reaches the limit (quantity is validated first; when it
        was refused, there is no cost to judge)."""
        quantity = info.data.get("quantity")
        if quantity is not None and not lot_cost_fits(quantity, buy_price):
            raise PydanticCustomError("validation.lot_too_large", "lot cost too large")
        return buy_price


class AllocationOut(BaseModel):
    """A stored lot with its asset's symbol."""

    id: int
    client_id: int
    symbol: str
    name: str
    currency: str | None
    quantity: Decimal
    buy_price: Decimal
    buy_date: date
    fees: Decimal = Decimal(0)


# -- the ledger: sells and typed income -----------------------------------------------------
IncomeType = Literal["dividend", "jcp", "rendimento", "amortizacao"]
MovementKind = Literal["buy", "sell", "income"]


def _trade_price(value: Decimal) -> Decimal:
    """:func:`_buy_price`'s minimum for any trade, with a message that does not say buy."""
    if value < MIN_BUY_PRICE:
        raise PydanticCustomError("validation.trade_price_too_small", "price too small")
    return value


TradePrice = Annotated[Decimal, BeforeValidator(_amount), AfterValidator(_trade_price)]


class TradeIn(_Input):
    """A buy's or sell's fields in the ledger: quantity, price per share, fees, date.

    Parsed like :class:`AllocationIn` (pt-BR decimal comma accepted, the same price minimum,
    quantity × price below the lot limit, a date not in the future). Whether the client
    holds enough to sell is judged by the movement service on the whole ledger.
    """

    quantity: Amount
    price: TradePrice
    fees: ZeroOrAmount = Decimal(0)
    date: BuyDate

    @field_validator("price")
    @classmethod
    def _cost_fits(cls, price: Decimal, info: ValidationInfo) -> Decimal:
        """Refuse a trade whose quantity × price reaches the lot limit."""
        quantity = info.data.get("quantity")
        if quantity is not None and not lot_cost_fits(quantity, price):
            raise PydanticCustomError("validation.lot_too_large", "trade too large")
        return price


class SellIn(TradeIn):
    """A sell: quantity (at most what is held on its date), price, fees and date."""


class IncomeIn(_Input):
    """Income typed by hand: its type, the gross amount, the tax withheld and the date."""

    income_type: IncomeType
    amount: Amount
    tax: ZeroOrAmount = Decimal(0)
    date: BuyDate

    @field_validator("tax")
    @classmethod
    def _tax_within_amount(cls, tax: Decimal, info: ValidationInfo) -> Decimal:
        """Refuse a tax larger than the gross amount (the net would be negative)."""
        amount = info.data.get("amount")
        if amount is not None and tax > amount:
            raise PydanticCustomError("validation.tax_over_amount", "tax over amount")
        return tax


class MovementOut(BaseModel):
    """A stored movement with its asset: a buy or sell (quantity, price, fees) or typed
    income (income type, gross amount, tax)."""

    id: int
    client_id: int
    symbol: str
    name: str
    currency: str | None
    kind: MovementKind
    date: date
    quantity: Decimal
    price: Decimal
    fees: Decimal
    income_type: IncomeType | None
    amount: Decimal
    tax: Decimal


class LedgerLineOut(BaseModel):
    """One line of a client's ledger list: a movement (``movement`` set) or an event of the
    asset that applied to the client's holding (``is_event``; ``event_kind`` split, bonus,
    dividend, jcp, rendimento or amortizacao, ``ratio`` and ``value`` as stored, ``held`` the
    quantity it applied to)."""

    date: date
    symbol: str
    is_event: bool
    movement: MovementOut | None = None
    event_id: int | None = None
    event_kind: str | None = None
    ratio: Decimal | None = None
    value: Decimal | None = None
    held: Decimal | None = None
