"""The Yahoo Finance adapter, on yfinance: search, quotes, and history.

* search: Yahoo's search endpoint (quotes only, no news) through yfinance's own HTTP layer
  (``YfData.get_raw_json``). Not ``yf.Search``: it ignores the HTTP status (a 5xx with a JSON
  body reads as "no results") and answers from an in-process LRU that keeps error responses.
* quotes: Yahoo's batch quote endpoint through the same layer (cookie, crumb and rate-limit
  detection), at most 100 symbols per request — one request per 100 tickers, not one each.
  Each ticker is read on its own: a price that no stored price can be (zero, negative, 10^12
  or more, not finite, or 0 at 8 places: :func:`core.limits.price_fits`) fails that ticker
  as ``invalid_value``, the others of the batch unaffected; an odd previous close is None.
* history (:mod:`core.market.yahoo_history`): Yahoo's chart endpoint, one request per ticker
  carrying the closes and the splits and dividends, from the first asked day through the
  fetch day; closes and dividends come back AS TRADED (Yahoo's split adjustment undone with
  the splits after each day: :func:`core.market.yahoo_values.read_chart`). One ticker after
  another under one deadline, pausing the whole fetch on a rate limit. Each ticker is
  checked on its own: a close present but not storable fails that ticker (``invalid_value``,
  the value and day in ``details``); a row that came with an empty (null) close is left out
  and counted in ``dropped``.

Retries, with tenacity (exponential backoff with jitter, bounded attempts and time). Quotes
and search: rate limits (HTTP 429 / ``YFRateLimitError``), timeouts and 5xx are retried per
request; history: see :mod:`core.market.yahoo_history`. After repeated rate limits a Redis
cool-down pauses every process (in process memory while Redis is unreachable): while it
lasts, calls fail fast (no request, no retry, and they do not count as new rate limits).
A ticker that does not exist is not retried. Prices keep 8 decimal places, the scale they
are stored with (``Numeric(20, 8)``). Back-offs sleep with the injected ``sleep`` and
deadlines read the injected ``clock``, so tests neither sleep nor wait. Values are read and
errors translated in :mod:`core.market.yahoo_values` (:func:`translate_error` is re-exported
here).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yfinance as yf
from yfinance.data import YfData

from core.market import port
from core.market.errors import InvalidQuery, MalformedResponse, MarketDataError, RateLimited
from core.market.port import HistoryBatch, Quote, QuoteBatch, SearchResult, SymbolMatch
from core.market.retry import CoolDown, RetryPolicy
from core.market.yahoo_history import MIN_REQUEST_S, TIMEOUT_S, HistoryFetch
from core.market.yahoo_values import PRICE_PLACES, translate_error
from core.market.yahoo_values import moment as _moment
from core.market.yahoo_values import number as _number
from core.market.yahoo_values import price as _price
from core.market.yahoo_values import reason as _reason
from core.market.yahoo_values import shown as _shown
from core.market.yahoo_values import storable as _storable

__all__ = [
    "MIN_REQUEST_S",
    "PRICE_PLACES",
    "SOURCE",
    "TIMEOUT_S",
    "YahooMarketData",
    "translate_error",
]

log = logging.getLogger(__name__)

QUOTE_URL = "https://query1.finance.yahoo.com/v7/finance/quote"
SEARCH_URL = "https://query2.finance.yahoo.com/v1/finance/search"
SOURCE = "yahoo"
# Yahoo's exchange codes for the markets our advisors use, and their currencies; search
# results do not carry a currency, quotes do.
EXCHANGE_CURRENCIES = {
    "SAO": "BRL", "NMS": "USD", "NYQ": "USD", "NGM": "USD", "NCM": "USD", "ASE": "USD",
    "PCX": "USD", "BTS": "USD", "CCC": "USD", "LSE": "GBp", "TOR": "CAD", "FRA": "EUR",
    "GER": "EUR", "PAR": "EUR", "AMS": "EUR", "MIL": "EUR", "CPH": "DKK", "OSL": "NOK",
    "JKT": "IDR", "ASX": "AUD", "TYO": "JPY", "HKG": "HKD", "CMX": "USD", "NYM": "USD",
}  # fmt: skip


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
        """Daily closes AS TRADED (not split-adjusted, unadjusted for dividends) from
        ``start`` to ``end`` inclusive, with the splits and dividends in that range.

        One chart request per ticker, from ``start`` through the fetch day so that every
        later split is known; one ticker after another under one deadline, pausing on rate
        limits (see :mod:`core.market.yahoo_history`). Never raises: every asked ticker ends
        in ``closes`` or in ``failed`` (with ``details`` where there is more to say), and
        ``dropped`` counts empty closes.
        """
        fetch = HistoryFetch(self.policy, self.cooldown, self._clock, self._backoff)
        return fetch.run(symbols, start, end)

    def _backoff(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)
