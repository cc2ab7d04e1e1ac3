"""Pydantic schemas of an asset's events as an admin types or corrects them.

Kept apart from :mod:`core.schemas` (which this module only imports from): the amounts
parse like every other amount there (:data:`core.trade_schemas.ZeroOrAmount`, pt-BR decimal comma
accepted), the ex-date like a buy date (:data:`core.schemas.BuyDate`: not in the future, not
before 1900), and the ratio and value rules per kind are the ``asset_events`` CHECK
constraints (:class:`core.models.AssetEvent`), so a refused event says which field is wrong
in the catalogue's words instead of reaching the database.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from core.trade_schemas import BuyDate, Symbol, ZeroOrAmount

EventKind = Literal["split", "bonus", "dividend", "jcp", "rendimento", "amortizacao"]
EVENT_KINDS: tuple[str, ...] = ("split", "bonus", "dividend", "jcp", "rendimento", "amortizacao")
INCOME_KINDS = frozenset({"dividend", "jcp", "rendimento", "amortizacao"})
JCP_RATE = Decimal("0.15")  # the withholding on juros sobre capital próprio


def default_ratio(kind: object) -> Decimal | None:
    """The ratio a kind takes when none is typed: 15 % withheld on JCP, nothing on other
    income; a split or bonus has no default (its ratio must be typed)."""
    if kind == "jcp":
        return JCP_RATE
    if kind in INCOME_KINDS:
        return Decimal(0)
    return None


class EventIn(BaseModel):
    """An event's fields: kind, ex-date, value (income: gross per share; bonus: assigned
    cost per new share; split: 0) and ratio (split: shares after per share before; bonus:
    new shares per share; income: the rate withheld, 0.15 for JCP)."""

    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    ex_date: BuyDate
    value: ZeroOrAmount = Decimal(0)
    ratio: ZeroOrAmount

    @field_validator("value")
    @classmethod
    def _value_for_kind(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        """Income needs a gross amount per share; a split carries none."""
        kind = info.data.get("kind")
        if kind in INCOME_KINDS and value <= 0:
            raise PydanticCustomError("validation.event_income_value", "income needs a value")
        if kind == "split" and value != 0:
            raise PydanticCustomError("validation.event_split_value", "a split has no value")
        return value

    @field_validator("ratio")
    @classmethod
    def _ratio_for_kind(cls, ratio: Decimal, info: ValidationInfo) -> Decimal:
        """A split changes the share count (ratio > 0, not 1), a bonus adds shares
        (ratio > 0), income withholds a rate below 100 %."""
        kind = info.data.get("kind")
        if kind == "split" and (ratio <= 0 or ratio == 1):
            raise PydanticCustomError("validation.event_split_ratio", "bad split ratio")
        if kind == "bonus" and ratio <= 0:
            raise PydanticCustomError("validation.event_bonus_ratio", "bad bonus ratio")
        if kind in INCOME_KINDS and ratio >= 1:
            raise PydanticCustomError("validation.event_income_ratio", "bad withholding")
        return ratio


class NewEventIn(EventIn):
    """An event the market data missed, typed by an admin for an asset (its ticker)."""

    symbol: Symbol


class EventOut(BaseModel):
    """A stored event with its asset and how many clients' ledgers hold that asset."""

    id: int
    asset_id: int
    symbol: str
    name: str
    kind: EventKind
    ex_date: date
    ratio: Decimal
    value: Decimal
    source: str
    dismissed: bool
    corrected: bool
    holders: int
    updated_at: datetime


class EventAudit(BaseModel):
    """What the audit log keeps of an event (before and after a change)."""

    symbol: str
    kind: str
    ex_date: date
    ratio: Decimal
    value: Decimal
    source: str
    dismissed: bool
    corrected: bool
