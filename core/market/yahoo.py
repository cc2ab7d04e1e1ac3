"""The Yahoo Finance adapter, on yfinance.

* search: Yahoo's search endpoint (quotes only, no news) through yfinance's own HTTP layer
  (``YfData.get_raw_json``). Not ``yf.Search``: it ignores the HTTP status (a 5xx with a JSON
  body reads as "no results") and answers from an in-process LRU that keeps error responses.
* quotes: Yahoo's batch quote endpoint through the same layer (cookie, crumb and rate-limit
  detection), at most 100 symbols per request — one request per 100 tickers, not one each.
  Each ticker is read on its own: a price that no stored price can be (zero, negative, 10^12
  or more, not finite, or 0 at 8 places: :func:`core.limits.price_fits`) fails that ticker
  as ``invalid_value``, the others of the batch unaffected; an odd previous close is None.
* history: Yahoo's chart endpoint (``/v8/finance/chart/<SYMBOL>``) answers one ticker per
  request, and yfinance 1.x has no batch history call: ``yf.download`` is a loop (threaded
  or not) of ``Ticker.history`` per ticker that swallows each ticker's error, and yfinance
  never uses Yahoo's multi-symbol spark endpoint (so nothing of yfinance would parse it).
  History therefore asks one ticker after another, one chart request per ticker per
  attempt, parsed by yfinance's own ``Ticker.history`` (unadjusted closes, daily bars,
  ``keepna`` so that empty rows can be counted); yfinance's timezone lookup (one more chart
  request) is made the first time a ticker is seen, then read from its tz cache under
  ``cache_dir``. Sequential rather than threaded: a rate limit then stops the fetch before
  any other ticker is asked, the requests are the same run after run, and one process never
  sends Yahoo a burst (a nightly job of 150 tickers is about 150 requests).
  yfinance is handed the same ``YfData.get`` with what its chart code leaves out
  (:class:`_ChartRequests`): the HTTP status (a 5xx is an outage, not "no price data") and
  the fetch's deadline; its in-process LRU is bypassed, so no error answer is replayed.
  Each ticker is checked on its own: a close present but not storable fails that ticker
  (``invalid_value``, the value and day in ``details``); a row that came with an empty
  (null) close is left out and counted in ``dropped``.

Retries, with tenacity (exponential backoff with jitter, bounded attempts and time). Quotes
and search: rate limits (HTTP 429 / ``YFRateLimitError``), timeouts and 5xx are retried per
request. History: each ticker's timeouts and 5xx are retried the same way; a rate limit
pauses the whole fetch (nothing else is asked meanwhile), which then resumes at the refused
ticker, at most ``RetryPolicy.pauses`` times; the whole fetch has a deadline
(``RetryPolicy.deadline_s``, 180 s; each request's timeout is min(10 s, time left)). When the
pauses run out, the refused ticker is ``rate_limited`` and the ones not asked ``not_fetched``;
when the deadline passes, the ones not asked are ``not_fetched``. After repeated rate limits
a Redis cool-down pauses every process (in process memory while Redis is unreachable): while
it lasts, calls fail fast (no request, no retry, and they do not count as new rate limits).
A ticker that does not exist is not retried. Prices keep 8 decimal places, the scale they are
stored with (``Numeric(20, 8)``). Back-offs sleep with the injected ``sleep`` and deadlines
read the injected ``clock``, so tests neither sleep nor wait.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
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

from core.limits import price_fits
from core.market import port
from core.market.errors import (
    InvalidQuery,
    MalformedResponse,
    MarketDataError,
    RateLimited,
    UpstreamUnavailable,
)
from core.market.port import HistoryBatch, Quote, QuoteBatch, SearchResult, SymbolMatch
from core.market.retry import CoolDown, RetryPolicy

log = logging.getLogger(__name__)

QUOTE_URL = "https://query1.finance.yahoo.com/v7/finance/quote"
SEARCH_URL = "https://query2.finance.yahoo.com/v1/finance/search"
SOURCE = "yahoo"
PRICE_PLACES = Decimal("0.00000001")  # the scale of core.models.Money
TIMEOUT_S = 10
MIN_REQUEST_S = 1.0  # a history fetch starts no request with less time left than this
# Yahoo's exchange codes for the markets our advisors use, and their currencies; search
# results do not carry a currency, quotes do.
EXCHANGE_CURRENCIES = {
    "SAO": "BRL", "NMS": "USD", "NYQ": "USD", "NGM": "USD", "NCM": "USD", "ASE": "USD",
    "PCX": "USD", "BTS": "USD", "CCC": "USD", "LSE": "GBp", "TOR": "CAD", "FRA": "EUR",
    "GER": "EUR", "PAR": "EUR", "AMS": "EUR", "MIL": "EUR", "CPH": "DKK", "OSL": "NOK",
    "JKT": "IDR", "ASX": "AUD", "TYO": "JPY", "HKG": "HKD", "CMX": "USD", "NYM": "USD",
}  # fmt: skip


def _number(value: Any) -> Decimal | None:
    """``value`` as an exact Decimal, which may be zero, negative or infinite; None when it is
    absent (null, NaN, a bool, not a number). Never raises."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float: no price either way
        return Decimal("Infinity")
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    return Decimal(repr(number))


