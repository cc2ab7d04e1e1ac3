"""The live quotes' copy in PostgreSQL (``latest_quotes``) on the real PostgreSQL and Redis.

The poller (``live_quotes_job``) writes it; the dashboard's stack (``CachedMarketData`` with
``shared=``) reads it while Redis is down, and never the source. Redis "down" is a client
pointed at a port where nothing listens; PostgreSQL "down" an engine pointed at one. The
only stand-in is the upstream adapter: a fake that prices any ticker, counts its calls and
fails on demand. Each test caches under its own adapter name and removes its Redis keys.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import Connection

from core.config import get_settings
from core.db import UnitOfWork, build_engine, uow_factory
from core.market import port
from core.market.cache import (
    FAILED_KEEP_S,
    PREFIX,
    STALE_KEEP_S,
    CachedMarketData,
    one_off_quotes,
)
from core.market.port import CacheInfo, HistoryBatch, Quote, QuoteBatch, SearchResult
from core.market.shared_quotes import SHARED, SharedQuotes
from core.redis_client import redis_for
from core.repositories.latest_quotes import LatestQuoteRow
from core.services.allocations import add_allocation
from core.services.clients import create_client
from core.services.job_runs import LIVE_QUOTES_LOCK, Leadership
from core.services.principal import Principal
from jobs import scheduler
from jobs.runtime import JobContext

Make = Callable[[], UnitOfWork]
CLOSED_REDIS_URL = "redis://127.0.0.1:6390/0"  # nothing listens here
CLOSED_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5439/anka"  # nor here
TTL_S = 600
T0 = 1_773_241_200.0  # 2026-03-11 15:00 UTC


class Clock:
    """A clock (seconds since the epoch) moved by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Upstream:
    """A port adapter that prices any ticker (its quotes' source is its name), counts its
    quote calls and fails on demand."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.quote_calls = 0
        self.failing: dict[str, str] = {}  # ticker -> reason
        self.version = 1  # bump to see new prices

    def price(self, symbol: str) -> Decimal:
        return Decimal(sum(map(ord, symbol)) + self.version) / 4

    def search(self, query: str, limit: int = 10) -> SearchResult:
        return SearchResult([])

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        self.quote_calls += 1
        batch = QuoteBatch()
        for symbol in symbols:
            if symbol in self.failing:
                batch.failed[symbol] = self.failing[symbol]
                continue
            batch.quotes[symbol] = Quote(
                symbol=symbol,
                price=self.price(symbol),
                previous_close=Decimal("10.5"),
                currency="BRL",
                market_time=datetime(2026, 3, 11, 14, 59, tzinfo=UTC),
                source=self.name,
                first_trade_date=date(2000, 1, 3),
            )
        return batch

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        return HistoryBatch(failed=dict.fromkeys(symbols, port.NO_DATA))


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis_for(redis_url)


@pytest.fixture
def upstream(client: redis.Redis) -> Iterator[Upstream]:
    name = f"shq-{uuid.uuid4().hex[:10]}"  # a source fits 16 characters
    yield Upstream(name)
    for key in client.scan_iter(f"{PREFIX}:{name}:*"):
        client.delete(key)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def shared(make_uow: Make, clock: Clock) -> SharedQuotes:
    """The PostgreSQL copy, inside the test's rolled-back transaction."""
    return SharedQuotes(make_uow, ttl_s=TTL_S, clock=clock)


def dashboard(
    upstream: Upstream, shared: SharedQuotes, clock: Clock, redis_url: str = CLOSED_REDIS_URL
) -> CachedMarketData:
    """The dashboard's stack: the cache on ``redis_url`` (down by default) and ``shared``."""
    return CachedMarketData(upstream, redis_for(redis_url), ttl_s=TTL_S, clock=clock, shared=shared)


def polled(shared: SharedQuotes, upstream: Upstream, *symbols: str) -> QuoteBatch:
    """What a poll with Redis down stores: the source's answers for ``symbols``."""
    batch = upstream.quotes(list(symbols))
    upstream.quote_calls = 0
    assert shared.store(batch) == len(batch.quotes)
    return batch


def rows(make_uow: Make, source: str, *symbols: str) -> dict[str, LatestQuoteRow]:
    with make_uow() as uow:
        return {r.symbol: r for r in uow.latest_quotes.many(list(symbols), source=source)}


