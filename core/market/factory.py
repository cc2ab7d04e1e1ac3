"""Build the configured market-data stack: adapter (yahoo or demo) behind the Redis cache
(and, for the dashboard, the poller's quotes in PostgreSQL for when Redis is down)."""

from __future__ import annotations

from pathlib import Path

import redis

from core.config import Settings
from core.market.cache import CachedMarketData, SharedQuoteStore
from core.market.demo import DemoMarketData
from core.market.port import MarketData
from core.market.retry import CoolDown


def build_market_data(
    settings: Settings, client: redis.Redis, *, shared: SharedQuoteStore | None = None
) -> CachedMarketData:
    """``ANKA_MARKET_DATA`` selects the adapter; the cache uses ``ANKA_CACHE_TTL_S``.

    ``shared`` (the dashboard's stack) serves quotes from the poller's stored copy while
    Redis is down instead of asking the source per page; the scheduler's stack has none.
    """
    inner: MarketData
    if settings.market_data == "demo":
        inner = DemoMarketData()
    else:
        from core.market.yahoo import YahooMarketData

        inner = YahooMarketData(
            cache_dir=Path(settings.home_dir) / "yfinance", cooldown=CoolDown(client)
        )
    return CachedMarketData(inner, client, ttl_s=settings.cache_ttl_s, shared=shared)
