"""A Redis cache in front of any market-data adapter.

Every answer is kept ``ttl_s`` (``ANKA_CACHE_TTL_S``, 1 h) as fresh, and a while longer as a
stale fallback: when the adapter fails for a ticker and an expired value exists, the stale
value is served, marked stale. Quotes and history for many tickers are read with one MGET
and written with one pipeline. Each answer carries its cache facts (hit, miss, stale or
bypass, key, remaining TTL) for the UI. When Redis is down the cache steps aside: calls pass
straight through and the logs say so; the page never fails because of Redis.

Quotes are the exception for a stack built with ``shared=`` (the dashboard's): with Redis
down, :meth:`CachedMarketData.quotes` answers from the poller's copy in PostgreSQL
(:mod:`core.market.shared_quotes`) and never from the source, so open pages do not each poll
Yahoo; a ticker nobody polled is failed as ``unavailable``. With Redis up, a ticker the
source fails for and Redis has no stale copy of is also looked up there. A user's one-off
action (checking a ticker nobody holds yet) uses :func:`one_off_quotes`, which may still ask
the source once with Redis down.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson
import redis

from core.market.port import (
    AssetEvent,
    CacheInfo,
    HistoryBatch,
    MarketData,
    Quote,
    QuoteBatch,
    SearchResult,
    SymbolMatch,
)

log = logging.getLogger(__name__)

STALE_KEEP_S = 7 * 24 * 3600  # how long an expired value stays available as a fallback
PREFIX = "anka:md"
# How long pages stop asking the source for a ticker it just failed for (the live poller
# keeps asking it on its own schedule).
FAILED_KEEP_S = 60


class SharedQuoteStore(Protocol):
    """Where the live poller's latest quotes outlive Redis (see
    :class:`core.market.shared_quotes.SharedQuotes`)."""

    def latest(self, symbols: list[str], source: str) -> QuoteBatch:
        """The stored quotes of ``symbols`` from ``source``; the others failed."""
        ...


def _quote_to_json(quote: Quote) -> dict[str, Any]:
    return {
        "symbol": quote.symbol,
        "price": str(quote.price),
        "previous_close": None if quote.previous_close is None else str(quote.previous_close),
        "currency": quote.currency,
        "market_time": quote.market_time.isoformat() if quote.market_time else None,
        "source": quote.source,
        "name": quote.name,
        "exchange": quote.exchange,
        "first_trade_date": quote.first_trade_date.isoformat() if quote.first_trade_date else None,
    }


def _quote_from_json(data: dict[str, Any]) -> Quote:
    return Quote(
        symbol=data["symbol"],
        price=Decimal(data["price"]),
        previous_close=None if data["previous_close"] is None else Decimal(data["previous_close"]),
        currency=data["currency"],
        market_time=datetime.fromisoformat(data["market_time"]) if data["market_time"] else None,
        source=data["source"],
        name=data.get("name"),
        exchange=data.get("exchange"),
        first_trade_date=(
            date.fromisoformat(data["first_trade_date"]) if data.get("first_trade_date") else None
        ),
    )


class CachedMarketData:
    """Wraps ``inner`` with the Redis cache described in the module docstring."""

    def __init__(
        self,
        inner: MarketData,
        client: redis.Redis,
        *,
        ttl_s: int = 3600,
        clock: Callable[[], float] = time.time,
        shared: SharedQuoteStore | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.client = client
        self.ttl_s = ttl_s
        self._clock = clock
        self.shared = shared
        self.available = True

    # -- envelope helpers -----------------------------------------------------------------
    def key(self, kind: str, *parts: str) -> str:
        """The Redis key for one cached answer of this adapter."""
        return ":".join((PREFIX, self.name, kind, *parts))

    def _wrap(self, payload: Any) -> str:
        now = self._clock()
        envelope = {"fresh_until": now + self.ttl_s, "stored_at": now, "data": payload}
        return orjson.dumps(envelope).decode()

    def _read(self, keys: list[str]) -> list[dict[str, Any] | None]:
        if not keys:
            return []
        try:
            raw = self.client.mget(keys)
        except redis.RedisError as exc:
            self._down(exc)
            return [None] * len(keys)
        self.available = True
        return [orjson.loads(item) if item else None for item in raw]

    def _write(self, items: dict[str, Any]) -> None:
        if not items:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, payload in items.items():
                pipe.set(key, self._wrap(payload), ex=self.ttl_s + STALE_KEEP_S)
            pipe.execute()
        except redis.RedisError as exc:
            self._down(exc)

    def _down(self, exc: Exception) -> None:
        if self.available:
            log.warning("Redis unavailable, market data passes through uncached: %s", exc)
        self.available = False

    def _info(self, status: str, key: str, envelope: dict[str, Any] | None) -> CacheInfo:
        if not self.available:
            return CacheInfo("bypass", key, None)
        if envelope is None:
            return CacheInfo(status, key, self.ttl_s if status == "miss" else None, 0.0)
        now = self._clock()
        ttl = max(0, int(envelope["fresh_until"] - now))
        stored_at = envelope.get("stored_at")
        age = None if stored_at is None else max(0.0, now - float(stored_at))
        return CacheInfo(status, key, ttl, age)

    def _fresh(self, envelope: dict[str, Any] | None) -> bool:
        return envelope is not None and envelope["fresh_until"] > self._clock()

    # -- port -----------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> SearchResult:
        """Cached search; a failed upstream search falls back to a stale answer if any."""
        digest = hashlib.sha256(f"{query.strip().casefold()}|{limit}".encode()).hexdigest()[:32]
        key = self.key("search", digest)
        (envelope,) = self._read([key])
        if envelope is not None and self._fresh(envelope):
            matches = [SymbolMatch(**m) for m in envelope["data"]]
            return SearchResult(matches, self._info("hit", key, envelope))
        try:
            result = self.inner.search(query, limit)
        except Exception:
            if envelope is None:
                raise
            matches = [SymbolMatch(**m) for m in envelope["data"]]
            return SearchResult(matches, self._info("stale", key, envelope))
        self._write({key: [asdict(m) for m in result.matches]})
        return SearchResult(result.matches, self._info("miss", key, None))

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        """Quotes from the cache where fresh; one upstream batch for the rest; stale fallback.

        With a shared store and Redis down: the poller's stored quotes, never the source
        (every open page would ask it on every refresh). With Redis up, a ticker the source
        failed for and that Redis has no stale copy of is looked up in the store too.
        """
        return self._quotes(symbols, upstream_when_down=self.shared is None)

    def lookup_quotes(self, symbols: list[str]) -> QuoteBatch:
        """Quotes for a user's one-off action (checking tickers nobody holds yet, as adding a
        lot or importing a file does): like :meth:`quotes`, but with Redis down the source is
        asked, once per action. Such a ticker has no polled quote to read, and the action
        needs the source's facts (first trading day, name), not only a price."""
        return self._quotes(symbols, upstream_when_down=True)

    def _quotes(self, symbols: list[str], *, upstream_when_down: bool) -> QuoteBatch:
        wanted = list(dict.fromkeys(symbols))
        keys = [self.key("quote", s) for s in wanted]
        envelopes = dict(zip(wanted, self._read(keys), strict=True))
        if wanted and not self.available and not upstream_when_down:
            assert self.shared is not None
            return self.shared.latest(wanted, self.inner.name)
        batch = QuoteBatch()
        missing = []
        for symbol, key in zip(wanted, keys, strict=True):
            envelope = envelopes[symbol]
            if self._fresh(envelope):
                assert envelope is not None
                batch.quotes[symbol] = _quote_from_json(envelope["data"])
                batch.cache[symbol] = self._info("hit", key, envelope)
            else:
                missing.append(symbol)
        if not missing:
            return batch
        if not upstream_when_down:
            missing = self._recently_failed(missing, envelopes, batch)
        batch = self._fetch_quotes(missing, envelopes, batch) if missing else batch
        if not upstream_when_down:
            self._remember_failures(batch, missing)
        if batch.failed and not upstream_when_down and self.available:
            self._from_shared(batch)  # not for a one-off check: it needs the source's facts
        return batch

    def _recently_failed(
        self,
        missing: list[str],
        envelopes: dict[str, dict[str, Any] | None],
        batch: QuoteBatch,
    ) -> list[str]:
        """The tickers of ``missing`` worth asking the source for: not those it failed for
        in the last :data:`FAILED_KEEP_S` seconds (their stale copy, else their reason, goes
        into ``batch``). Without this, every open page would ask again on every refresh for
        a ticker the source keeps failing (a delisted one, say)."""
        markers = self._read([self.key("quote-failed", s) for s in missing])
        ask = []
        for symbol, marker in zip(missing, markers, strict=True):
            if marker is None or not self._fresh(marker):
                ask.append(symbol)
                continue
            envelope = envelopes.get(symbol)
            if envelope is not None:
                batch.quotes[symbol] = _quote_from_json(envelope["data"]).as_stale()
                batch.cache[symbol] = self._info("stale", self.key("quote", symbol), envelope)
            else:
                batch.failed[symbol] = str(marker["data"])
        return ask

    def _remember_failures(self, batch: QuoteBatch, asked: list[str]) -> None:
        """Note, for :data:`FAILED_KEEP_S` seconds, the asked tickers the source failed for."""
        failed = [
            s
            for s in asked
            if s in batch.failed or (s in batch.cache and batch.cache[s].status == "stale")
        ]
        if not failed or not self.available:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            now = self._clock()
            for symbol in failed:
                reason = batch.failed.get(symbol, "unavailable")
                envelope = {"fresh_until": now + FAILED_KEEP_S, "stored_at": now, "data": reason}
                pipe.set(self.key("quote-failed", symbol), orjson.dumps(envelope), ex=FAILED_KEEP_S)
            pipe.execute()
        except redis.RedisError as exc:
            self._down(exc)

    def _from_shared(self, batch: QuoteBatch) -> None:
        """Fill the tickers the source failed for (and Redis had no stale copy of) from the
        shared store; the others keep the source's reason."""
        assert self.shared is not None
        stored = self.shared.latest(list(batch.failed), self.inner.name)
        for symbol, quote in stored.quotes.items():
            del batch.failed[symbol]
            batch.quotes[symbol] = quote
            batch.cache[symbol] = stored.cache[symbol]

    def refresh_quotes(self, symbols: list[str]) -> QuoteBatch:
        """Ask upstream for every symbol now and store the answers (the live poller's call:
        one batched request per 100 tickers, whatever the cache holds)."""
        wanted = list(dict.fromkeys(symbols))
        envelopes = dict(
            zip(wanted, self._read([self.key("quote", s) for s in wanted]), strict=True)
        )
        return self._fetch_quotes(wanted, envelopes, QuoteBatch())

    def _fetch_quotes(
        self,
        missing: list[str],
        envelopes: dict[str, dict[str, Any] | None],
        batch: QuoteBatch,
    ) -> QuoteBatch:
        fetched = self.inner.quotes(missing)
        self._write({self.key("quote", s): _quote_to_json(q) for s, q in fetched.quotes.items()})
        for symbol, quote in fetched.quotes.items():
            batch.quotes[symbol] = quote
            batch.cache[symbol] = self._info("miss", self.key("quote", symbol), None)
        for symbol, reason in fetched.failed.items():
            envelope = envelopes.get(symbol)
            if envelope is not None:
                batch.quotes[symbol] = _quote_from_json(envelope["data"]).as_stale()
                batch.cache[symbol] = self._info("stale", self.key("quote", symbol), envelope)
            else:
                batch.failed[symbol] = reason
        return batch

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        """Daily closes and events, cached per ticker and date range; stale fallback per
        ticker. An entry keeps the ticker's closes and its events (splits, dividends), so a
        hit returns both; an entry written before events were kept reads as closes only."""
        wanted = list(dict.fromkeys(symbols))
        span = f"{start.isoformat()}:{end.isoformat()}"
        keys = [self.key("history", s, span) for s in wanted]
        envelopes = dict(zip(wanted, self._read(keys), strict=True))
        batch = HistoryBatch()
        missing = []
        for symbol, key in zip(wanted, keys, strict=True):
            envelope = envelopes[symbol]
            if self._fresh(envelope):
                assert envelope is not None
                _history_into(batch, symbol, envelope["data"])
                batch.cache[symbol] = self._info("hit", key, envelope)
            else:
                missing.append(symbol)
        if not missing:
            return batch
        fetched = self.inner.history(missing, start, end)
        self._write(
            {
                self.key("history", s, span): _history_to_json(closes, fetched.events.get(s, []))
                for s, closes in fetched.closes.items()
            }
        )
        for symbol, closes in fetched.closes.items():
            batch.closes[symbol] = closes
            if fetched.events.get(symbol):
                batch.events[symbol] = fetched.events[symbol]
            batch.cache[symbol] = self._info("miss", self.key("history", symbol, span), None)
        # What the source said about this fetch passes through: the empty closes of a fresh
        # answer (a hit has none: an entry keeps closes and events) and why a ticker failed.
        batch.dropped.update({s: n for s, n in fetched.dropped.items() if s in fetched.closes})
        for symbol, reason in fetched.failed.items():
            envelope = envelopes.get(symbol)
            if envelope is not None:
                _history_into(batch, symbol, envelope["data"])
                batch.cache[symbol] = self._info(
                    "stale", self.key("history", symbol, span), envelope
                )
            else:
                batch.failed[symbol] = reason
                if symbol in fetched.details:
                    batch.details[symbol] = fetched.details[symbol]
        return batch


