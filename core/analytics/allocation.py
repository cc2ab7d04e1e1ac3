"""Allocation by asset class and by asset, in reais across currencies.

The input is a client's positions as :func:`core.services.positions.client_positions`
computes them: each open, priced row carries its market value in reais at the live rate
(``market_value_brl``) and its class. A class's value is the sum of its rows' values; its
weight is that sum over the whole portfolio in reais (the positions' total, every priced
position: a US position weighs against the whole portfolio, not its currency). Without
that total (a rate missing) values in reais that are known are still given, weights are
not. Closed rows (worth 0) and rows without a value in reais (no quote, no rate) are left
out; the latter are counted so a page can say so. A row without a class (an exchange-rate
series, never held in practice) is left out of the groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Protocol

from core.analytics.lots import EXACT_PRECISION
from core.market.asset_classes import CLASSES

ZERO = Decimal(0)


class ClassifiedRow(Protocol):
    """What the grouping reads of a position row (:class:`core.services.positions.PositionRow`)."""

    @property
    def symbol(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def asset_class(self) -> str | None: ...

    @property
    def quantity(self) -> Decimal: ...

    @property
    def market_value_brl(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class ClassShare:
    """One class: its value in reais, its weight in the portfolio, how many assets."""

    asset_class: str
    value_brl: Decimal
    weight: Decimal | None
    assets: int


@dataclass(frozen=True, slots=True)
class AssetShare:
    """One asset: its value in reais, its weight in the portfolio and in its class."""

    asset_class: str
    symbol: str
    name: str
    value_brl: Decimal
    weight: Decimal | None
    weight_in_class: Decimal | None


@dataclass(slots=True)
class Allocation:
    """The classes (largest first) and the assets (by class, largest first)."""

    classes: list[ClassShare] = field(default_factory=list)
    assets: list[AssetShare] = field(default_factory=list)
    unvalued: int = 0  # open positions without a value in reais (no quote or no rate)


def _ratio(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """``part / whole`` exactly enough; None without a positive whole."""
    if whole is None or whole <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        return part / whole


def allocation(rows: Iterable[ClassifiedRow], total_brl: Decimal | None) -> Allocation:
    """Group ``rows`` by class. ``total_brl``: the portfolio's market value in reais (the
    positions view's ``market_value_brl``), None when a rate is missing (no weights)."""
    found = Allocation()
    valued: list[tuple[str, ClassifiedRow, Decimal]] = []
    for row in rows:
        if row.quantity <= 0:
            continue
        if row.market_value_brl is None:
            found.unvalued += 1
        elif row.asset_class is not None:
            valued.append((row.asset_class, row, row.market_value_brl))
    order = {code: index for index, code in enumerate(CLASSES)}
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        sums: dict[str, Decimal] = {}
        counts: dict[str, int] = {}
        for code, _, value in valued:
            sums[code] = sums.get(code, ZERO) + value
            counts[code] = counts.get(code, 0) + 1
    found.classes = sorted(
        (
            ClassShare(code, value, _ratio(value, total_brl), counts[code])
            for code, value in sums.items()
        ),
        key=lambda share: (-share.value_brl, order.get(share.asset_class, len(order))),
    )
    rank = {share.asset_class: index for index, share in enumerate(found.classes)}
    found.assets = sorted(
        (
            AssetShare(
                code,
                row.symbol,
                row.name,
                value,
                _ratio(value, total_brl),
                _ratio(value, sums[code]),
            )
            for code, row, value in valued
        ),
        key=lambda share: (rank[share.asset_class], -share.value_brl, share.symbol),
    )
    return found
