"""The Redis client Anka uses everywhere: short timeouts, so a dead Redis costs milliseconds."""

from __future__ import annotations

from functools import lru_cache

import redis

CONNECT_TIMEOUT_S = 0.5
SOCKET_TIMEOUT_S = 1.0


@lru_cache(maxsize=8)
def redis_for(url: str) -> redis.Redis:
    """One client (and connection pool) per URL per process."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=30,
    )