def _history_to_json(closes: dict[date, Decimal], events: list[AssetEvent]) -> dict[str, Any]:
    """A cached history entry: ``{"closes": {day: price}, "events": [[kind, day, ratio,
    amount], ...]}`` (ratio and amount as strings or null)."""
    return {
        "closes": {d.isoformat(): str(p) for d, p in closes.items()},
        "events": [
            [e.kind, e.ex_date.isoformat(), _text(e.ratio), _text(e.amount)] for e in events
        ],
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _history_into(batch: HistoryBatch, symbol: str, data: dict[str, Any]) -> None:
    """Put a cached history entry's closes and events into ``batch``. An entry written
    before events were kept is the closes alone (``{day: price}``): no events."""
    if "closes" not in data:  # no day is called "closes"
        data = {"closes": data, "events": []}
    batch.closes[symbol] = {date.fromisoformat(d): Decimal(p) for d, p in data["closes"].items()}
    events = [
        AssetEvent(kind, date.fromisoformat(day), _number(ratio), _number(amount))
        for kind, day, ratio, amount in data["events"]
    ]
    if events:
        batch.events[symbol] = events


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def one_off_quotes(market: MarketData, symbols: list[str]) -> QuoteBatch:
    """Quotes for a user's one-off action on ``market``: :meth:`CachedMarketData.lookup_quotes`
    for the cached stack (the source may be asked once even with Redis down), plain
    ``quotes`` for a bare adapter."""
    if isinstance(market, CachedMarketData):
        return market.lookup_quotes(symbols)
    return market.quotes(symbols)
