"""Figures of one allocation (lot) from its price, as defined in docs/metrics.md.

For a lot of quantity q bought at p0, with current price P and previous close C:

* invested = q * p0
* market value = q * P
* daily change = P / C - 1 (None without a previous close)
* accumulated return = P / p0 - 1, and its money figure gain = q * (P - p0)

All inputs and outputs are ``Decimal``. Products and differences are exact (computed with
enough digits for two ``Numeric(20, 8)`` factors), so gain == market value - invested to the
last digit. Ratios are divisions, rounded once to the current context's precision: the
accumulated return is computed as ``(P - p0) / p0`` (equal to ``P / p0 - 1``) so the digits
cancelled by ``- 1`` are not lost, and it equals ``gain / invested`` exactly. Display rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

# Digits that hold any product of two Numeric(20, 8) amounts (and their sums) exactly.
EXACT_PRECISION = 80


@dataclass(frozen=True, slots=True)
class LotFigures:
    """What an allocation is worth now and how it has done."""

    invested: Decimal
    market_value: Decimal
    gain: Decimal
    accumulated_return: Decimal
    daily_change: Decimal | None


def daily_change(price: Decimal, previous_close: Decimal | None) -> Decimal | None:
    """``price / previous_close - 1``; None when there is no (positive) previous close."""
    if previous_close is None or previous_close <= 0:
        return None
    return price / previous_close - 1


def accumulated_return(price: Decimal, buy_price: Decimal) -> Decimal:
    """``price / buy_price - 1`` (buy prices are always positive: a database rule).

    Computed as ``(price - buy_price) / buy_price``: one rounding, no cancelled digits.
    """
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        difference = price - buy_price
    return difference / buy_price


def invested_amount(quantity: Decimal, buy_price: Decimal) -> Decimal:
    """``quantity * buy_price``, exact (no 28-digit rounding of wide Numeric values)."""
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        return quantity * buy_price


def lot_figures(
    quantity: Decimal, buy_price: Decimal, price: Decimal, previous_close: Decimal | None
) -> LotFigures:
    """Every per-lot figure at ``price``."""
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        market_value = quantity * price
        gain = quantity * (price - buy_price)
    return LotFigures(
        invested=invested_amount(quantity, buy_price),
        market_value=market_value,
        gain=gain,
        accumulated_return=accumulated_return(price, buy_price),
        daily_change=daily_change(price, previous_close),
    )


def weight(market_value: Decimal, total: Decimal) -> Decimal | None:
    """Share of a lot in its portfolio (same currency); None when the total is zero."""
    if total <= 0:
        return None
    return market_value / total