# -- the page path with Redis down --------------------------------------------------------------
def test_redis_down_serves_the_stored_quotes_with_their_age_and_never_the_source(
    upstream: Upstream, shared: SharedQuotes, clock: Clock
) -> None:
    poll = polled(shared, upstream, "PETR4.SA", "VALE3.SA")
    market = dashboard(upstream, shared, clock)
    clock.now += 4

    batches = [market.quotes(["PETR4.SA", "VALE3.SA", "NEVER3.SA"]) for _ in range(20)]

    assert upstream.quote_calls == 0
    assert market.available is False
    for batch in batches:
        for symbol in ("PETR4.SA", "VALE3.SA"):
            quote = batch.quotes[symbol]
            assert (quote.price, quote.previous_close, quote.currency, quote.market_time) == (
                poll.quotes[symbol].price,
                Decimal("10.5"),
                "BRL",
                datetime(2026, 3, 11, 14, 59, tzinfo=UTC),
            )
            assert quote.source == upstream.name
            assert not quote.stale
            assert batch.cache[symbol] == CacheInfo(SHARED, f"latest_quotes:{symbol}", None, 4.0)
        assert batch.failed == {"NEVER3.SA": port.UNAVAILABLE}  # nobody polled it


def test_redis_down_and_nothing_stored_fails_every_ticker_as_unavailable(
    upstream: Upstream, shared: SharedQuotes, clock: Clock
) -> None:
    batch = dashboard(upstream, shared, clock).quotes(["PETR4.SA", "VALE3.SA"])

    assert upstream.quote_calls == 0
    assert batch.quotes == {}
    assert batch.cache == {}
    assert batch.failed == {"PETR4.SA": port.UNAVAILABLE, "VALE3.SA": port.UNAVAILABLE}


def test_a_stored_quote_past_the_ttl_is_stale_and_past_the_stale_keep_is_gone(
    upstream: Upstream, shared: SharedQuotes, clock: Clock
) -> None:
    polled(shared, upstream, "PETR4.SA")
    market = dashboard(upstream, shared, clock)

    clock.now += TTL_S + 1
    late = market.quotes(["PETR4.SA"])
    assert late.quotes["PETR4.SA"].stale
    assert late.cache["PETR4.SA"].age_s == TTL_S + 1

    clock.now += STALE_KEEP_S
    assert market.quotes(["PETR4.SA"]).failed == {"PETR4.SA": port.UNAVAILABLE}
    assert upstream.quote_calls == 0


def test_quotes_of_another_source_are_not_served(
    upstream: Upstream, shared: SharedQuotes, clock: Clock
) -> None:
    polled(shared, upstream, "PETR4.SA")  # stored as this upstream's
    other = Upstream(f"{upstream.name}-b")

    batch = dashboard(other, shared, clock).quotes(["PETR4.SA"])

    assert batch.failed == {"PETR4.SA": port.UNAVAILABLE}
    assert other.quote_calls == 0


