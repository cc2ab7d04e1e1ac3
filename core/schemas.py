"""Pydantic v2 input and output schemas: validation lives here.

Validators raise ``PydanticCustomError`` whose *type* is a message key of the catalogue in
:mod:`core.i18n`; :func:`validation_failed` turns a ``ValidationError`` into
:class:`core.errors.ValidationFailed` with one message key per field, in any language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from core import passwords
from core.book_limits import MIN_BUY_PRICE, lot_cost_fits
from core.documents import is_valid_document, normalize_document
from core.errors import ValidationFailed
from core.market.symbols import resolve_symbol

NAME_MAX = 200
USER_NAME_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 30
NOTES_MAX = 2000
SEARCH_MAX = 100
PAGE_SIZE_MAX = 100
PASSWORD_MIN = passwords.MIN_LENGTH
PASSWORD_MAX = passwords.MAX_BYTES

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"^\+?[0-9 ()-]{8,30}$")

# Pydantic's own error types mapped to catalogue keys.
_BUILTIN_KEYS = {
    "missing": "validation.required",
    "string_type": "validation.required",
    "literal_error": "validation.choice",
    "int_parsing": "validation.integer",
    "int_type": "validation.integer",
    "greater_than_equal": "validation.min",
    "less_than_equal": "validation.max",
    "extra_forbidden": "validation.unknown_field",
    "date_parsing": "validation.date",
    "date_from_datetime_parsing": "validation.date",
    "date_from_datetime_inexact": "validation.date",
    "date_type": "validation.date",
}


def clean_text(text: str) -> str:
    """Free text as it is stored: NFC-normalised, control characters dropped, and trimmed of
    every Unicode space and line break (U+00A0, U+2003, U+3000, U+205F, U+2028...), not only
    the ASCII ones."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def _clean_text(value: Any) -> Any:
    """:func:`clean_text` for a text value (anything else is left for the type to refuse)."""
    if not isinstance(value, str):
        return value
    return clean_text(value)


# -- formula-like text ----------------------------------------------------------------------
# Text that a spreadsheet would run as a formula, or a CSV injection attempt
# ("=HYPERLINK(...)", "@SUM(...)", "+cmd|' /C calc'!A0", "-2+3"), is refused in every
# free-text field, typed in a form or read from an import file: one rule, one message, so
# whatever a form stores, Anka's own export imports back. It starts (after NFKC, so the
# full-width and small forms ＝ ＠ ＋ － ﹦ ﹫ ﹢ ﹣ count) with one of these ...
FORMULA_START = ("=", "@", "+", "-")
CALL_START = ("=", "@")
# ... except a sign followed only by digits and number/phone punctuation, or a lone sign:
# "-5" is a negative number (an amount refuses it as such) and "+55 (11) 98765-4321" a phone.
_SIGNED_NUMBER_OR_PHONE = re.compile(r"^[+-]([0-9][0-9 ().,/-]*)?$")
# The validation context key naming the fields whose text its author marked as text.
MARKED_AS_TEXT = "marked_as_text"


def formula_like(text: str, *, marked_as_text: bool = False) -> bool:
    """True for text that a spreadsheet would run as a formula (see :data:`FORMULA_START`).

    The start is judged on the text as it would be stored (:func:`clean_text`: no leading
    no-break, em, ideographic or other Unicode space can hide it), skipping invisible format
    characters too (a zero-width space or a byte-order mark before ``=``).

    Text ``marked_as_text`` by its author (a spreadsheet cell's leading ``'``, which Anka's
    CSV export writes; or text Anka already stores, given back unchanged) may start with a
    sign — ``- ligar na segunda`` — but never with ``=`` or ``@``.
    """
    stored = clean_text(text)
    skip = 0
    while skip < len(stored) and (
        stored[skip].isspace() or unicodedata.category(stored[skip]) == "Cf"
    ):
        skip += 1
    visible = stored[skip:]
    first = unicodedata.normalize("NFKC", visible[:1])
    if marked_as_text:
        return first.startswith(CALL_START)
    return first.startswith(FORMULA_START) and not _SIGNED_NUMBER_OR_PHONE.match(visible)


def _not_formula(value: str | None, info: ValidationInfo) -> str | None:
    """Refuse formula-like text (see :func:`formula_like`) with the import's message."""
    if value:
        marked = info.field_name in (info.context or {}).get(MARKED_AS_TEXT, ())
        if formula_like(value, marked_as_text=marked):
            raise PydanticCustomError("validation.formula", "formula-like text")
    return value


def _required_text(max_len: int) -> Any:
    def check(value: str) -> str:
        if not value:
            raise PydanticCustomError("validation.required", "required")
        if len(value) > max_len:
            raise PydanticCustomError("validation.too_long", "too long", {"max": max_len})
        return value

    return check


def _optional_text(max_len: int) -> Any:
    def check(value: str | None) -> str | None:
        if not value:
            return None
        if len(value) > max_len:
            raise PydanticCustomError("validation.too_long", "too long", {"max": max_len})
        return value

    return check


