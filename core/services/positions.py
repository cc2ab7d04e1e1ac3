"""A client's positions now, derived from the ledger: one row per asset, priced live.

Each asset's ledger (the client's buys, sells and typed income plus the asset's events that
are not dismissed) is walked by :func:`core.analytics.ledger.walk`: quantity, preço médio
(fees included), realised gain, income received (net of tax). One batched quote call then
prices the open positions and asks the exchange rates their currencies need
(``USDBRL=X``), as :mod:`core.services.portfolio` does; any role may read.

Per row, in the asset's currency: market value Q x P, unrealised gain Q x P - cost, daily
change P / previous close - 1, total return Q x P + sells + income - bought (and over
bought). The weight is the row's market value in reais at the live rate over every priced
position's market value in reais: a US position is weighed against the whole portfolio,
not against its own currency. Without a rate a currency needs, no weight is given (and no
total in reais), never one computed on a partial sum. A closed position (quantity 0) keeps
its row with its realised gain and income, weight 0, and asks for no quote.

Income per month is kept per currency, in the asset's own currency and net of tax: the
rate of an income's date is not always stored (and is not what the page shows per
asset), so nothing is converted; a page shows one series per currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, localcontext

from core.analytics import fx
from core.analytics.ledger import Oversold, Position, walk
from core.analytics.lots import EXACT_PRECISION, daily_change
from core.db import UnitOfWork
from core.errors import NotFound
from core.market.port import CacheInfo, MarketData, Quote, QuoteBatch
from core.models import Asset, AssetEvent, Movement
from core.schemas import ClientOut
from core.services.asset_classes import class_of
from core.services.ledger_rules import ledger_lines
from core.services.portfolio import live_rates

ZERO = Decimal(0)
NO_CURRENCY = "?"  # an asset whose source gave no currency: taken to be in reais
OVERSOLD = "oversold"  # a stored ledger selling more than it held (kept before the rule)


@dataclass(frozen=True, slots=True)
class PositionRow:
    """One asset's position; price-derived fields are None when the quote failed (or, for
    ``failure == "oversold"``, every figure: the stored ledger cannot be walked)."""

    asset_id: int
    symbol: str
    name: str
    currency: str | None
    asset_class: str | None = None  # core.market.asset_classes code in effect
    quantity: Decimal = ZERO
    average_cost: Decimal | None = None  # preço médio; None when nothing is held
    cost: Decimal = ZERO  # quantity x average cost
    bought: Decimal = ZERO  # paid for buys, fees included
    sold: Decimal = ZERO  # received for sells, net of fees
    realised: Decimal = ZERO
    income: Decimal = ZERO  # net of tax
    price: Decimal | None = None
    previous_close: Decimal | None = None
    daily_change: Decimal | None = None
    market_value: Decimal | None = None
    unrealised: Decimal | None = None
    total_return: Decimal | None = None
    total_return_pct: Decimal | None = None
    market_value_brl: Decimal | None = None
    weight: Decimal | None = None  # of the whole portfolio, in reais
    failure: str | None = None
    stale: bool = False
    source: str | None = None

    @property
    def closed(self) -> bool:
        """True when nothing is held any more (the row stays for its realised gain)."""
        return self.quantity == 0 and self.failure != OVERSOLD


@dataclass(frozen=True, slots=True)
class PositionTotals:
    """A client's positions summed in one currency (priced rows only for market figures)."""

    currency: str
    bought: Decimal
    sold: Decimal
    realised: Decimal
    income: Decimal
    market_value: Decimal
    unrealised: Decimal
    total_return: Decimal
    unpriced: int