def test_redis_and_postgres_down_say_unavailable_without_raising(
    upstream: Upstream, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    dead = build_engine(CLOSED_POSTGRES_URL, pool_size=1)
    factory = uow_factory(dead)
    shared = SharedQuotes(lambda: UnitOfWork(factory), ttl_s=TTL_S, clock=clock)
    market = dashboard(upstream, shared, clock)

    with caplog.at_level(logging.WARNING, logger="core.market.shared_quotes"):
        batches = [market.quotes(["PETR4.SA"]) for _ in range(3)]

    assert [b.failed for b in batches] == [{"PETR4.SA": port.UNAVAILABLE}] * 3
    assert upstream.quote_calls == 0
    assert len([r for r in caplog.records if "unreadable" in r.getMessage()]) == 1  # said once
    dead.dispose()


def test_a_user_adding_a_new_ticker_with_redis_down_asks_the_source_once(
    upstream: Upstream, shared: SharedQuotes, clock: Clock, make_uow: Make, admin: Principal
) -> None:
    market = dashboard(upstream, shared, clock)
    client = create_client(make_uow(), admin, {"name": "Ana", "email": "ana@example.com"})
    lot = {"quantity": "10", "buy_price": "20", "buy_date": date(2026, 3, 2)}

    added = add_allocation(make_uow(), market, admin, client.id, {"symbol": "NOVO3.SA"}, lot)

    assert added.symbol == "NOVO3.SA"
    assert upstream.quote_calls == 1  # the one-off check, not a page refresh
    assert one_off_quotes(market, ["NOVO3.SA"]).quotes["NOVO3.SA"].price > 0
    assert upstream.quote_calls == 2


# -- the page path with Redis up ------------------------------------------------------------------
def test_redis_up_a_ticker_missing_from_the_cache_is_fetched_once_and_cached(
    upstream: Upstream, shared: SharedQuotes, clock: Clock, redis_url: str
) -> None:
    market = dashboard(upstream, shared, clock, redis_url)

    first = market.quotes(["NOVO3.SA"])
    again = [market.quotes(["NOVO3.SA"]) for _ in range(5)]

    assert upstream.quote_calls == 1
    assert first.cache["NOVO3.SA"].status == "miss"
    assert {b.cache["NOVO3.SA"].status for b in again} == {"hit"}


def test_redis_up_a_failing_source_without_a_cached_copy_falls_back_to_the_stored_quote(
    upstream: Upstream, shared: SharedQuotes, clock: Clock, redis_url: str
) -> None:
    poll = polled(shared, upstream, "PETR4.SA")  # stored, but Redis lost it (restarted)
    upstream.failing = {"PETR4.SA": port.RATE_LIMITED, "NEVER3.SA": port.NOT_FOUND}
    clock.now += 30

    batch = dashboard(upstream, shared, clock, redis_url).quotes(["PETR4.SA", "NEVER3.SA"])

    assert batch.quotes["PETR4.SA"].price == poll.quotes["PETR4.SA"].price
    assert batch.cache["PETR4.SA"] == CacheInfo(SHARED, "latest_quotes:PETR4.SA", None, 30.0)
    assert batch.failed == {"NEVER3.SA": port.NOT_FOUND}  # the source's own reason


def test_redis_up_pages_ask_the_source_once_a_minute_for_a_ticker_it_keeps_failing(
    upstream: Upstream, shared: SharedQuotes, clock: Clock, redis_url: str
) -> None:
    upstream.failing = {"GONE3.SA": port.NOT_FOUND}
    pages = [dashboard(upstream, shared, clock, redis_url) for _ in range(20)]

    batches = [page.quotes(["GONE3.SA"]) for page in pages for _refresh in range(3)]

    # Before: 60 upstream calls (every page, every refresh).
    assert upstream.quote_calls == 1
    assert {tuple(b.failed.items()) for b in batches} == {(("GONE3.SA", port.NOT_FOUND),)}
    clock.now += FAILED_KEEP_S + 1
    pages[0].quotes(["GONE3.SA"])
    assert upstream.quote_calls == 2


# -- the poller -------------------------------------------------------------------------------
@pytest.fixture
def poller_ctx(
    committed_engine: Engine,
    upstream: Upstream,
    admin: Principal,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[JobContext, Leadership]]:
    """The scheduler's context on demo settings (polls at any hour) with ``upstream`` behind
    the real Redis, a client holding PETR4 and VALE3, and the live-quotes lock."""
    monkeypatch.setenv("ANKA_MARKET_DATA", "demo")
    get_settings.cache_clear()
    factory = uow_factory(committed_engine)
    ana = create_client(UnitOfWork(factory), admin, {"name": "Ana", "email": "ana@example.com"})
    for symbol in ("PETR4.SA", "VALE3.SA"):
        lot = {"quantity": "10", "buy_price": "20", "buy_date": date(2026, 3, 2)}
        add_allocation(UnitOfWork(factory), upstream, admin, ana.id, {"symbol": symbol}, lot)
    settings = get_settings()
    market = CachedMarketData(upstream, redis_for(redis_url), ttl_s=TTL_S)
    leader = Leadership(committed_engine, LIVE_QUOTES_LOCK)
    yield JobContext(settings=settings, engine=committed_engine, market=market), leader
    leader.release()
    get_settings.cache_clear()


def stored(engine: Engine) -> dict[str, tuple[Decimal, datetime, str]]:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT symbol, price, fetched_at, source FROM latest_quotes"))
        return {s: (p, f, src) for s, p, f, src in found}


def test_the_live_quotes_job_writes_every_polled_quote_in_one_statement(
    poller_ctx: tuple[JobContext, Leadership], upstream: Upstream, committed_engine: Engine
) -> None:
    ctx, leader = poller_ctx
    statements: list[str] = []

    def seen(_conn: Connection, _cursor: object, sql: str, *_args: object) -> None:
        if "latest_quotes" in sql:
            statements.append(sql)

    before = datetime.now(UTC)
    event.listen(committed_engine, "before_cursor_execute", seen)
    try:
        scheduler.live_quotes_job(ctx, leader)
    finally:
        event.remove(committed_engine, "before_cursor_execute", seen)

    assert len(statements) == 1
    rows_ = stored(committed_engine)
    assert set(rows_) == {"PETR4.SA", "VALE3.SA"}
    for symbol, (price, fetched_at, source) in rows_.items():
        assert price == upstream.price(symbol)
        assert source == upstream.name
        assert before - timedelta(seconds=1) <= fetched_at <= datetime.now(UTC)


def test_a_failed_poll_keeps_the_previous_rows(
    poller_ctx: tuple[JobContext, Leadership], upstream: Upstream, committed_engine: Engine
) -> None:
    ctx, leader = poller_ctx
    scheduler.live_quotes_job(ctx, leader)
    first = stored(committed_engine)

    # The source fails for PETR4 (Redis serves it stale: not written) and answers VALE3 anew.
    upstream.version += 1
    upstream.failing = {"PETR4.SA": port.RATE_LIMITED}
    scheduler.live_quotes_job(ctx, leader)
    second = stored(committed_engine)
    assert second["PETR4.SA"] == first["PETR4.SA"]
    assert second["VALE3.SA"][0] == upstream.price("VALE3.SA") != first["VALE3.SA"][0]
    assert second["VALE3.SA"][1] > first["VALE3.SA"][1]

    # Everything fails: nothing changes.
    upstream.failing = {"PETR4.SA": port.UNAVAILABLE, "VALE3.SA": port.UNAVAILABLE}
    scheduler.live_quotes_job(ctx, leader)
    assert stored(committed_engine) == second


def test_a_poll_goes_on_when_postgres_cannot_store_the_quotes(
    upstream: Upstream, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    dead = build_engine(CLOSED_POSTGRES_URL, pool_size=1)
    factory = uow_factory(dead)
    shared = SharedQuotes(lambda: UnitOfWork(factory), ttl_s=TTL_S, clock=clock)

    with caplog.at_level(logging.WARNING, logger="core.market.shared_quotes"):
        written = shared.store(upstream.quotes(["PETR4.SA"]))

    assert written == 0
    assert any("the poll goes on" in r.getMessage() for r in caplog.records)
    dead.dispose()


# -- the repository -------------------------------------------------------------------------------
def test_an_older_poll_never_replaces_a_newer_row(make_uow: Make) -> None:
    newer = datetime(2026, 3, 11, 15, 0, 5, tzinfo=UTC)

    def row(price: str, at: datetime) -> LatestQuoteRow:
        return LatestQuoteRow("PETR4.SA", Decimal(price), None, "BRL", None, at, "yahoo")

    with make_uow() as uow:
        assert uow.latest_quotes.upsert([row("31", newer)]) == 1
        assert uow.latest_quotes.upsert([row("30", newer - timedelta(seconds=5))]) == 0
        (kept,) = uow.latest_quotes.many(["PETR4.SA"], source="yahoo")
        assert kept.price == Decimal("31")
        uow.commit()


def test_a_value_the_columns_cannot_hold_skips_its_own_ticker(
    shared: SharedQuotes, upstream: Upstream, make_uow: Make
) -> None:
    batch = upstream.quotes(["PETR4.SA", "HUGE3.SA", "BIG4.SA"])
    huge = batch.quotes["HUGE3.SA"]
    batch.quotes["HUGE3.SA"] = Quote("HUGE3.SA", Decimal("1E+15"), None, "BRL", None, huge.source)
    big = batch.quotes["BIG4.SA"]
    batch.quotes["BIG4.SA"] = Quote(
        "BIG4.SA", Decimal("12.5"), Decimal("1E+15"), "A-VERY-LONG-CODE", None, big.source
    )

    assert shared.store(batch) == 2

    found = rows(make_uow, upstream.name, "PETR4.SA", "HUGE3.SA", "BIG4.SA")
    assert set(found) == {"PETR4.SA", "BIG4.SA"}
    assert (found["BIG4.SA"].previous_close, found["BIG4.SA"].currency) == (None, None)
