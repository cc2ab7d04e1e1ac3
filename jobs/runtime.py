"""What every job needs: the engine, the market data (behind the Redis cache), the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from core.config import Settings, get_settings
from core.db import engine_for
from core.embedded import resolve_database_url, resolve_redis_url
from core.market.cache import CachedMarketData
from core.market.factory import build_market_data
from core.redis_client import redis_for

MARKET_TZ = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True)
class JobContext:
    """Resolved services for a scheduler process or a one-shot run."""

    settings: Settings
    engine: Engine
    market: CachedMarketData


def context(settings: Settings | None = None) -> JobContext:
    """Connect to the configured (or embedded) PostgreSQL and Redis."""
    settings = settings or get_settings()
    engine = engine_for(resolve_database_url(settings))
    market = build_market_data(settings, redis_for(resolve_redis_url(settings)))
    return JobContext(settings=settings, engine=engine, market=market)


def today() -> date:
    """Today in São Paulo, where the B3 closes."""
    return datetime.now(MARKET_TZ).date()