@dataclass(slots=True)
class PositionsView:
    """Everything a positions page shows about a client now."""

    client: ClientOut
    rows: list[PositionRow] = field(default_factory=list)
    totals: list[PositionTotals] = field(default_factory=list)
    # currency -> "YYYY-MM" -> income received that month (net of tax, not converted)
    income_by_month: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    market_value_brl: Decimal | None = None  # every priced position; None if a rate is missing
    rates: dict[str, Decimal] = field(default_factory=dict)  # live rate per currency
    cache: dict[str, CacheInfo] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True, slots=True)
class PositionBases:
    """A client's ledger walked, before any price: what :func:`price_positions` prices.
    It depends only on the ledger (:func:`core.services.ledger_marks.ledger_mark`), so a
    page may keep it while the quotes change; nobody changes it."""

    client: ClientOut
    source: str
    rows: tuple[PositionRow, ...]
    income_by_month: tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...]
    pairs: tuple[fx.Pair, ...]
    symbols: tuple[str, ...]


def client_positions(
    uow: UnitOfWork,
    market: MarketData,
    client_id: int,
    *,
    quotes: QuoteBatch | None = None,
) -> PositionsView:
    """The client's positions from the ledger, priced with one batched quote call, with
    weights in reais, totals per currency and income per month. ``quotes``: an answer
    already fetched for the client's assets and rates (the client page's lots,
    :attr:`core.services.portfolio.PortfolioView.quotes`), used instead of asking again."""
    return price_positions(position_bases(uow, client_id), market, quotes=quotes)


def ledger_mark(uow: UnitOfWork, client_id: int) -> str:
    """The mark of everything the client's positions and lots are derived from: it
    changes with any movement, event, asset or client edit that could change them (what a
    page keeps :class:`PositionBases` and lots against); any role may read."""
    with uow:
        mark = uow.movements.ledger_mark(client_id)
    if mark is None:
        raise NotFound()
    return mark


def position_bases(uow: UnitOfWork, client_id: int) -> PositionBases:
    """The client's ledger walked now (:class:`PositionBases`); any role may read."""
    with uow:
        return _walked(uow, client_id, "", None)


def price_positions(
    bases: PositionBases, market: MarketData, *, quotes: QuoteBatch | None = None
) -> PositionsView:
    """``bases`` priced with one batched quote call (or ``quotes``, when it has every
    symbol they need)."""
    symbols = set(bases.symbols)
    if quotes is not None and symbols <= set(quotes.quotes) | set(quotes.failed):
        batch: QuoteBatch | None = quotes
    else:
        batch = market.quotes(list(bases.symbols)) if bases.symbols else None
    return _priced_view(replace(bases, source=market.name), batch)


def positions_at(uow: UnitOfWork, client_id: int, as_of: date) -> PositionsView:
    """The client's positions at the end of ``as_of`` (a statement's): from the movements
    and events up to it, priced at the stored closes on or before it (and their rates),
    so no market data is asked (a statement drawn in a worker process needs none)."""
    with uow:
        bases = _walked(uow, client_id, STORED_CLOSES, as_of)
        batch = stored_quotes(uow, list(bases.symbols), as_of) if bases.symbols else None
    return _priced_view(bases, batch)


def _walked(uow: UnitOfWork, client_id: int, source: str, as_of: date | None) -> PositionBases:
    """The client's ledger walked (through ``as_of`` when given): its rows before pricing,
    the exchange rates they need and the symbols to price."""
    client = uow.clients.get(client_id)
    if client is None:
        raise NotFound()
    rows = uow.movements.for_client(client_id)
    events = uow.movements.events_of({asset.id for _, asset in rows})
    if as_of is not None:
        rows = [(m, a) for m, a in rows if m.date <= as_of]
        events = [e for e in events if e.ex_date <= as_of]
    walked = _walk_assets(rows, events)
    bases = [_base_row(asset, position) for asset, position in walked]
    income = _income_by_month(walked)
    open_rows = [row for row in bases if row.quantity > 0]
    pairs = fx.pairs_for(row.currency for row in open_rows)
    symbols = sorted({row.symbol for row in open_rows} | {pair.symbol for pair in pairs})
    return PositionBases(
        client=ClientOut.model_validate(client),
        source=source,
        rows=tuple(bases),
        income_by_month=tuple(
            (currency, tuple(months.items())) for currency, months in income.items()
        ),
        pairs=tuple(pairs),
        symbols=tuple(symbols),
    )


