"""The Yahoo Finance adapter, on yfinance.

* search: Yahoo's search endpoint (quotes only, no news) through yfinance's own HTTP layer
  (``YfData.get_raw_json``). Not ``yf.Search``: it ignores the HTTP status (a 5xx with a JSON
  body reads as "no results") and answers from an in-process LRU that keeps error responses.
* quotes: Yahoo's batch quote endpoint through the same layer (cookie, crumb and rate-limit
  detection), at most 100 symbols per request — one request per 100 tickers, not one each.
* history: ``yf.download`` per chunk of 100. It swallows per-ticker errors (a failed ticker
  comes back as all-NaN columns). yfinance 1.x keeps the reasons in a per-call context (it no
  longer fills ``yfinance.shared._ERRORS``), so the download runs with a context of ours and
  every ticker is checked; failures are reported with a reason code, never as NaN prices.

Rate limits (HTTP 429 / ``YFRateLimitError``), timeouts and 5xx are retried with tenacity
(exponential backoff with jitter, bounded attempts and total time); after repeated rate
limits a Redis cool-down pauses every process: while it lasts, calls fail fast (no request,
no retry, and they do not count as new rate limits). A ticker that does not exist is not
retried. Prices keep 8 decimal places, the scale they are stored with (``Numeric(20, 8)``).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yfinance as yf
from yfinance import multi as yf_multi
from yfinance.data import YfData
from yfinance.exceptions import YFRateLimitError

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
# Yahoo's exchange codes for the markets our advisors use, and their currencies; search
# results do not carry a currency, quotes do.
EXCHANGE_CURRENCIES = {
    "SAO": "BRL", "NMS": "USD", "NYQ": "USD", "NGM": "USD", "NCM": "USD", "ASE": "USD",
    "PCX": "USD", "BTS": "USD", "CCC": "USD", "LSE": "GBp", "TOR": "CAD", "FRA": "EUR",
    "GER": "EUR", "PAR": "EUR", "AMS": "EUR", "MIL": "EUR", "CPH": "DKK", "OSL": "NOK",
    "JKT": "IDR", "ASX": "AUD", "TYO": "JPY", "HKG": "HKD", "CMX": "USD", "NYM": "USD",
}  # fmt: skip


def _decimal(value: Any) -> Decimal | None:
    """A positive, finite price as Decimal (8 places), else None (also when it rounds to 0)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    price = Decimal(repr(number)).quantize(PRICE_PLACES)
    return price if price > 0 else None


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
    if isinstance(exc, TimeoutError | OSError) or type(exc).__name__ in {
        "Timeout",
        "ReadTimeout",
        "ConnectTimeout",
        "ConnectionError",
    }:
        return UpstreamUnavailable()
    return UpstreamUnavailable()


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
    ) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(cache_dir))
        # Errors must reach us (a swallowed error would look like "no results").
        yf.config.debug.hide_exceptions = False
        yf.config.network.retries = 0  # tenacity owns retries
        self.cooldown = cooldown or CoolDown(None)
        self.policy = policy or RetryPolicy()
        self._sleep = sleep

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
                if quote is None:
                    batch.failed[symbol] = port.NO_DATA
                else:
                    batch.quotes[symbol] = quote
        return batch

    @staticmethod
    def _fetch_quotes(chunk: list[str]) -> Any:
        params = {"symbols": ",".join(chunk), "formatted": "false", "lang": "en-US", "region": "US"}
        return YfData().get_raw_json(QUOTE_URL, params=params, timeout=TIMEOUT_S)

    @staticmethod
    def _quote(symbol: str, item: dict[str, Any]) -> Quote | None:
        price = _decimal(item.get("regularMarketPrice"))
        if price is None:
            return None
        market_time = item.get("regularMarketTime")
        first_trade = item.get("firstTradeDateMilliseconds")
        return Quote(
            symbol=symbol,
            price=price,
            previous_close=_decimal(item.get("regularMarketPreviousClose")),
            currency=item.get("currency"),
            market_time=(
                datetime.fromtimestamp(int(market_time), UTC)
                if isinstance(market_time, int | float)
                else None
            ),
            source=SOURCE,
            name=item.get("longName") or item.get("shortName"),
            exchange=item.get("fullExchangeName") or item.get("exchange"),
            first_trade_date=(
                datetime.fromtimestamp(int(first_trade) / 1000, UTC).date()
                if isinstance(first_trade, int | float)
                else None
            ),
        )

    # -- history --------------------------------------------------------------------------
    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        """Daily closes (unadjusted for dividends) from ``start`` to ``end`` inclusive."""
        batch = HistoryBatch()
        wanted = list(dict.fromkeys(port.normalize_symbol(s) for s in symbols))
        for chunk in port.chunks(wanted):
            try:
                frame, errors = self._call(lambda chunk=chunk: self._download(chunk, start, end))
            except MarketDataError as exc:
                batch.failed.update(dict.fromkeys(chunk, _reason(exc)))
                continue
            for symbol in chunk:
                closes = _closes(frame, symbol, start, end)
                if closes:
                    batch.closes[symbol] = closes
                else:
                    batch.failed[symbol] = _download_reason(errors.get(symbol))
        return batch

    @staticmethod
    def _download(chunk: list[str], start: date, end: date) -> tuple[pd.DataFrame, dict[str, str]]:
        """``yf.download`` of ``chunk``, and what it swallowed per ticker (upper-cased).

        Runs ``yf.download``'s own implementation with a context of ours, the only place
        yfinance 1.x keeps the per-ticker errors (private names of the pinned yfinance; the
        replay tests in tests/integration/test_yahoo_adapter.py fail if they change).
        yfinance's in-process LRU (``YfData.cache_get``, used for timezone lookups and past
        ranges) also keeps error responses, so it is emptied first: a retry or a later call
        asks Yahoo again (the Redis cache in front of this adapter is the cache that counts).
        """
        YfData().cache_get.cache_clear()
        context = yf_multi._DownloadCtx()
        frame = yf_multi._download_impl(
            context,
            chunk,
            start=start.isoformat(),
            end=(end + timedelta(days=1)).isoformat(),
            interval="1d",
            auto_adjust=False,
            actions=False,
            group_by="ticker",
            threads=False,
            progress=False,
            timeout=TIMEOUT_S,
            multi_level_index=True,
        )
        errors = {str(s).upper(): str(e) for s, e in context.errors.items()}
        reasons = [_download_reason(errors.get(s)) for s in chunk]
        if frame is None or frame.empty or all(s in errors for s in chunk):
            # Every ticker failed: if it was the network or a rate limit, let tenacity retry.
            if reasons and all(r == port.RATE_LIMITED for r in reasons):
                raise RateLimited()
            if reasons and all(r == port.UNAVAILABLE for r in reasons):
                raise UpstreamUnavailable()
        return (frame if frame is not None else pd.DataFrame()), errors


