"""The live quotes' copy in PostgreSQL (``latest_quotes``): what the poller last got.

Redis is the live-quote channel. When it is down, a dashboard whose cache steps aside would
ask the source (Yahoo) itself on every refresh of every open page: 20 pages made 217 upstream
calls in a minute. So the poller also writes each successful batch here
(:meth:`SharedQuotes.store`, one statement per poll), and the dashboard's market stack (a
:class:`core.market.cache.CachedMarketData` built with ``shared=``) reads from here while Redis
is down (:meth:`SharedQuotes.latest`): the quotes come with their age, for the page's
"updated at" caption, and a ticker with no row is reported failed (``unavailable``).

Neither call raises for a database error: the poll goes on (Redis got the quotes), the page
says the prices are unavailable. A failed poll, or a quote served stale from Redis because
the source failed, never replaces a stored row: a row is always the last good answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from core.db import UnitOfWork
from core.limits import price_fits
from core.market.cache import STALE_KEEP_S
from core.market.port import UNAVAILABLE, CacheInfo, Quote, QuoteBatch
from core.repositories.latest_quotes import LatestQuoteRow

log = logging.getLogger(__name__)

SHARED = "shared"  # CacheInfo status of a quote read from PostgreSQL (Redis down)
KEY_PREFIX = "latest_quotes"
# Column widths of latest_quotes (core.models.LatestQuote).
SYMBOL_MAX, CURRENCY_MAX, SOURCE_MAX = 32, 8, 16


class SharedQuotes:
    """Writes and reads ``latest_quotes`` through a unit of work per call."""

    def __init__(
        self,
        make_uow: Callable[[], UnitOfWork],
        *,
        ttl_s: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._make_uow = make_uow
        self.ttl_s = ttl_s
        self._clock = clock
        self.available = True

    def key(self, symbol: str) -> str:
        """Where a quote came from, for the cache captions (like a Redis key)."""
        return f"{KEY_PREFIX}:{symbol}"

    def store(self, batch: QuoteBatch) -> int:
        """Write the quotes the source answered in this poll; the number of rows written.

        Only fresh answers are written: a failed ticker and a quote served stale from Redis
        (the source failed now) leave the stored row as it is. A value the columns cannot
        hold skips its own ticker (logged), never the batch. A database error is logged and
        the poll goes on.
        """
        fetched_at = datetime.fromtimestamp(self._clock(), UTC)
        rows = []
        for symbol, quote in batch.quotes.items():
            info = batch.cache.get(symbol)
            if quote.stale or (info is not None and info.status in {"stale", SHARED}):
                continue
            row = _row(symbol, quote, fetched_at)
            if row is None:
                log.warning("live quote of %r not stored: a value does not fit", symbol)
                continue
            rows.append(row)
        if not rows:
            return 0
        try:
            with self._make_uow() as uow:
                written = uow.latest_quotes.upsert(rows)
                uow.commit()
        except SQLAlchemyError as exc:
            log.warning("live quotes not stored in PostgreSQL (the poll goes on): %s", exc)
            return 0
        return written

    def latest(self, symbols: list[str], source: str) -> QuoteBatch:
        """The stored quotes of ``symbols`` from ``source``, each with a :data:`SHARED`
        :class:`CacheInfo` whose ``age_s`` is the time since the poll; older than the TTL
        they are marked stale. A ticker without a row (or with one older than the TTL plus
        :data:`~core.market.cache.STALE_KEEP_S`, as a Redis entry would be gone, or when
        PostgreSQL does not answer) is failed as ``unavailable``."""
        wanted = list(dict.fromkeys(symbols))
        batch = QuoteBatch()
        if not wanted:
            return batch
        try:
            with self._make_uow() as uow:
                rows = {r.symbol: r for r in uow.latest_quotes.many(wanted, source=source)}
        except SQLAlchemyError as exc:
            if self.available:
                log.warning("stored live quotes unreadable, prices unavailable: %s", exc)
            self.available = False
            rows = {}
        else:
            self.available = True
        now = self._clock()
        for symbol in wanted:
            row = rows.get(symbol)
            age = None if row is None else max(0.0, now - row.fetched_at.timestamp())
            if row is None or age is None or age > self.ttl_s + STALE_KEEP_S:
                batch.failed[symbol] = UNAVAILABLE
                continue
            quote = Quote(
                symbol=row.symbol,
                price=row.price,
                previous_close=row.previous_close,
                currency=row.currency,
                market_time=row.market_time,
                source=row.source,
            )
            batch.quotes[symbol] = quote.as_stale() if age > self.ttl_s else quote
            batch.cache[symbol] = CacheInfo(SHARED, self.key(symbol), None, age)
        return batch


def _row(symbol: str, quote: Quote, fetched_at: datetime) -> LatestQuoteRow | None:
    """The stored row of a quote, or None when its ticker, price or source does not fit the
    columns (a previous close or currency that does not fit is stored as unknown)."""
    if not (0 < len(symbol) <= SYMBOL_MAX and symbol == symbol.upper()):
        return None
    if not price_fits(quote.price) or not (0 < len(quote.source) <= SOURCE_MAX):
        return None
    previous = quote.previous_close
    currency = quote.currency
    return LatestQuoteRow(
        symbol=symbol,
        price=quote.price,
        previous_close=previous if previous is not None and price_fits(previous) else None,
        currency=currency if currency and len(currency) <= CURRENCY_MAX else None,
        market_time=quote.market_time,
        fetched_at=fetched_at,
        source=quote.source,
    )