def _priced_view(bases: PositionBases, batch: QuoteBatch | None) -> PositionsView:
    view = PositionsView(
        client=bases.client,
        source=bases.source,
        income_by_month={currency: dict(months) for currency, months in bases.income_by_month},
    )
    pairs = list(bases.pairs)
    view.cache = dict(batch.cache) if batch else {}
    view.rates = live_rates(pairs, batch.quotes) if batch else {}
    priced = [_priced(row, batch) for row in bases.rows]
    view.rows, view.market_value_brl = _weighed(priced, view.rates)
    view.totals = _totals(view.rows)
    return view


STORED_CLOSES = "stored_closes"  # the source of positions priced at a day's stored closes
LOOK_BACK = timedelta(days=14)  # a close older than this before the day is not its price


def stored_quotes(uow: UnitOfWork, symbols: list[str], as_of: date) -> QuoteBatch:
    """Quotes as of the end of ``as_of`` from the stored closes: each symbol's last close
    on or before that day (within two weeks), and the close before it as the previous
    close; a symbol without one fails with ``no_data``."""
    assets = uow.assets.by_symbols(symbols)
    stored = uow.prices.closes_since([a.id for a in assets.values()], as_of - LOOK_BACK)
    by_asset: dict[int, list[tuple[date, Decimal]]] = {}
    for (asset_id, day), close in stored.items():
        if day <= as_of:
            by_asset.setdefault(asset_id, []).append((day, close))
    batch = QuoteBatch()
    for symbol in symbols:
        asset = assets.get(symbol)
        closes = sorted(by_asset.get(asset.id, [])) if asset else []
        if not closes:
            batch.failed[symbol] = "no_data"
            continue
        day, price = closes[-1]
        previous = closes[-2][1] if len(closes) > 1 else None
        market_time = datetime.combine(day, time(0), tzinfo=UTC)
        batch.quotes[symbol] = Quote(
            symbol, price, previous, asset.currency if asset else None, market_time, STORED_CLOSES
        )
    return batch


def _walk_assets(
    rows: list[tuple[Movement, Asset]], events: list[AssetEvent]
) -> list[tuple[Asset, Position | None]]:
    """Each asset of the ledger (by symbol) with its walked position (None: oversold)."""
    assets = sorted({asset.id: asset for _, asset in rows}.values(), key=lambda a: a.symbol)
    walked: list[tuple[Asset, Position | None]] = []
    for asset in assets:
        mine = [movement for movement, _ in rows if movement.asset_id == asset.id]
        of_asset = [event for event in events if event.asset_id == asset.id]
        try:
            walked.append((asset, walk(ledger_lines(mine, of_asset))))
        except Oversold:
            walked.append((asset, None))
    return walked


def _base_row(asset: Asset, position: Position | None) -> PositionRow:
    """The row's ledger figures (no price yet); a closed one gets its final figures."""
    row = PositionRow(
        asset_id=asset.id,
        symbol=asset.symbol,
        name=asset.name,
        currency=asset.currency,
        asset_class=class_of(asset),
    )
    if position is None:
        return replace(row, failure=OVERSOLD)
    row = replace(
        row,
        quantity=position.quantity,
        average_cost=position.average_cost,
        cost=position.cost,
        bought=position.bought,
        sold=position.sold,
        realised=position.realised,
        income=position.income,
    )
    if position.quantity:
        return row
    money, ratio = position.total_return(ZERO)
    return replace(
        row, market_value=ZERO, unrealised=ZERO, total_return=money, total_return_pct=ratio
    )


