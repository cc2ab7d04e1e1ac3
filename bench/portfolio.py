"""Market data and the client detail page at scale (issue 3's targets).

* quotes for a 200-ticker portfolio from a warm cache: p50 <= 5 ms (one Redis round trip);
* client detail data for a client with 200 allocations, warm cache: p50 <= 50 ms;
* upstream calls, counted on the instrumented demo adapter: one batched call per 100
  tickers, never one per ticker.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import redis

from bench.db import throwaway_database
from core.db import UnitOfWork, engine_for, uow_factory
from core.market.cache import CachedMarketData
from core.market.catalogue import Listing
from core.market.demo import DemoMarketData
from core.models import Asset, Client, Movement
from core.services.portfolio import client_portfolio

TICKERS = 200
ROUNDS = 200
QUOTES_TARGET_MS = 5.0
DETAIL_TARGET_MS = 50.0


def _listings(n: int) -> list[Listing]:
    return [
        Listing(f"BNCH{i:03d}.SA", f"Bench Asset {i}", "São Paulo", "Equity", "BRL", 20.0 + i, 0.3)
        for i in range(n)
    ]


def _p50(call: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[18]


def _redis() -> redis.Redis:
    url = os.environ.get("ANKA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        from pathlib import Path

        from core.embedded import start_embedded_redis

        print(f"No Redis at {url}: benchmarking on the embedded Redis.")
        client = redis.Redis.from_url(start_embedded_redis(Path(".anka") / "bench"))
    client.flushdb()
    return client


def _seed(url: str, listings: list[Listing]) -> int:
    factory = uow_factory(engine_for(url))
    with UnitOfWork(factory) as uow:
        client = Client(name="Bench Client", email="bench@example.com")
        uow.session.add(client)
        uow.session.flush()
        for i, listing in enumerate(listings):
            asset = Asset(symbol=listing.symbol, name=listing.name, currency="BRL")
            uow.session.add(asset)
            uow.session.flush()
            uow.session.add(
                Movement(
                    client_id=client.id,
                    asset_id=asset.id,
                    quantity=Decimal(100 + i),
                    price=Decimal("20.50"),
                    date=date(2024, 1, 2),
                )
            )
        uow.commit()
        return client.id


def run() -> bool:
    """Print the market-data figures; return whether every target was met."""
    print(f"\n== Market data and client detail: {TICKERS} tickers ==")
    listings = _listings(TICKERS)
    symbols = [listing.symbol for listing in listings]
    client = _redis()
    demo = DemoMarketData(listings=listings)
    cached = CachedMarketData(demo, client, ttl_s=3600)

    cached.quotes(symbols)  # cold: fills the cache
    cold_calls = demo.calls["quotes"]
    quotes_p50, quotes_p95 = _p50(lambda: cached.quotes(symbols))
    print(
        f"quotes, {TICKERS} tickers, warm cache: p50={quotes_p50:.2f} ms p95={quotes_p95:.2f} ms"
        f" (target <= {QUOTES_TARGET_MS} ms); upstream calls after warm-up: "
        f"{demo.calls['quotes'] - cold_calls}"
    )
    client.flushdb()
    demo.calls.clear()
    cached.quotes([*symbols, *(f"EXTRA{i}" for i in range(50))])
    print(
        f"upstream calls for a cold 250-ticker quote request: {demo.calls['quotes']}"
        " (one batched call per 100 tickers)"
    )
    calls_ok = demo.calls["quotes"] == 3

    with throwaway_database() as url:
        client_id = _seed(url, listings)
        factory = uow_factory(engine_for(url))
        detail_p50, detail_p95 = _p50(
            lambda: client_portfolio(UnitOfWork(factory), cached, client_id), rounds=100
        )
        engine_for(url).dispose()
    print(
        f"client detail data, {TICKERS} allocations, warm cache: p50={detail_p50:.2f} ms "
        f"p95={detail_p95:.2f} ms (target <= {DETAIL_TARGET_MS} ms)"
    )
    client.flushdb()
    return quotes_p50 <= QUOTES_TARGET_MS and detail_p50 <= DETAIL_TARGET_MS and calls_ok
