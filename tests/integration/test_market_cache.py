"""The Redis market-data cache on the real Redis (db 15), in front of the demo adapter or a
small counting, failing fake. Each test caches under its own adapter name (so its own key
namespace) and removes its keys afterwards; the cache's clock is injected."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import orjson
import pytest
import redis

from core.market import port
from core.market.cache import PREFIX, STALE_KEEP_S, CachedMarketData
from core.market.demo import DemoMarketData
from core.market.errors import UpstreamUnavailable
from core.market.port import CacheInfo, HistoryBatch, Quote, QuoteBatch, SearchResult, SymbolMatch
from core.redis_client import redis_for

TTL_S = 600
T0 = 1_773_241_200.0  # 2026-03-11 15:00 UTC, a Wednesday (12:00 in São Paulo)
CLOSED_PORT_URL = "redis://127.0.0.1:6390/0"  # nothing listens here


class FakeClock:
    """The cache's clock (seconds since the epoch), moved by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeMarket:
    """A port adapter that prices any ticker, counts calls and fails on demand."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: Counter[str] = Counter()
        self.asked: list[list[str]] = []
        self.failing: dict[str, str] = {}  # ticker -> reason
        self.search_error: Exception | None = None
        self.version = 1  # bump to see fresh values replace cached ones

    def price(self, symbol: str) -> Decimal:
        return Decimal(sum(map(ord, symbol)) + self.version) / 4

    def search(self, query: str, limit: int = 10) -> SearchResult:
        self.calls["search"] += 1
        if self.search_error is not None:
            raise self.search_error
        symbol = port.normalize_symbol(query)
        match = SymbolMatch(symbol, f"{symbol} v{self.version}", "NASDAQ", "Equity", "USD")
        return SearchResult([match][:limit])

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        self.calls["quotes"] += 1
        self.asked.append(list(symbols))
        batch = QuoteBatch()
        for symbol in symbols:
            if symbol in self.failing:
                batch.failed[symbol] = self.failing[symbol]
                continue
            batch.quotes[symbol] = Quote(
                symbol=symbol,
                price=self.price(symbol),
                previous_close=Decimal("10.5"),
                currency="USD",
                market_time=datetime(2026, 3, 11, 15, 0, tzinfo=UTC),
                source="fake",
            )
        return batch

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        self.calls["history"] += 1
        self.asked.append(list(symbols))
        batch = HistoryBatch()
        for symbol in symbols:
            if symbol in self.failing:
                batch.failed[symbol] = self.failing[symbol]
            else:
                batch.closes[symbol] = {start: self.price(symbol), end: self.price(symbol) + 1}
        return batch


def status(info: CacheInfo | None) -> str | None:
    return None if info is None else info.status


def key(info: CacheInfo | None) -> str | None:
    return None if info is None else info.key


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """The real Redis (db 15 unless ANKA_TEST_REDIS_URL says otherwise)."""
    real = redis.Redis.from_url(redis_url)
    yield real
    real.close()


@pytest.fixture
def names(client: redis.Redis) -> Iterator[list[str]]:
    """Adapter names unique to this test (so key namespaces); their keys go afterwards."""
    created: list[str] = []
    yield created
    for name in created:
        for key in client.scan_iter(f"{PREFIX}:{name}:*"):
            client.delete(key)


def unique_name(names: list[str], kind: str) -> str:
    name = f"test-{kind}-{uuid.uuid4().hex[:12]}"
    names.append(name)
    return name


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(names: list[str]) -> FakeMarket:
    return FakeMarket(unique_name(names, "fake"))


@pytest.fixture
def cache(fake: FakeMarket, client: redis.Redis, clock: FakeClock) -> CachedMarketData:
    return CachedMarketData(fake, client, ttl_s=TTL_S, clock=clock)


@pytest.fixture
def demo(names: list[str]) -> DemoMarketData:
    adapter = DemoMarketData(clock=lambda: datetime.fromtimestamp(T0, UTC))
    adapter.name = unique_name(names, "demo")
    return adapter


# -- TTL, miss and hit --------------------------------------------------------------------------
def test_keys_live_the_ttl_plus_the_stale_keep(
    cache: CachedMarketData, client: redis.Redis
) -> None:
    cache.quotes(["AAPL"])
    cache.history(["AAPL"], date(2026, 3, 2), date(2026, 3, 6))
    cache.search("aapl")

    keys = [
        cache.key("quote", "AAPL"),
        cache.key("history", "AAPL", "2026-03-02:2026-03-06"),
        *[k.decode() for k in client.scan_iter(cache.key("search", "*"))],
    ]
    assert len(keys) == 3
    for key in keys:
        assert TTL_S + STALE_KEEP_S - 5 <= client.ttl(key) <= TTL_S + STALE_KEEP_S, key


def test_quote_miss_then_hit(cache: CachedMarketData, fake: FakeMarket, clock: FakeClock) -> None:
    first = cache.quotes(["AAPL"])
    clock.advance(100)
    second = cache.quotes(["AAPL"])

    assert fake.calls["quotes"] == 1
    key = cache.key("quote", "AAPL")
    assert first.cache["AAPL"] == port.CacheInfo("miss", key, TTL_S, 0.0)
    assert second.cache["AAPL"] == port.CacheInfo("hit", key, TTL_S - 100, 100.0)
    assert second.quotes == first.quotes
    assert second.quotes["AAPL"].price == fake.price("AAPL")
    assert second.quotes["AAPL"].stale is False


def test_expired_entry_is_fetched_again_and_replaced(
    cache: CachedMarketData, fake: FakeMarket, clock: FakeClock
) -> None:
    cache.quotes(["AAPL"])
    clock.advance(TTL_S + 1)
    fake.version = 2

    batch = cache.quotes(["AAPL"])

    assert fake.calls["quotes"] == 2
    assert batch.cache["AAPL"].status == "miss"
    assert batch.quotes["AAPL"].price == fake.price("AAPL")
    assert cache.quotes(["AAPL"]).cache["AAPL"].status == "hit"


def test_cached_quote_round_trips_every_field(
    demo: DemoMarketData, client: redis.Redis, clock: FakeClock
) -> None:
    cache = CachedMarketData(demo, client, ttl_s=TTL_S, clock=clock)
    symbols = ["PETR4.SA", "AAPL", "BTC-USD", "NOPE3"]

    fresh = cache.quotes(symbols)
    cached = cache.quotes(symbols)

    assert demo.calls["quotes"] == 2  # the unknown ticker is never cached: asked again
    assert set(cached.quotes) == {"PETR4.SA", "AAPL", "BTC-USD"}
    assert cached.quotes == fresh.quotes  # Decimal prices, tz-aware times, dates, names
    assert {s: i.status for s, i in cached.cache.items()} == dict.fromkeys(cached.quotes, "hit")
    assert cached.failed == fresh.failed == {"NOPE3": port.NOT_FOUND}


def test_search_miss_then_hit_with_the_same_key_for_the_same_query(
    cache: CachedMarketData, fake: FakeMarket
) -> None:
    first = cache.search("petr4")
    second = cache.search("  PETR4 ")
    other_limit = cache.search("petr4", limit=3)

    assert fake.calls["search"] == 2  # the limit is part of the key
    assert (status(first.cache), status(second.cache)) == ("miss", "hit")
    assert key(first.cache) == key(second.cache) != key(other_limit.cache)
    assert (
        second.matches
        == first.matches
        == [SymbolMatch("PETR4", "PETR4 v1", "NASDAQ", "Equity", "USD")]
    )


# -- batching -------------------------------------------------------------------------------------
def test_200_quotes_are_read_with_one_mget_and_fetched_in_one_call(
    cache: CachedMarketData, fake: FakeMarket, client: redis.Redis
) -> None:
    symbols = [f"T{i:03d}.SA" for i in range(200)]

    with (
        mock.patch.object(client, "mget", wraps=client.mget) as mget,
        mock.patch.object(client, "pipeline", wraps=client.pipeline) as pipeline,
    ):
        first = cache.quotes(symbols)
        assert mget.call_count == 1
        assert len(mget.call_args.args[0]) == 200
        assert pipeline.call_count == 1  # all 200 written in one pipeline
        assert fake.asked == [symbols]  # one upstream batch for everything missing

        second = cache.quotes(symbols)
        assert mget.call_count == 2
        assert pipeline.call_count == 1  # nothing to write
        assert fake.calls["quotes"] == 1

    assert len(first.quotes) == len(second.quotes) == 200
    assert {info.status for info in second.cache.values()} == {"hit"}


def test_only_the_missing_tickers_go_upstream(cache: CachedMarketData, fake: FakeMarket) -> None:
    cached = [f"T{i:03d}.SA" for i in range(150)]
    new = [f"N{i:03d}.SA" for i in range(20)]
    cache.quotes(cached)

    batch = cache.quotes(cached + new)

    assert fake.asked == [cached, new]
    assert len(batch.quotes) == 170
    assert Counter(info.status for info in batch.cache.values()) == {"hit": 150, "miss": 20}


# -- stale fallback -------------------------------------------------------------------------------
def test_stale_quote_is_served_when_the_adapter_fails(
    cache: CachedMarketData, fake: FakeMarket, clock: FakeClock
) -> None:
    cache.quotes(["AAPL", "MSFT"])
    clock.advance(TTL_S + 60)
    fake.failing = {"AAPL": port.RATE_LIMITED, "NEVER": port.UNAVAILABLE}
    fake.version = 2

    batch = cache.quotes(["AAPL", "MSFT", "NEVER"])

    assert fake.asked[-1] == ["AAPL", "MSFT", "NEVER"]
    stale = batch.quotes["AAPL"]
    assert stale.stale is True
    assert stale.price == Decimal(sum(map(ord, "AAPL")) + 1) / 4  # the old value
    assert batch.cache["AAPL"] == port.CacheInfo(
        "stale", cache.key("quote", "AAPL"), 0, TTL_S + 60.0
    )
    assert batch.quotes["MSFT"].stale is False
    assert batch.cache["MSFT"].status == "miss"
    assert batch.failed == {"NEVER": port.UNAVAILABLE}  # nothing to fall back on


def test_stale_history_and_search_when_the_adapter_fails(
    cache: CachedMarketData, fake: FakeMarket, clock: FakeClock
) -> None:
    start, end = date(2026, 3, 2), date(2026, 3, 6)
    old_closes = cache.history(["VALE3.SA"], start, end).closes
    old_matches = cache.search("vale").matches
    clock.advance(TTL_S + 1)
    fake.failing = {"VALE3.SA": port.UNAVAILABLE}
    fake.search_error = UpstreamUnavailable()

    history = cache.history(["VALE3.SA"], start, end)
    search = cache.search("vale")

    assert history.closes == old_closes
    assert history.failed == {}
    assert history.cache["VALE3.SA"].status == "stale"
    assert search.matches == old_matches
    assert status(search.cache) == "stale"
    with pytest.raises(UpstreamUnavailable):
        cache.search("never searched")  # no stale value: the error reaches the caller


# -- history --------------------------------------------------------------------------------------
def test_history_is_cached_per_ticker_and_range(
    demo: DemoMarketData, client: redis.Redis, clock: FakeClock
) -> None:
    cache = CachedMarketData(demo, client, ttl_s=TTL_S, clock=clock)
    march, february = (date(2026, 3, 2), date(2026, 3, 6)), (date(2026, 2, 2), date(2026, 2, 6))

    first = cache.history(["PETR4.SA", "VALE3.SA"], *march)
    assert demo.calls["history"] == 1
    assert {s: len(c) for s, c in first.closes.items()} == {"PETR4.SA": 5, "VALE3.SA": 5}

    again = cache.history(["PETR4.SA"], *march)
    assert demo.calls["history"] == 1
    assert again.closes["PETR4.SA"] == first.closes["PETR4.SA"]
    assert again.cache["PETR4.SA"] == port.CacheInfo(
        "hit", cache.key("history", "PETR4.SA", "2026-03-02:2026-03-06"), TTL_S, 0.0
    )

    other_range = cache.history(["PETR4.SA"], *february)
    assert demo.calls["history"] == 2
    assert other_range.cache["PETR4.SA"].status == "miss"
    assert min(other_range.closes["PETR4.SA"]) == date(2026, 2, 2)

    with mock.patch.object(demo, "history", wraps=demo.history) as inner:
        mixed = cache.history(["PETR4.SA", "ITUB4.SA"], *march)
    inner.assert_called_once_with(["ITUB4.SA"], *march)  # only the ticker not yet cached
    assert {s: i.status for s, i in mixed.cache.items()} == {"PETR4.SA": "hit", "ITUB4.SA": "miss"}


def test_a_hit_and_a_stale_copy_keep_the_events(
    demo: DemoMarketData, client: redis.Redis, clock: FakeClock
) -> None:
    cache = CachedMarketData(demo, client, ttl_s=TTL_S, clock=clock)
    span = (date(2025, 3, 10), date(2025, 4, 17))  # WEGE3 pays on 03-17 and splits on 04-14

    first = cache.history(["WEGE3.SA", "PETR4.SA"], *span)
    again = cache.history(["WEGE3.SA", "PETR4.SA"], *span)
    clock.advance(TTL_S + 1)
    failing = HistoryBatch(failed={"WEGE3.SA": port.UNAVAILABLE})
    with mock.patch.object(demo, "history", return_value=failing):
        stale = cache.history(["WEGE3.SA"], *span)

    assert first.events == {  # PETR4 has none: no entry
        "WEGE3.SA": [
            port.AssetEvent("dividend", date(2025, 3, 17), None, Decimal("0.36")),
            port.AssetEvent("split", date(2025, 4, 14), Decimal("2"), None),
        ]
    }
    assert again.cache["WEGE3.SA"].status == "hit"
    assert (again.events, again.closes) == (first.events, first.closes)
    assert (stale.cache["WEGE3.SA"].status, stale.events) == ("stale", first.events)


def test_an_entry_written_before_events_were_kept_still_reads(
    fake: FakeMarket, client: redis.Redis, cache: CachedMarketData
) -> None:
    old = {"2026-03-02": "101.5", "2026-03-06": "102.25"}  # the closes alone
    envelope = {"fresh_until": T0 + 60, "stored_at": T0, "data": old}
    client.set(cache.key("history", "AAPL", "2026-03-02:2026-03-06"), orjson.dumps(envelope))

    batch = cache.history(["AAPL"], date(2026, 3, 2), date(2026, 3, 6))

    assert (fake.calls["history"], batch.cache["AAPL"].status, batch.events) == (0, "hit", {})
    assert batch.closes == {
        "AAPL": {date(2026, 3, 2): Decimal("101.5"), date(2026, 3, 6): Decimal("102.25")}
    }


# -- Redis down ------------------------------------------------------------------------------------
def test_redis_down_means_pass_through_not_failure(demo: DemoMarketData) -> None:
    cache = CachedMarketData(demo, redis_for(CLOSED_PORT_URL), ttl_s=TTL_S)

    quotes = [cache.quotes(["PETR4.SA", "NOPE3"]) for _ in range(2)]
    history = cache.history(["VALE3.SA"], date(2026, 3, 2), date(2026, 3, 6))
    search = cache.search("petrobras")

    assert cache.available is False
    assert demo.calls == {"quotes": 2, "history": 1, "search": 1}  # every call went through
    for batch in quotes:
        assert batch.quotes["PETR4.SA"].price > 0
        assert batch.failed == {"NOPE3": port.NOT_FOUND}
        assert batch.cache["PETR4.SA"] == port.CacheInfo(
            "bypass", cache.key("quote", "PETR4.SA"), None
        )
    assert history.cache["VALE3.SA"].status == "bypass"
    assert len(history.closes["VALE3.SA"]) == 5
    assert status(search.cache) == "bypass"
    assert search.matches[0].symbol == "PETR3.SA"


def test_cache_comes_back_with_redis(demo: DemoMarketData, client: redis.Redis) -> None:
    cache = CachedMarketData(demo, redis_for(CLOSED_PORT_URL), ttl_s=TTL_S)
    assert cache.quotes(["PETR4.SA"]).cache["PETR4.SA"].status == "bypass"

    cache.client = client  # Redis is reachable again
    assert cache.quotes(["PETR4.SA"]).cache["PETR4.SA"].status == "miss"
    assert cache.available is True
    assert cache.quotes(["PETR4.SA"]).cache["PETR4.SA"].status == "hit"
