"""A client's portfolio right now: every lot with its live figures, and totals per currency.

Prices come from one batched quote call for all the client's tickers. A ticker whose quote
failed keeps its row, with no price and the reason, while the rest of the table is priced.
Totals are per currency (a BRL and a USD lot are never added without an exchange rate);
market value and return cover the priced lots, and the view says how many are unpriced.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, localcontext

from core.analytics.lots import EXACT_PRECISION, invested_amount, lot_figures, weight
from core.db import UnitOfWork
from core.errors import NotFound
from core.market.port import CacheInfo, MarketData
from core.schemas import ClientOut


@dataclass(frozen=True, slots=True)
class AllocationRow:
    """One lot and its figures; price-derived fields are None when the quote failed."""

    allocation_id: int
    symbol: str
    name: str
    currency: str | None
    quantity: Decimal
    buy_price: Decimal
    buy_date: date
    invested: Decimal
    price: Decimal | None = None
    previous_close: Decimal | None = None
    daily_change: Decimal | None = None
    accumulated_return: Decimal | None = None
    gain: Decimal | None = None
    market_value: Decimal | None = None
    weight: Decimal | None = None
    failure: str | None = None
    stale: bool = False
    source: str | None = None


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """A client's totals in one currency."""

    currency: str
    invested: Decimal
    invested_priced: Decimal
    market_value: Decimal
    gain: Decimal
    accumulated_return: Decimal | None
    unpriced: int


@dataclass(slots=True)
class PortfolioView:
    """Everything the client detail page shows about the portfolio now."""

    client: ClientOut
    rows: list[AllocationRow] = field(default_factory=list)
    totals: list[CurrencyTotals] = field(default_factory=list)
    cache: dict[str, CacheInfo] = field(default_factory=dict)
    source: str = ""


def client_portfolio(uow: UnitOfWork, market: MarketData, client_id: int) -> PortfolioView:
    """The client, their lots priced with one batched quote call, and totals per currency."""
    with uow:
        client = uow.clients.get(client_id)
        if client is None:
            raise NotFound()
        view = PortfolioView(client=ClientOut.model_validate(client), source=market.name)
        bases = [
            AllocationRow(
                allocation_id=allocation.id,
                symbol=asset.symbol,
                name=asset.name,
                currency=asset.currency,
                quantity=allocation.quantity,
                buy_price=allocation.buy_price,
                buy_date=allocation.buy_date,
                invested=invested_amount(allocation.quantity, allocation.buy_price),
            )
            for allocation, asset in uow.allocations.for_client(client_id)
        ]
    symbols = sorted({base.symbol for base in bases})
    batch = market.quotes(symbols) if symbols else None
    priced: list[AllocationRow] = []
    for base in bases:
        quote = batch.quotes.get(base.symbol) if batch else None
        if quote is None:
            reason = batch.failed.get(base.symbol, "no_data") if batch else "no_data"
            priced.append(replace(base, failure=reason))
            continue
        figures = lot_figures(base.quantity, base.buy_price, quote.price, quote.previous_close)
        priced.append(
            replace(
                base,
                price=quote.price,
                previous_close=quote.previous_close,
                daily_change=figures.daily_change,
                accumulated_return=figures.accumulated_return,
                gain=figures.gain,
                market_value=figures.market_value,
                stale=quote.stale,
                source=quote.source,
            )
        )
    view.totals = _totals(priced)
    market_by_currency = {t.currency: t.market_value for t in view.totals}
    view.rows = [
        (
            replace(row, weight=weight(row.market_value, market_by_currency[row.currency or "?"]))
            if row.market_value is not None
            else row
        )
        for row in priced
    ]
    view.cache = dict(batch.cache) if batch else {}
    return view


def _totals(rows: list[AllocationRow]) -> list[CurrencyTotals]:
    """Exact sums per currency; the return is ``gain / invested`` (one rounding)."""
    totals: list[CurrencyTotals] = []
    for currency in sorted({row.currency or "?" for row in rows}):
        mine = [row for row in rows if (row.currency or "?") == currency]
        priced = [row for row in mine if row.market_value is not None]
        with localcontext() as ctx:
            ctx.prec = EXACT_PRECISION
            invested = sum((row.invested for row in mine), Decimal(0))
            invested_priced = sum((row.invested for row in priced), Decimal(0))
            market_value = sum((row.market_value or Decimal(0) for row in priced), Decimal(0))
            gain = market_value - invested_priced
        totals.append(
            CurrencyTotals(
                currency=currency,
                invested=invested,
                invested_priced=invested_priced,
                market_value=market_value,
                gain=gain,
                accumulated_return=gain / invested_priced if invested_priced > 0 else None,
                unpriced=len(mine) - len(priced),
            )
        )
    return totals
