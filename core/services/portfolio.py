"""A client's portfolio right now: every lot with its live figures, and totals per currency.

Prices come from one batched quote call for all the client's tickers. A ticker whose quote
failed keeps its row, with no price and the reason, while the rest of the table is priced.
Totals are per currency (a BRL and a USD lot are never added without an exchange rate);
market value and return cover the priced lots, and the view says how many are unpriced.
When the client holds lots in another currency, the same batched call also asks for the
live exchange rates (``USDBRL=X``), and the view adds the market value of every priced lot
in reais — or none at all when a rate is missing, never a partial sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, localcontext

from core.analytics import fx
from core.analytics.lots import EXACT_PRECISION, invested_amount, lot_figures, weight
from core.db import UnitOfWork
from core.errors import NotFound
from core.market.port import CacheInfo, MarketData, Quote, QuoteBatch
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
    fees: Decimal = Decimal(0)  # paid on the buy (the lot form edits them)
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
    # Every priced lot in reais at the live rates; None if a rate is missing, and for a
    # portfolio that is all in reais (its BRL total says it already).
    market_value_brl: Decimal | None = None
    rates: dict[str, Decimal] = field(default_factory=dict)  # live rate per currency
    # The batched answer the lots were priced with (the positions beside them reuse it).
    quotes: QuoteBatch | None = None


@dataclass(frozen=True, slots=True)
class LotBases:
    """A client's lots before any price: what :func:`price_lots` prices. It depends only
    on the ledger (:func:`core.services.ledger_marks.ledger_mark`), so a page may keep it
    while the quotes change; nobody changes it."""

    client: ClientOut
    rows: tuple[AllocationRow, ...]
    pairs: tuple[fx.Pair, ...]
    symbols: tuple[str, ...]


def client_portfolio(uow: UnitOfWork, market: MarketData, client_id: int) -> PortfolioView:
    """The client, their lots priced with one batched quote call, and totals per currency."""
    return price_lots(lot_bases(uow, client_id), market)


def lot_bases(uow: UnitOfWork, client_id: int) -> LotBases:
    """The client and their lots now (:class:`LotBases`); any role may read."""
    with uow:
        client = uow.clients.get(client_id)
        if client is None:
            raise NotFound()
        rows = tuple(
            AllocationRow(
                allocation_id=allocation.id,
                symbol=asset.symbol,
                name=asset.name,
                currency=asset.currency,
                quantity=allocation.quantity,
                buy_price=allocation.price,
                buy_date=allocation.date,
                invested=invested_amount(allocation.quantity, allocation.price),
                fees=allocation.fees,
            )
            for allocation, asset in uow.allocations.for_client(client_id)
        )
        out = ClientOut.model_validate(client)
    pairs = fx.pairs_for(row.currency for row in rows)
    symbols = sorted({row.symbol for row in rows} | {pair.symbol for pair in pairs})
    return LotBases(out, rows, tuple(pairs), tuple(symbols))


def price_lots(bases: LotBases, market: MarketData) -> PortfolioView:
    """``bases`` priced with one batched quote call, with totals per currency and the
    total in reais."""
    view = PortfolioView(client=bases.client, source=market.name)
    batch = market.quotes(list(bases.symbols)) if bases.symbols else None
    view.quotes = batch
    view.rows, view.totals = price_rows(list(bases.rows), batch)
    view.cache = dict(batch.cache) if batch else {}
    if bases.pairs and batch:
        view.rates, view.market_value_brl = _value_in_reais(
            view.totals, list(bases.pairs), batch.quotes
        )
    return view


def price_rows(
    bases: list[AllocationRow], batch: QuoteBatch | None
) -> tuple[list[AllocationRow], list[CurrencyTotals]]:
    """One portfolio's lots priced from ``batch``, with weights, and its totals per currency.

    Shared by the client page and the exports, so both show the same live figures. A lot
    whose ticker has no quote in ``batch`` keeps its row, with the failure reason.
    """
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
    totals = _totals(priced)
    market_by_currency = {t.currency: t.market_value for t in totals}
    rows = [
        (
            replace(row, weight=weight(row.market_value, market_by_currency[row.currency or "?"]))
            if row.market_value is not None
            else row
        )
        for row in priced
    ]
    return rows, totals


def live_rates(pairs: list[fx.Pair], quotes: Mapping[str, Quote]) -> dict[str, Decimal]:
    """Reais per unit of each currency, from the live quotes of the pairs (the minor-unit
    factor applied); a currency whose pair was not quoted is absent."""
    rates: dict[str, Decimal] = {}
    for pair in pairs:
        quote = quotes.get(pair.symbol)
        if quote is not None and quote.price > 0:
            rates[pair.currency] = quote.price * Decimal(str(pair.factor))
    return rates


def _value_in_reais(
    totals: list[CurrencyTotals], pairs: list[fx.Pair], quotes: Mapping[str, Quote]
) -> tuple[dict[str, Decimal], Decimal | None]:
    """Live rate per currency, and the priced market value of every currency in reais."""
    rates = live_rates(pairs, quotes)
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        total = Decimal(0)
        for line in totals:
            # An asset without a currency ("?") is taken to be in reais, like BRL itself.
            in_reais = line.currency == "?" or fx.pair_for(line.currency) is None
            rate = Decimal(1) if in_reais else rates.get(line.currency)
            if rate is None:
                return rates, None
            total += line.market_value * rate
    return rates, total


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