def _priced(row: PositionRow, batch: QuoteBatch | None) -> PositionRow:
    """An open row priced from ``batch`` (its failure reason when the quote is missing)."""
    if row.failure or row.quantity == 0:
        return row
    quote = batch.quotes.get(row.symbol) if batch else None
    if quote is None:
        return replace(row, failure=batch.failed.get(row.symbol, "no_data") if batch else "no_data")
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        market_value = row.quantity * quote.price
        unrealised = market_value - row.cost
        money = market_value + row.sold + row.income - row.bought
    return replace(
        row,
        price=quote.price,
        previous_close=quote.previous_close,
        daily_change=daily_change(quote.price, quote.previous_close),
        market_value=market_value,
        unrealised=unrealised,
        total_return=money,
        total_return_pct=money / row.bought if row.bought else None,
        stale=quote.stale,
        source=quote.source,
    )


def rate_for(currency: str | None, rates: Mapping[str, Decimal]) -> Decimal | None:
    """The live rate of ``currency`` into reais: 1 for reais (and for no currency)."""
    if fx.pair_for(currency) is None:
        return Decimal(1)
    assert currency is not None
    return rates.get(currency)


def _weighed(
    rows: list[PositionRow], rates: Mapping[str, Decimal]
) -> tuple[list[PositionRow], Decimal | None]:
    """Rows with their market value in reais and weight, and the total in reais (None, and
    no weights, when a priced row's currency has no rate). A closed row is worth 0."""
    total: Decimal | None = ZERO
    in_reais: list[PositionRow] = []
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        for row in rows:
            value: Decimal | None = None
            if row.closed:
                value = ZERO
            elif row.market_value is not None:
                rate = rate_for(row.currency, rates)
                value = None if rate is None else row.market_value * rate
                total = None if value is None or total is None else total + value
            in_reais.append(replace(row, market_value_brl=value))
    if not total:  # a rate is missing, or nothing priced is held
        return in_reais, total
    weighed = [
        (
            replace(row, weight=row.market_value_brl / total)
            if row.market_value_brl is not None
            else row
        )
        for row in in_reais
    ]
    return weighed, total


def _income_by_month(walked: list[tuple[Asset, Position | None]]) -> dict[str, dict[str, Decimal]]:
    """Income received (net of tax, typed or per share) by currency and year-month."""
    months: dict[str, dict[str, Decimal]] = {}
    for asset, position in walked:
        if position is None:
            continue
        for entry in position.entries:
            if entry.income:
                mine = months.setdefault(asset.currency or NO_CURRENCY, {})
                month = entry.day.strftime("%Y-%m")
                mine[month] = mine.get(month, ZERO) + entry.income
    return {
        currency: dict(sorted(by_month.items())) for currency, by_month in sorted(months.items())
    }


def _totals(rows: list[PositionRow]) -> list[PositionTotals]:
    """Exact sums per currency; market figures cover the priced (and closed) rows."""
    totals: list[PositionTotals] = []
    for currency in sorted({row.currency or NO_CURRENCY for row in rows}):
        mine = [
            r for r in rows if (r.currency or NO_CURRENCY) == currency and r.failure != OVERSOLD
        ]
        priced = [r for r in mine if r.market_value is not None]
        with localcontext() as ctx:
            ctx.prec = EXACT_PRECISION
            totals.append(
                PositionTotals(
                    currency=currency,
                    bought=sum((r.bought for r in mine), ZERO),
                    sold=sum((r.sold for r in mine), ZERO),
                    realised=sum((r.realised for r in mine), ZERO),
                    income=sum((r.income for r in mine), ZERO),
                    market_value=sum((r.market_value or ZERO for r in priced), ZERO),
                    unrealised=sum((r.unrealised or ZERO for r in priced), ZERO),
                    total_return=sum((r.total_return or ZERO for r in priced), ZERO),
                    unpriced=len(mine) - len(priced),
                )
            )
    return totals
