"""History for the Yahoo adapter: daily closes AS TRADED and the splits and dividends.

Yahoo's chart endpoint (``/v8/finance/chart/<SYMBOL>``) answers one ticker per request, and
yfinance 1.x has no batch history call: ``yf.download`` is a loop (threaded or not) of
``Ticker.history`` per ticker that swallows each ticker's error, and yfinance never uses
Yahoo's multi-symbol spark endpoint (so nothing of yfinance would parse it). History
therefore asks one ticker after another, parsed by yfinance's own ``Ticker.history``
(closes unadjusted for dividends, daily bars, ``keepna`` so that empty rows can be
counted, ``actions=True`` for the ``Dividends`` and ``Stock Splits`` columns yfinance reads
from the same answer's ``events``, which it asks for with ``events=div,splits,...``).

Closes as traded. Yahoo's closes (even unadjusted for dividends) and its dividends are
split-adjusted as of the day they are fetched. Undoing that needs every split from the
first asked day up to the fetch day, so the one chart request of a ticker asks from
``start`` through now (``period2`` = the fetch time, yfinance's default end), whatever
``end`` is: the same answer carries the closes and every later split, and no second
request is made. The closes and events past ``end`` are only read for those splits (see
:func:`core.market.yahoo_values.read_chart`). The cost is a larger answer for an old range
(a year of 2015 asked in 2026 brings eleven years of bars), never a second request.

Requests: one chart request per ticker per attempt; yfinance's timezone lookup (one more
chart request) is made the first time a ticker is seen, then read from its tz cache under
``cache_dir``. Sequential rather than threaded: a rate limit then stops the fetch before
any other ticker is asked, the requests are the same run after run, and one process never
sends Yahoo a burst (a nightly job of 150 tickers is about 150 requests). yfinance is
handed the same ``YfData.get`` with what its chart code leaves out (:class:`ChartRequests`):
the HTTP status (a 5xx is an outage, not "no price data") and the fetch's deadline; its
in-process LRU is bypassed, so no error answer is replayed.

Retries: each ticker's timeouts and 5xx are retried within ``RetryPolicy.max_total_s``; a
rate limit pauses the whole fetch (nothing else is asked meanwhile), which then resumes at
the refused ticker, at most ``RetryPolicy.pauses`` times; the whole fetch has a deadline
(``RetryPolicy.deadline_s``, 180 s; each request's timeout is min(10 s, time left)). When
the pauses run out, the refused ticker is ``rate_limited`` and the ones not asked
``not_fetched``; when the deadline passes, the ones not asked are ``not_fetched``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import date
from typing import Any, cast

import pandas as pd
import yfinance as yf
from yfinance.data import YfData
from yfinance.exceptions import (
    YFDataException,
    YFInvalidPeriodError,
    YFPricesMissingError,
    YFRateLimitError,
    YFTzMissingError,
)

from core.market import port
from core.market.errors import MarketDataError, RateLimited, UpstreamUnavailable
from core.market.port import HistoryBatch
from core.market.retry import CoolDown, RetryPolicy
from core.market.yahoo_values import is_network_error, read_chart, status_of

TIMEOUT_S = 10
MIN_REQUEST_S = 1.0  # a history fetch starts no request with less time left than this


class DeadlinePassed(Exception):
    """The history fetch has no time left for another request."""


class ChartRequests:
    """What yfinance's chart code is handed instead of the ``YfData`` singleton.

    The same ``YfData.get`` (cookie, crumb, 429 detection: the seam the replay tests patch)
    with what the chart code leaves out: the HTTP status (it reads a 5xx's JSON body as "no
    price data" and never retries it) and the fetch's deadline (no request starts with less
    than ``MIN_REQUEST_S`` left, and none waits longer than min(10 s, time left)).
    ``cache_get`` is not cached: yfinance's LRU keeps error answers, and a retry must ask
    Yahoo again.
    """

    def __init__(self, time_left: Callable[[], float]) -> None:
        self._time_left = time_left
        self.answered = 0  # responses that were neither a rate limit nor a 5xx

    def get(self, url: str, params: Any = None, timeout: float = TIMEOUT_S) -> Any:
        """``YfData.get`` within the deadline; a 429 or 5xx raises instead of answering."""
        left = self._time_left()
        if left < MIN_REQUEST_S:
            raise DeadlinePassed()
        response = YfData().get(url, params=params, timeout=min(timeout, TIMEOUT_S, left))
        status = getattr(response, "status_code", None)
        if status == 429:
            raise RateLimited()
        if isinstance(status, int) and status >= 500:
            raise UpstreamUnavailable(status=status)
        self.answered += 1
        return response

    def cache_get(self, url: str, params: Any = None, timeout: float = TIMEOUT_S) -> Any:
        """Not cached (see the class docstring): the same as :meth:`get`."""
        return self.get(url, params=params, timeout=timeout)

    def get_raw_json(self, url: str, params: Any = None, timeout: float = TIMEOUT_S) -> Any:
        """``YfData.get_raw_json`` within the deadline (yfinance's quote-summary fallback of
        its timezone lookup uses it): an HTTP error status raises."""
        response = self.get(url, params=params, timeout=timeout)
        response.raise_for_status()
        return response.json()


# After this many tickers in a row that Yahoo did not answer (5xx or timeouts, each after its
# retries), the fetch stops: the rest would only cost their retries against an outage. The
# next run's gap repair asks for them again.
OUTAGE_STREAK = 3


class OutageSuspected(Exception):
    """Yahoo answered none of the last :data:`OUTAGE_STREAK` tickers."""


class HistoryFetch:
    """One history fetch of many tickers under one deadline (see the module docstring)."""

    def __init__(
        self,
        policy: RetryPolicy,
        cooldown: CoolDown,
        clock: Callable[[], float],
        backoff: Callable[[float], None],
    ) -> None:
        """``clock`` (seconds, monotonic) times the deadline; ``backoff`` takes every wait."""
        self.policy = policy
        self.cooldown = cooldown
        self._clock = clock
        self._backoff = backoff

    def run(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        """Closes as traded and events of ``symbols`` in [start, end]. Never raises: every
        asked ticker ends in ``closes`` or in ``failed`` (with ``details`` where there is
        more to say), and ``dropped`` counts empty closes."""
        batch = HistoryBatch()
        wanted = list(dict.fromkeys(port.normalize_symbol(s) for s in symbols))
        if not wanted:
            return batch
        cooling = self.cooldown.remaining_s()
        if cooling:  # fail fast, as for quotes: no request, no pause, not a new rate limit
            for symbol in wanted:
                batch.failed[symbol] = port.RATE_LIMITED
                batch.details[symbol] = (
                    f"not asked: Yahoo cool-down after repeated rate limits, {cooling} s left"
                )
            return batch
        YfData().cache_get.cache_clear()  # in case anything put an error answer there
        deadline = self._clock() + self.policy.deadline_s
        requests = ChartRequests(lambda: deadline - self._clock())
        pending = deque(wanted)
        rounds = 0
        streak = 0  # tickers in a row that Yahoo did not answer, retries spent

        def fetch_pending() -> None:
            nonlocal rounds, streak
            rounds += 1
            while pending:
                symbol = pending[0]
                out_of_time = self._ticker(symbol, start, end, requests, deadline, batch)
                pending.popleft()
                if out_of_time:
                    raise DeadlinePassed()
                streak = streak + 1 if batch.failed.get(symbol) == port.UNAVAILABLE else 0
                if streak >= OUTAGE_STREAK and pending:
                    raise OutageSuspected()

        try:
            self.policy.pause_on_rate_limits(
                fetch_pending,
                deadline=deadline,
                clock=self._clock,
                sleep=self._backoff,
                may_resume=lambda: not self.cooldown.remaining_s(),
            )
        except RateLimited:
            refused = pending.popleft()
            batch.failed[refused] = port.RATE_LIMITED
            batch.details[refused] = (
                f"Yahoo refused it (HTTP 429) after {rounds - 1} pause(s) of this fetch"
            )
            _not_fetched(pending, batch, f"Yahoo kept refusing (HTTP 429) at {refused}")
            self.cooldown.record_rate_limit()
            return batch
        except DeadlinePassed:
            limit = f"{self.policy.deadline_s:g} s"
            _not_fetched(pending, batch, f"the {limit} deadline of this history fetch passed")
        except OutageSuspected:
            why = f"Yahoo did not answer for {OUTAGE_STREAK} tickers in a row (an outage)"
            _not_fetched(pending, batch, why)
        if requests.answered:
            self.cooldown.record_success()
        return batch

    def _ticker(
        self,
        symbol: str,
        start: date,
        end: date,
        requests: ChartRequests,
        deadline: float,
        batch: HistoryBatch,
    ) -> bool:
        """Fetch and check one ticker into ``batch``, retrying its timeouts and 5xx within
        ``max_total_s`` and the deadline; True when the deadline cut its retries short (the
        fetch is out of time: asking the next ticker would only get one hurried attempt
        each). Raises what stops the fetch before this ticker is done: a rate limit
        (:class:`RateLimited`) or :class:`DeadlinePassed`."""
        if deadline - self._clock() < MIN_REQUEST_S:
            raise DeadlinePassed()
        attempts = 0

        def attempt() -> pd.DataFrame:
            nonlocal attempts
            attempts += 1
            try:
                return chart(symbol, start, requests)
            except (DeadlinePassed, MarketDataError):
                raise
            except YFRateLimitError as exc:
                raise RateLimited() from exc
            except (YFTzMissingError, YFPricesMissingError, YFInvalidPeriodError):
                raise  # Yahoo answered: no such ticker, or no prices in the range
            except YFDataException as exc:  # "Will be right back": Yahoo is down
                raise UpstreamUnavailable() from exc
            except Exception as exc:
                status = status_of(exc)
                if status == 429:
                    raise RateLimited() from exc
                if (status is not None and status >= 500) or (
                    status is None and is_network_error(exc)
                ):
                    raise UpstreamUnavailable(status=status) from exc
                raise  # an answer we cannot read: not retried, classified below

        # No retry once the deadline is (nearly) there: the ticker then fails as unavailable
        # rather than as not fetched.
        budget_end = self._clock() + self.policy.max_total_s
        until = min(deadline - MIN_REQUEST_S, budget_end)
        try:
            frame = self.policy.run_until(
                attempt, until=until, clock=self._clock, sleep=self._backoff
            )
        except (RateLimited, DeadlinePassed):
            raise
        except Exception as exc:
            batch.failed[symbol], batch.details[symbol] = _history_failure(exc, attempts)
            retried = isinstance(exc, UpstreamUnavailable)
            return retried and attempts < self.policy.attempts and until < budget_end
        try:
            read_chart(symbol, frame, start, end, batch)
        except (ArithmeticError, KeyError, TypeError, ValueError) as exc:  # a frame of odd shape
            batch.closes.pop(symbol, None)
            batch.events.pop(symbol, None)
            batch.failed[symbol] = port.MALFORMED
            batch.details[symbol] = f"unreadable chart answer ({type(exc).__name__}: {exc})"[:300]
        return False


def chart(symbol: str, start: date, requests: ChartRequests) -> pd.DataFrame:
    """``symbol``'s daily bars from ``start`` through now, as yfinance parses them.

    Through now (no ``end``: yfinance then asks up to the current time) so that the answer
    holds every split after the asked range too (see the module docstring). One
    ``Ticker.history`` with every request sent through ``requests`` (``Ticker._data``, read
    by the timezone lookup and the price history, and ``Ticker._quote._data``, by the
    quote-summary fallback of a failed timezone lookup: private attributes of the pinned
    yfinance; the replay tests fail if they change). Unadjusted closes; empty rows kept so
    that they can be counted; dividends and splits kept, both to read them and so that a row
    yfinance adds to carry one is not counted as an empty close."""
    ticker = yf.Ticker(symbol)
    ticker._data = cast(Any, requests)
    ticker._quote._data = cast(Any, requests)
    frame = ticker.history(
        start=start.isoformat(),
        interval="1d",
        auto_adjust=False,
        actions=True,
        keepna=True,
        timeout=TIMEOUT_S,
    )
    return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()


def _history_failure(exc: BaseException, attempts: int) -> tuple[str, str]:
    """The reason code and detail of a ticker whose chart fetch ended in ``exc``."""
    if isinstance(exc, YFTzMissingError) or status_of(exc) == 404:
        # No timezone: Yahoo's 404 for the ticker (yfinance's fallback to the quote summary
        # gets a 404 too for its first two unknown tickers in a process).
        return port.NOT_FOUND, f"Yahoo does not know this ticker ({exc})"
    if isinstance(exc, YFPricesMissingError | YFInvalidPeriodError):
        return port.NO_DATA, str(exc)
    if isinstance(exc, UpstreamUnavailable):
        status = exc.params.get("status")
        what = f"HTTP {status}" if status else "no answer (timeout or connection error)"
        return port.UNAVAILABLE, f"{what}, {attempts} attempt(s)"
    return port.MALFORMED, f"unreadable chart answer ({type(exc).__name__}: {exc})"[:300]


def _not_fetched(pending: deque[str], batch: HistoryBatch, why: str) -> None:
    """Fail every ticker still ``pending`` as not fetched, saying why."""
    for symbol in pending:
        batch.failed[symbol] = port.NOT_FETCHED
        batch.details[symbol] = f"not asked: {why}"
