"""Figures of one allocation (lot) from its price: DESIGN.md's metric definitions.

For a lot of quantity q bought at p0, with current price P and previous close C:

* invested = q * p0
* market value = q * P
* daily change = P / C - 1 (None without a previous close)
* accumulated return = P / p0 - 1, and its money figure gain = q * (P - p0)

All inputs and outputs are ``Decimal``; no rounding happens here (display rounds).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


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
    """``price / buy_price - 1`` (buy prices are always positive: a database rule)."""
    return price / buy_price - 1


def lot_figures(
    quantity: Decimal, buy_price: Decimal, price: Decimal, previous_close: Decimal | None
) -> LotFigures:
    """Every per-lot figure at ``price``."""
    return LotFigures(
        invested=quantity * buy_price,
        market_value=quantity * price,
        gain=quantity * (price - buy_price),
        accumulated_return=accumulated_return(price, buy_price),
        daily_change=daily_change(price, previous_close),
    )


def weight(market_value: Decimal, total: Decimal) -> Decimal | None:
    """Share of a lot in its portfolio (same currency); None when the total is zero."""
    if total <= 0:
        return None
    return market_value / total