def _reason(exc: MarketDataError) -> str:
    if isinstance(exc, RateLimited):
        return port.RATE_LIMITED
    if isinstance(exc, MalformedResponse):
        return port.MALFORMED
    return port.UNAVAILABLE


def _download_reason(error: str | None) -> str:
    """Classify the error ``yf.download`` recorded for a ticker (it never raises)."""
    message = (error or "").lower()
    if not message:
        return port.NO_DATA
    if "rate" in message or "429" in message or "too many" in message:
        return port.RATE_LIMITED
    if "no price data" in message:
        # "possibly delisted; no price data found (...)": the ticker is known (its timezone
        # was found), the range has no prices.
        return port.NO_DATA
    if any(sign in message for sign in ("no timezone", "delisted", "not found", "404")):
        return port.NOT_FOUND  # an unknown ticker: Yahoo's 404, so no timezone found
    if "timed out" in message or "timeout" in message or "connection" in message:
        return port.UNAVAILABLE
    if any(code in message for code in ("500", "502", "503", "504")):
        return port.UNAVAILABLE
    if "jsondecodeerror" in message:
        return port.MALFORMED
    return port.NO_DATA


def _closes(frame: pd.DataFrame, symbol: str, start: date, end: date) -> dict[date, Decimal]:
    """The finite closes of ``symbol`` in ``frame`` within [start, end]; {} when none."""
    if frame.empty:
        return {}
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        if symbol in columns.get_level_values(0):
            series = frame[symbol].get("Close")
        elif symbol in columns.get_level_values(1):
            series = frame.xs(symbol, axis=1, level=1).get("Close")
        else:
            return {}
    else:
        series = frame.get("Close")
    if series is None:
        return {}
    closes: dict[date, Decimal] = {}
    for stamp, value in series.items():
        day = pd.Timestamp(stamp).date()
        price = _decimal(value)
        if price is not None and start <= day <= end:
            closes[day] = price
    return closes