def _storable(number: Decimal) -> Decimal | None:
    """``number`` at 8 places when ``prices.close`` can hold it as a price, else None.

    Checked before rounding: quantizing 1e20 to 8 places needs 29 digits and raises in the
    default 28-digit context, and 5e12 rounds fine but overflows ``numeric(20, 8)``.
    """
    return number.quantize(PRICE_PLACES) if price_fits(number) else None


def _price(value: Any) -> Decimal | None:
    """A storable price from ``value``, else None (absent, or not a price we can keep)."""
    number = _number(value)
    return None if number is None else _storable(number)


def _shown(number: Decimal) -> str:
    """An unstorable value, short, for a detail: ``1e+20``, ``5e+12``, ``0``, ``-1``, ``inf``."""
    return f"{float(number):g}"


def _moment(value: Any, per_second: int = 1) -> datetime | None:
    """A Unix time (seconds, or milliseconds with ``per_second=1000``) as an aware datetime;
    None when absent or out of range."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(int(value) / per_second, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def translate_error(exc: BaseException) -> MarketDataError:
    """Map what yfinance / the HTTP client raised to our market-data errors."""
    if isinstance(exc, MarketDataError):
        return exc
    if isinstance(exc, YFRateLimitError) or _status_of(exc) == 429:
        return RateLimited()
    status = _status_of(exc)
    if status is not None and status >= 500:
        return UpstreamUnavailable(status=status)
    if status is not None:
        # Any other HTTP error status is not worth retrying. Checked before the OSError
        # branch below because curl_cffi's HTTPError is an OSError.
        return MalformedResponse(status=status)
    if isinstance(exc, json.JSONDecodeError | KeyError | TypeError | ValueError):
        return MalformedResponse()
    return UpstreamUnavailable()  # timeouts, connection errors, anything else


def _is_network_error(exc: BaseException) -> bool:
    """A timeout or connection error (curl_cffi's are OSErrors), not an answer."""
    return isinstance(exc, TimeoutError | OSError) or type(exc).__name__ in {
        "Timeout",
        "ReadTimeout",
        "ConnectTimeout",
        "ConnectionError",
    }


class _DeadlinePassed(Exception):
    """The history fetch has no time left for another request."""


class _ChartRequests:
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
            raise _DeadlinePassed()
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


class YahooMarketData:
    """Market data from Yahoo Finance (see the module docstring)."""

    name = SOURCE

    def __init__(
        self,
        *,
        cache_dir: Path,
        cooldown: CoolDown | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``sleep`` takes every back-off (tests record instead of sleeping) and ``clock``
        (seconds, monotonic) times the history fetch's deadline."""
        cache_dir.mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(cache_dir))
        # Errors must reach us (a swallowed error would look like "no results").
        yf.config.debug.hide_exceptions = False
        yf.config.network.retries = 0  # tenacity owns retries
        self.cooldown = cooldown or CoolDown(None)
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock or time.monotonic

    def _call(self, operation: Callable[[], Any]) -> Any:
        # While cooling down, fail fast: no request, no retry (nor its backoff sleeps), and
        # not counted as a new rate limit (which would renew the pause for as long as
        # anybody keeps asking).
        self.cooldown.check()

        def attempt() -> Any:
            try:
                return operation()
            except Exception as exc:  # translated; the original is chained
                raise translate_error(exc) from exc

        try:
            if self._sleep is None:
                result = self.policy.run(attempt)
            else:
                result = self.policy.run(attempt, sleep=self._sleep)
        except RateLimited:
            self.cooldown.record_rate_limit()
            raise
        self.cooldown.record_success()
        return result

    # -- search ---------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10) -> SearchResult:
        """Tickers whose symbol or name matches ``query`` (Yahoo's own ranking)."""
        if not query.strip():
            raise InvalidQuery()

        items = self._call(lambda: self._fetch_search(query, limit))
        return SearchResult(matches=[m for m in map(self._match, items) if m][:limit])

    @staticmethod
    def _fetch_search(query: str, limit: int) -> list[dict[str, Any]]:
        params = {
            "q": query,
            "quotesCount": limit,
            "newsCount": 0,
            "listsCount": 0,
            "enableFuzzyQuery": False,
            "quotesQueryId": "tss_match_phrase_query",
            "enableCb": False,
            "enableNavLinks": False,
            "enableResearchReports": False,
        }
        body = YfData().get_raw_json(SEARCH_URL, params=params, timeout=TIMEOUT_S)
        quotes = body["quotes"]  # KeyError / TypeError: a body we cannot read
        if not isinstance(quotes, list):
            raise MalformedResponse()
        return [q for q in quotes if isinstance(q, dict) and "symbol" in q]

    @staticmethod
    def _match(item: dict[str, Any]) -> SymbolMatch | None:
        symbol = str(item.get("symbol") or "").upper()
        if not port.is_valid_symbol(symbol):
            return None
        exchange = item.get("exchange")
        return SymbolMatch(
            symbol=symbol,
            name=str(item.get("longname") or item.get("shortname") or symbol),
            exchange=str(item.get("exchDisp") or exchange or "") or None,
            asset_type=str(item.get("typeDisp") or item.get("quoteType") or "") or None,
            currency=EXCHANGE_CURRENCIES.get(str(exchange)),
        )

    # -- quotes ---------------------------------------------------------------------------
    def quotes(self, symbols: list[str]) -> QuoteBatch:
        """Latest quotes, one upstream request per 100 symbols; failures listed by reason."""
        batch = QuoteBatch()
        wanted = list(dict.fromkeys(port.normalize_symbol(s) for s in symbols))
        for chunk in port.chunks(wanted):
            try:
                body = self._call(lambda chunk=chunk: self._fetch_quotes(chunk))
                results = body["quoteResponse"]["result"] or []
                if not isinstance(results, list):
                    raise TypeError("quoteResponse.result is not a list")
            except (KeyError, TypeError):
                batch.failed.update(dict.fromkeys(chunk, port.MALFORMED))
                continue
            except MarketDataError as exc:
                batch.failed.update(dict.fromkeys(chunk, _reason(exc)))
                continue
            by_symbol = {
                str(r.get("symbol", "")).upper(): r for r in results if isinstance(r, dict)
            }
            for symbol in chunk:
                item = by_symbol.get(symbol)
                if item is None:
                    batch.failed[symbol] = port.NOT_FOUND
                    continue
                quote = self._quote(symbol, item)
                if isinstance(quote, Quote):
                    batch.quotes[symbol] = quote
                else:
                    batch.failed[symbol] = quote
        return batch

    @staticmethod
    def _fetch_quotes(chunk: list[str]) -> Any:
        params = {"symbols": ",".join(chunk), "formatted": "false", "lang": "en-US", "region": "US"}
        return YfData().get_raw_json(QUOTE_URL, params=params, timeout=TIMEOUT_S)

    @staticmethod
    def _quote(symbol: str, item: dict[str, Any]) -> Quote | str:
        """The quote in ``item``, or why there is none: ``no_data`` without a price,
        ``invalid_value`` for a price no stored price can be. Never raises, so one odd ticker
        fails alone and the rest of its batch is priced."""
        number = _number(item.get("regularMarketPrice"))
        if number is None:
            return port.NO_DATA
        price = _storable(number)
        if price is None:
            log.warning(
                "Yahoo quoted %s at %s: outside what prices can hold", symbol, _shown(number)
            )
            return port.INVALID
        try:
            return Quote(
                symbol=symbol,
                price=price,
                previous_close=_price(item.get("regularMarketPreviousClose")),
                currency=item.get("currency"),
                market_time=_moment(item.get("regularMarketTime")),
                source=SOURCE,
                name=item.get("longName") or item.get("shortName"),
                exchange=item.get("fullExchangeName") or item.get("exchange"),
                first_trade_date=(
                    moment.date()
                    if (moment := _moment(item.get("firstTradeDateMilliseconds"), 1000))
                    else None
                ),
            )
        except (TypeError, ValueError):  # a field of a shape no quote has
            return port.MALFORMED

    # -- history --------------------------------------------------------------------------
    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        """Daily closes (unadjusted for dividends) from ``start`` to ``end`` inclusive.

        One ticker after another under one deadline, pausing on rate limits (see the module
        docstring). Never raises: every asked ticker ends in ``closes`` or in ``failed``
        (with ``details`` where there is more to say), and ``dropped`` counts empty closes.
        """
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
        requests = _ChartRequests(lambda: deadline - self._clock())
        pending = deque(wanted)
        rounds = 0

        def fetch_pending() -> None:
            nonlocal rounds
            rounds += 1
            while pending:
                out_of_time = self._history_of(pending[0], start, end, requests, deadline, batch)
                pending.popleft()
                if out_of_time:
                    raise _DeadlinePassed()

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
        except _DeadlinePassed:
            limit = f"{self.policy.deadline_s:g} s"
            _not_fetched(pending, batch, f"the {limit} deadline of this history fetch passed")
        if requests.answered:
            self.cooldown.record_success()
        return batch

    def _backoff(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)

    def _history_of(
        self,
        symbol: str,
        start: date,
        end: date,
        requests: _ChartRequests,
        deadline: float,
        batch: HistoryBatch,
    ) -> bool:
        """Fetch and check one ticker into ``batch``, retrying its timeouts and 5xx within
        ``max_total_s`` and the deadline; True when the deadline cut its retries short (the
        fetch is out of time: asking the next ticker would only get one hurried attempt
        each). Raises what stops the fetch before this ticker is done: a rate limit
        (:class:`RateLimited`) or :class:`_DeadlinePassed`."""
        if deadline - self._clock() < MIN_REQUEST_S:
            raise _DeadlinePassed()
        attempts = 0

        def attempt() -> pd.DataFrame:
            nonlocal attempts
            attempts += 1
            try:
                return _chart(symbol, start, end, requests)
            except (_DeadlinePassed, MarketDataError):
                raise
            except YFRateLimitError as exc:
                raise RateLimited() from exc
            except (YFTzMissingError, YFPricesMissingError, YFInvalidPeriodError):
                raise  # Yahoo answered: no such ticker, or no prices in the range
            except YFDataException as exc:  # "Will be right back": Yahoo is down
                raise UpstreamUnavailable() from exc
            except Exception as exc:
                status = _status_of(exc)
                if status == 429:
                    raise RateLimited() from exc
                if (status is not None and status >= 500) or (
                    status is None and _is_network_error(exc)
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
        except (RateLimited, _DeadlinePassed):
            raise
        except Exception as exc:
            batch.failed[symbol], batch.details[symbol] = _history_failure(exc, attempts)
            retried = isinstance(exc, UpstreamUnavailable)
            return retried and attempts < self.policy.attempts and until < budget_end
        try:
            _check_closes(symbol, frame, start, end, batch)
        except (ArithmeticError, KeyError, TypeError, ValueError) as exc:  # a frame of odd shape
            batch.closes.pop(symbol, None)
            batch.failed[symbol] = port.MALFORMED
            batch.details[symbol] = f"unreadable chart answer ({type(exc).__name__}: {exc})"[:300]
        return False


def _chart(symbol: str, start: date, end: date, requests: _ChartRequests) -> pd.DataFrame:
    """``symbol``'s daily bars in [start, end] as yfinance parses them: ``Ticker.history``
    with every request sent through ``requests`` (``Ticker._data``, read by the timezone
    lookup and the price history, and ``Ticker._quote._data``, by the quote-summary fallback
    of a failed timezone lookup: private attributes of the pinned yfinance; the replay tests
    fail if they change). Unadjusted closes; empty rows kept so that they can be counted;
    dividends and splits kept so that a row yfinance adds to carry one is not counted."""
    ticker = yf.Ticker(symbol)
    ticker._data = cast(Any, requests)
    ticker._quote._data = cast(Any, requests)
    frame = ticker.history(
        start=start.isoformat(),
        end=(end + timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
        interval="1d",
        auto_adjust=False,
        actions=True,
        keepna=True,
        timeout=TIMEOUT_S,
    )
    return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()


def _reason(exc: MarketDataError) -> str:
    if isinstance(exc, RateLimited):
        return port.RATE_LIMITED
    if isinstance(exc, MalformedResponse):
        return port.MALFORMED
    return port.UNAVAILABLE


def _history_failure(exc: BaseException, attempts: int) -> tuple[str, str]:
    """The reason code and detail of a ticker whose chart fetch ended in ``exc``."""
    if isinstance(exc, YFTzMissingError) or _status_of(exc) == 404:
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


EVENT_COLUMNS = ("Dividends", "Stock Splits", "Capital Gains")


def _event_rows_added(frame: pd.DataFrame) -> list[bool]:
    """Per row of ``frame``: whether yfinance added it only to carry an event.

    yfinance merges a dividend or split into the price row of its day; one dated before the
    first price row or after the last gets a row of its own with no prices (daily bars,
    ``utils.safe_merge_dfs``). Such a row is empty and has an event, and no price row lies
    beyond it; an empty row between price rows is a bar Yahoo sent without a close.
    """
    present = [c for c in EVENT_COLUMNS if c in frame.columns]
    if not present:
        return [False] * len(frame)
    events = frame[present].fillna(0).ne(0).any(axis=1).tolist()
    empty = frame["Close"].isna().tolist()
    candidates = [e and n for e, n in zip(events, empty, strict=True)]
    bars = [i for i, candidate in enumerate(candidates) if not candidate]
    if not bars:
        return candidates
    first, last = bars[0], bars[-1]
    return [candidate and not first < i < last for i, candidate in enumerate(candidates)]


def _check_closes(
    symbol: str, frame: pd.DataFrame, start: date, end: date, batch: HistoryBatch
) -> None:
    """Put ``symbol``'s closes in [start, end] into ``batch``, or fail the ticker.

    A close present but not storable (zero, negative, 10^12 or more, infinite, 0 at 8
    places) fails the whole ticker as ``invalid_value``: a series with an impossible value
    in it is not to be trusted for its other days either. An empty (null, NaN) close on a
    row Yahoo returned is left out and counted in ``dropped``; a row yfinance adds only to
    carry a dividend or split falling outside the price rows is no close and not counted
    (see :func:`_event_rows_added`; an empty bar of Yahoo's at either end of the series on
    the day of a dividend or split cannot be told from one, and is not counted either).
    """
    if frame.empty:
        batch.failed[symbol] = port.NO_DATA
        batch.details[symbol] = f"no rows from {start.isoformat()} to {end.isoformat()}"
        return
    if "Close" not in frame.columns:
        batch.failed[symbol] = port.MALFORMED
        batch.details[symbol] = "chart answer without closes"
        return
    added = _event_rows_added(frame)
    closes: dict[date, Decimal] = {}
    bad: list[tuple[date, Decimal]] = []
    empty = 0
    for stamp, value, extra in zip(frame.index, frame["Close"].tolist(), added, strict=True):
        day = pd.Timestamp(stamp).date()
        if not start <= day <= end:
            continue
        number = _number(value)
        if number is None:
            empty += 0 if extra else 1
            continue
        price = _storable(number)
        if price is None:
            bad.append((day, number))
        else:
            closes[day] = price
    if bad:
        day, number = bad[0]
        more = f" ({len(bad) - 1} more such close(s))" if len(bad) > 1 else ""
        batch.failed[symbol] = port.INVALID
        batch.details[symbol] = (
            f"close {_shown(number)} on {day.isoformat()} is outside what prices can hold{more}"
        )
        log.warning("Yahoo history of %s: %s", symbol, batch.details[symbol])
        return
    if not closes:
        batch.failed[symbol] = port.NO_DATA
        batch.details[symbol] = f"no close from {start.isoformat()} to {end.isoformat()}" + (
            f": {empty} row(s) came with an empty close" if empty else ""
        )
        return
    batch.closes[symbol] = closes
    if empty:
        batch.dropped[symbol] = empty
