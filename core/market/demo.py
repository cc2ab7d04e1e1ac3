"""The demo adapter: deterministic synthetic prices over a bundled catalogue of real tickers.

For offline use (``ANKA_MARKET_DATA=demo``, ``make demo``); the UI always labels its figures
as demo data. Daily closes are a seeded geometric random walk per ticker on weekdays (the
same ticker always gets the same history); intraday quotes move every few seconds around the
previous close. Nothing after "today" is ever produced.

Some catalogue listings have synthetic splits and payouts (see
:mod:`core.market.catalogue`), returned by :meth:`DemoMarketData.history` as the port's
events in range. Closes are as traded, like every adapter's: the walk is scaled by the
ratios of the splits after each day, so a 2-for-1 halves the price on its ex-date and a
holder's value does not jump (twice the shares at half the price). A payout is as traded
too: its per-share amount before a split is larger by the split's ratio.
"""

from __future__ import annotations

import math
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np

from core.market import port
from core.market.catalogue import CATALOGUE, Listing
from core.market.port import (
    AssetEvent,
    HistoryBatch,
    Quote,
    QuoteBatch,
    SearchResult,
    SymbolMatch,
)

SOURCE = "demo"
MARKET_TZ = ZoneInfo("America/Sao_Paulo")
HORIZON = date(2035, 12, 31)
ANCHOR = date(2026, 1, 2)
TICK_S = 5  # intraday quotes change every tick
TRADING_DAYS = 252
CENTS = Decimal("0.01")


def _fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).casefold()


@cache
def _series(listing: Listing) -> tuple[np.ndarray, np.ndarray]:
    """The whole synthetic close series of a listing: weekdays (datetime64[D]) and closes
    as traded (2 decimals). Cached per listing: a few KB each."""
    symbol = listing.symbol
    # Weekdays from the listing date through the horizon (what pd.bdate_range gives, in
    # numpy: building 500 listings' series is part of a timed daily close).
    every_day = np.arange(
        np.datetime64(listing.since, "D"), np.datetime64(HORIZON, "D") + 1, dtype="datetime64[D]"
    )
    day_array = every_day[np.is_busday(every_day)]
    rng = np.random.default_rng(zlib.crc32(symbol.encode()))
    daily_vol = listing.vol / math.sqrt(TRADING_DAYS)
    log_returns = rng.normal(0.08 / TRADING_DAYS - daily_vol**2 / 2, daily_vol, len(day_array))
    walk = np.exp(np.cumsum(log_returns))
    # Scale so the series sits at the listing's price level at the anchor date.
    anchor = int(np.searchsorted(day_array, np.datetime64(ANCHOR, "D")))
    prices = np.round(np.maximum(listing.base * walk / walk[min(anchor, len(walk) - 1)], 0.01), 2)
    # As traded: each day's price times the ratios of the splits after it.
    for ex_date, ratio in listing.splits:
        before = day_array < np.datetime64(ex_date, "D")
        prices[before] = np.round(prices[before] * float(ratio), 2)
    return day_array, np.maximum(prices, 0.01)


def _later_splits(listing: Listing, day: date) -> Decimal:
    """The product of the ratios of ``listing``'s splits with an ex-date after ``day``."""
    return math.prod((ratio for ex, ratio in listing.splits if ex > day), start=Decimal(1))


@cache
def _events(listing: Listing) -> tuple[AssetEvent, ...]:
    """Every synthetic split and payout of a listing through the horizon, sorted by ex-date
    (then kind); payouts as traded (see the module docstring). Cached per listing."""
    events = [AssetEvent("split", ex, ratio, None) for ex, ratio in listing.splits]
    payout = listing.payout
    if payout is not None:
        for year in range(listing.since.year, HORIZON.year + 1):
            for month in payout.months:
                day = date(year, month, payout.day)
                if day.weekday() > 4:  # Saturday or Sunday: the Monday after
                    day += timedelta(days=7 - day.weekday())
                if listing.since <= day <= HORIZON:
                    amount = payout.amount * _later_splits(listing, day)
                    events.append(AssetEvent("dividend", day, None, amount))
    return tuple(sorted(events, key=lambda event: (event.ex_date, event.kind)))