def _email(value: str) -> str:
    if not value:
        raise PydanticCustomError("validation.required", "required")
    if len(value) > EMAIL_MAX:
        raise PydanticCustomError("validation.too_long", "too long", {"max": EMAIL_MAX})
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PydanticCustomError("validation.email", "invalid e-mail") from exc
    return checked.normalized


def _document(value: str | None) -> str | None:
    if not value:
        return None
    doc = normalize_document(value)
    if not is_valid_document(doc):
        raise PydanticCustomError("validation.document", "invalid CPF/CNPJ")
    return doc


def _phone(value: str | None) -> str | None:
    if not value:
        return None
    if not _PHONE.match(value):
        raise PydanticCustomError("validation.phone", "invalid phone")
    return value


Clean = BeforeValidator(_clean_text)
NotFormula = AfterValidator(_not_formula)  # last: a malformed e-mail or phone says so first
ClientName = Annotated[str, Clean, AfterValidator(_required_text(NAME_MAX)), NotFormula]
UserName = Annotated[str, Clean, AfterValidator(_required_text(USER_NAME_MAX)), NotFormula]
Email = Annotated[str, Clean, AfterValidator(_email), NotFormula]
Document = Annotated[str | None, Clean, AfterValidator(_document)]
Phone = Annotated[str | None, Clean, AfterValidator(_phone), NotFormula]
Notes = Annotated[str | None, Clean, AfterValidator(_optional_text(NOTES_MAX)), NotFormula]
Status = Literal["active", "inactive"]
RoleName = Literal["admin", "read_only"]


def _password(value: str) -> str:
    refused = passwords.problem(value)
    if refused is not None:
        key, params = refused
        raise PydanticCustomError(key, key, params)
    return value


Password = Annotated[str, AfterValidator(_password)]
M = TypeVar("M", bound=BaseModel)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ClientCreate(_Input):
    """A new client, or the full replacement of one."""

    name: ClientName
    email: Email
    document: Document = None
    phone: Phone = None
    status: Status = "active"
    notes: Notes = None


class ClientPatch(_Input):
    """A partial update: only the fields given change."""

    name: ClientName | None = None
    email: Email | None = None
    document: Document = None
    phone: Phone = None
    status: Status | None = None
    notes: Notes = None


class ClientQuery(_Input):
    """Search, filter and page for the clients list."""

    search: Annotated[str, Clean] = ""
    status: Status | None = None
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=PAGE_SIZE_MAX)

    def model_post_init(self, _context: Any) -> None:
        if len(self.search) > SEARCH_MAX:
            raise ValidationFailed.single("search", "validation.too_long", max=SEARCH_MAX)


class ClientOut(BaseModel):
    """A client as pages and exports see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    document: str | None
    phone: str | None
    status: Status
    notes: str | None
    created_at: datetime
    updated_at: datetime


class ClientPage(BaseModel):
    """One page of clients plus what the pager needs."""

    items: list[ClientOut]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so an empty list still has page 1)."""
        return max(1, -(-self.total // self.page_size))


class UserCreate(_Input):
    """A new user account."""

    email: Email
    name: UserName
    role: RoleName = "read_only"
    password: Password


class UserOut(BaseModel):
    """A user as the admin page sees it (never the hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: RoleName
    is_active: bool
    created_at: datetime


def validation_failed(exc: ValidationError) -> ValidationFailed:
    """Translate pydantic's errors into catalogue keys, one per field (the first wins)."""
    fields: dict[str, tuple[str, dict[str, Any]]] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "__root__"
        if field in fields:
            continue
        kind = error["type"]
        ctx = dict(error.get("ctx") or {})
        key = (
            kind
            if kind.startswith("validation.")
            else _BUILTIN_KEYS.get(kind, "validation.invalid")
        )
        params = {k: v for k, v in ctx.items() if k in {"max", "min", "ge", "le"}}
        fields[field] = (key, params)
    return ValidationFailed(fields)


def parse(model: type[M], data: Any, *, marked_as_text: Iterable[str] = ()) -> M:
    """Validate ``data`` as ``model`` or raise :class:`ValidationFailed` with message keys.

    ``marked_as_text`` names the fields whose text its author marked as text (see
    :func:`formula_like`): the import's quoted cells, an edit's unchanged stored text.
    """
    context = {MARKED_AS_TEXT: frozenset(marked_as_text)}
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise validation_failed(exc) from exc


_PASSWORD_ADAPTER: TypeAdapter[str] = TypeAdapter(Password)


def check_password_rules(password: str) -> str:
    """Validate a new password (see :func:`core.passwords.problem`) or raise ValidationFailed
    on ``password``."""
    try:
        return _PASSWORD_ADAPTER.validate_python(password)
    except ValidationError as exc:
        key, params = next(iter(validation_failed(exc).field_errors.values()))
        raise ValidationFailed({"password": (key, params)}) from exc


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