class DemoMarketData:
    """Synthetic market data that behaves like the real port (see the module docstring)."""

    name = SOURCE

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        listings: Iterable[Listing] = CATALOGUE,
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        # The bundled catalogue by default; benchmarks pass larger synthetic books.
        self.listings: dict[str, Listing] = {listing.symbol: listing for listing in listings}
        self.calls: Counter[str] = Counter()  # upstream-style calls, for the benchmarks

    def _today(self) -> date:
        return self._clock().astimezone(MARKET_TZ).date()

    def search(self, query: str, limit: int = 10) -> SearchResult:
        """Catalogue tickers whose symbol or name contains the query (accents ignored)."""
        self.calls["search"] += 1
        needle = _fold(query.strip())
        ranked: list[tuple[int, Listing]] = []
        for listing in self.listings.values():
            symbol = listing.symbol.casefold()
            if symbol == needle or symbol.split(".")[0] == needle:
                ranked.append((0, listing))
            elif symbol.startswith(needle):
                ranked.append((1, listing))
            elif needle in symbol or needle in _fold(listing.name):
                ranked.append((2, listing))
        ranked.sort(key=lambda item: (item[0], item[1].symbol))
        return SearchResult(
            matches=[
                SymbolMatch(
                    symbol=listing.symbol,
                    name=listing.name,
                    exchange=listing.exchange,
                    asset_type=listing.asset_type,
                    currency=listing.currency,
                )
                for _, listing in ranked[:limit]
            ]
        )

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        """A quote per known ticker that moves every few seconds; unknown ones fail."""
        batch = QuoteBatch()
        now = self._clock()
        today = self._today()
        wanted = list(dict.fromkeys(port.normalize_symbol(s) for s in symbols))
        for chunk in port.chunks(wanted):
            self.calls["quotes"] += 1
            for symbol in chunk:
                listing = self.listings.get(symbol)
                if listing is None:
                    batch.failed[symbol] = port.NOT_FOUND
                    continue
                batch.quotes[symbol] = self._quote(listing, now, today)
        return batch

    @staticmethod
    def _quote(listing: Listing, now: datetime, today: date) -> Quote:
        days, prices = _series(listing)
        before = int(np.searchsorted(days, np.datetime64(today, "D")))
        previous = float(prices[before - 1]) if before else listing.base
        tick = int(now.timestamp()) // TICK_S
        daily_vol = listing.vol / math.sqrt(TRADING_DAYS)
        seed = zlib.crc32(f"{listing.symbol}:{today.isoformat()}".encode())
        drift = np.random.default_rng(seed).normal(0, daily_vol)
        wiggle = math.sin(tick / 7 + seed % 97) * daily_vol * 0.25
        price = max(previous * (1 + drift + wiggle), 0.01)
        return Quote(
            symbol=listing.symbol,
            price=Decimal(str(round(price, 2))).quantize(CENTS),
            previous_close=Decimal(str(previous)).quantize(CENTS),
            currency=listing.currency,
            market_time=datetime.fromtimestamp(tick * TICK_S, UTC),
            source=SOURCE,
            name=listing.name,
            exchange=listing.exchange,
            first_trade_date=listing.since,
        )

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        """Synthetic weekday closes as traded in [start, end], never past today, with the
        listing's synthetic splits and payouts (as dividends) in that range."""
        batch = HistoryBatch()
        last = min(end, self._today())
        wanted = list(dict.fromkeys(port.normalize_symbol(s) for s in symbols))
        for chunk in port.chunks(wanted):
            self.calls["history"] += 1
            for symbol in chunk:
                if symbol not in self.listings:
                    batch.failed[symbol] = port.NOT_FOUND
                    continue
                days, prices = _series(self.listings[symbol])
                lo = int(np.searchsorted(days, np.datetime64(start, "D")))
                hi = int(np.searchsorted(days, np.datetime64(last, "D"), side="right"))
                if hi <= lo:
                    batch.failed[symbol] = port.NO_DATA
                    continue
                # Closes already carry two decimals: formatting them so is the exact
                # Decimal, and lists beat numpy scalars one by one (a backfill asks for
                # hundreds of thousands of closes).
                batch.closes[symbol] = {
                    day: Decimal(f"{value:.2f}")
                    for day, value in zip(days[lo:hi].tolist(), prices[lo:hi].tolist(), strict=True)
                }
                events = [e for e in _events(self.listings[symbol]) if start <= e.ex_date <= last]
                if events:
                    batch.events[symbol] = events
        return batch
