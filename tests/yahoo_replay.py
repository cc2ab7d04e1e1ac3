"""Replay recorded Yahoo Finance responses through yfinance's own HTTP seam.

yfinance sends every request through ``yfinance.data.YfData.get(self, url, params=None,
timeout=30)``. :func:`yahoo_replay` patches exactly that method (the narrowest seam: the
cookie/crumb handshake is skipped, yfinance's parsing, caching and error handling all run)
and answers from the recordings in ``tests/fixtures/yahoo`` (see its README).

Routing, by URL path:

* ``/v1/finance/search`` -> ``search-<q>.json`` (spaces in ``q`` become ``_``, case-insensitive).
  The recorded quotes are cut to ``quotesCount`` as Yahoo does. An unrecorded query answers
  200 with no quotes.
* ``/v7/finance/quote`` -> the ``quoteResponse.result`` entries of ``quote-<SYMBOL>.json`` for
  every symbol of the comma-separated ``symbols`` parameter, merged in request order. Symbols
  without a recording are simply absent, as Yahoo does for unknown tickers. A test may put
  its own entry in place of a symbol's recording with :meth:`YahooReplay.set_quote`.
* ``/v8/finance/chart/<SYMBOL>`` -> ``chart-<SYMBOL>-<start>-to-<end>.json``, else
  ``historical-via-chart-<SYMBOL>-...json``, else ``chart-<SYMBOL>.json``; the 2020-01-01 to
  2020-01-03 daily recordings are preferred (intraday and ``.fake`` files are never picked).
  The recording is returned whatever ``period1``/``period2``/``range`` asked for, so the
  timezone lookup (``range=1d``) and the history request get the same body. An unrecorded
  symbol answers 404 with Yahoo's ``{"chart": {"result": null, "error": {...}}}`` body. A test
  may answer a symbol with a body of its own (say, a recording with altered closes, or with
  a split moved to another day) with :meth:`YahooReplay.set_chart`. The adapter's history
  request asks through the fetch day (``period2`` = now); the recording answers it as is.
* ``/v10/finance/quoteSummary/<SYMBOL>`` (yfinance's ``Ticker.info``, which it falls back to
  when a timezone lookup fails) -> 404 with Yahoo's not-found body: nothing is recorded.
* anything else -> 404.

Faults are injected per call with :meth:`YahooReplay.inject`. A 429 is mimicked the way the
real ``YfData.get`` reports it: ``_make_request`` retries once with the other cookie strategy
and then raises :class:`yfinance.exceptions.YFRateLimitError` instead of returning the
response, so the injected fault raises that exception (one recorded call stands for the real
method's pair of HTTP requests). A timeout raises curl_cffi's ``Timeout`` (what the real
session raises); a hang waits (with :attr:`YahooReplay.wait`, a fake clock's in tests) for the
hang or the request's ``timeout``, whichever is shorter, then raises that ``Timeout`` if the
timeout came first, else answers normally. A 5xx, a malformed body or a chart error body are
returned as responses, because the real ``get`` returns those without raising. Each recorded
:class:`Request` keeps the ``timeout`` it was sent with.

Isolation: yfinance keeps process-wide state: the ``YfData`` singleton's LRU ``cache_get``
(search, timezone lookups and past-range charts go through it, so a recorded answer or fault
would otherwise leak into the next test), the ticker -> timezone SQLite cache (the
``_TzCache`` object keeps its first database even after ``set_tz_cache_location``),
``yfinance.shared._ERRORS``, the ``Ticker.info`` fallback counter, and the debug/network
config the adapter sets. :func:`yahoo_replay` resets all of them on entry and again on exit.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from unittest import mock
from urllib.parse import unquote, urlencode, urlsplit

import yfinance as yf
import yfinance.base as yf_base
import yfinance.cache as yf_cache
from curl_cffi.requests.exceptions import HTTPError, Timeout
from yfinance import shared as yf_shared
from yfinance.data import YfData
from yfinance.exceptions import YFRateLimitError

# The recordings live in the repository, beside this file (tests/fixtures/yahoo).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "yahoo"

Endpoint = Literal["search", "quote", "chart", "quoteSummary", "other"]
FaultKind = Literal["rate_limit", "timeout", "hang", "response"]

REASONS = {
    200: "OK",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
CHART_NOT_FOUND = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
_CHART_FILE = re.compile(
    r"^(?P<via>historical-via-)?chart-(?P<symbol>.+?)"
    r"(?:-(?P<start>\d{4}-\d{2}-\d{2})-to-(?P<end>\d{4}-\d{2}-\d{2})(?P<rest>.*))?\.json$"
)
PREFERRED_RANGE = ("2020-01-01", "2020-01-03")


class ReplayResponse:
    """The part of a curl_cffi ``Response`` that yfinance and the adapter use."""

    def __init__(self, status_code: int, text: str, url: str) -> None:
        self.status_code = status_code
        self.text = text
        self.url = url
        self.reason = REASONS.get(status_code, "Error")
        self.headers: dict[str, str] = {"content-type": "application/json;charset=utf-8"}

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    @property
    def content(self) -> bytes:
        return self.text.encode()

    def json(self) -> Any:
        """The body as JSON; a malformed body raises ``json.JSONDecodeError``."""
        return json.loads(self.text)

    def raise_for_status(self) -> None:
        """Raise like curl_cffi: an ``HTTPError`` whose ``.response.status_code`` is set."""
        if not self.ok:
            raise HTTPError(f"HTTP Error {self.status_code}: {self.reason}", 0, self)

    def __repr__(self) -> str:
        return f"<ReplayResponse [{self.status_code}] {self.url}>"


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure: raise (rate limit, timeout), hang, or answer with a response."""

    kind: FaultKind
    status: int = 200
    body: str = ""
    hang_s: float = 0.0

    @classmethod
    def rate_limit(cls) -> Fault:
        """HTTP 429: the real ``YfData.get`` raises ``YFRateLimitError`` (see module doc)."""
        return cls("rate_limit", 429)

    @classmethod
    def timeout(cls) -> Fault:
        """The HTTP client timed out: curl_cffi raises ``Timeout``."""
        return cls("timeout")

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        """No answer for ``seconds``: the request times out if its ``timeout`` is shorter,
        else the normal answer arrives late (see the module doc)."""
        return cls("hang", hang_s=seconds)

    @classmethod
    def server_error(cls, status: int = 503, body: str | None = None) -> Fault:
        """A 5xx response; by default with Yahoo's JSON ``finance.error`` envelope."""
        default = {"finance": {"result": None, "error": {"code": "Internal Server Error"}}}
        return cls("response", status, json.dumps(default) if body is None else body)

    @classmethod
    def malformed(cls) -> Fault:
        """A 200 whose body is not JSON (a proxy's or consent page's HTML)."""
        return cls("response", 200, "<!doctype html><html><body>Oops</body></html>")

    @classmethod
    def chart_error(cls, description: str = "No data found", status: int = 404) -> Fault:
        """Yahoo's chart error envelope ``{"chart": {"result": null, "error": {...}}}``."""
        error = {"code": "Not Found", "description": description}
        return cls("response", status, json.dumps({"chart": {"result": None, "error": error}}))

    @classmethod
    def respond(cls, body: Any, status: int = 200) -> Fault:
        """Answer with ``body`` (JSON-encoded unless already a string)."""
        return cls("response", status, body if isinstance(body, str) else json.dumps(body))


@dataclass(slots=True)
class Injection:
    """A fault for the next ``times`` matching calls (``None``: every call)."""

    fault: Fault
    endpoint: Endpoint
    times: int | None
    symbol: str | None
    skip: int = 0


@dataclass(frozen=True, slots=True)
class Request:
    """One call the replay answered (or failed)."""

    endpoint: Endpoint
    url: str
    params: dict[str, Any]
    symbols: tuple[str, ...]
    fault: Fault | None
    timeout: float | None = None


@dataclass
class YahooReplay:
    """Answers ``YfData.get`` from recordings; counts calls per endpoint; injects faults."""

    fixtures: Path = FIXTURES
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[Request] = field(default_factory=list)
    wait: Callable[[float], None] = time.sleep  # how a hang passes (a fake clock in tests)
    _injections: list[Injection] = field(default_factory=list)
    _charts: dict[str, Any] = field(default_factory=dict)
    _quotes_by_symbol: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- test API ---------------------------------------------------------------------------
    def inject(
        self,
        fault: Fault,
        endpoint: Endpoint,
        *,
        times: int | None = 1,
        symbol: str | None = None,
        skip: int = 0,
    ) -> None:
        """Fail the next ``times`` calls to ``endpoint`` (all of them when ``None``).

        With ``symbol``, only calls about that symbol match (the chart symbol, one of the
        quote ``symbols``, or the search ``q``). The first ``skip`` matching calls are
        answered normally (e.g. ``skip=1`` on a chart lets yfinance's timezone lookup through
        and fails the history request). Injections are consumed in order.
        """
        self._injections.append(Injection(fault, endpoint, times, symbol, skip))

    def set_chart(self, symbol: str, body: Any) -> None:
        """Answer chart requests for ``symbol`` with ``body`` (a copy is sent each time)
        instead of its recording; faults still come first."""
        self._charts[symbol] = json.loads(json.dumps(body))

    def set_quote(self, symbol: str, item: dict[str, Any]) -> None:
        """Answer ``symbol`` in quote requests with ``item`` (one ``quoteResponse.result``
        entry) instead of its recording."""
        self._quotes_by_symbol[symbol] = json.loads(json.dumps(item))

    def clear_faults(self) -> None:
        """Forget every pending injection."""
        self._injections.clear()

    def requests_to(self, endpoint: Endpoint) -> list[Request]:
        """The calls made to ``endpoint``, in order."""
        return [r for r in self.requests if r.endpoint == endpoint]

    # -- the patched YfData.get ---------------------------------------------------------------
    def get(
        self, url: str, params: Mapping[str, Any] | None = None, timeout: float = 30
    ) -> ReplayResponse:
        """What the patched ``YfData.get`` does (``timeout`` only matters to a hang)."""
        query = dict(params or {})
        endpoint, symbols = _classify(url, query)
        full_url = f"{url}?{urlencode(query)}" if query else url
        with self._lock:
            fault = self._take_fault(endpoint, symbols)
            self.calls[endpoint] += 1
            self.requests.append(Request(endpoint, full_url, query, symbols, fault, timeout))
        timed_out = Timeout(f"Operation timed out after {int(timeout * 1000)} milliseconds", 28)
        if fault is not None:
            if fault.kind == "rate_limit":
                raise YFRateLimitError()
            if fault.kind == "timeout":
                raise timed_out
            if fault.kind == "hang":
                self.wait(min(fault.hang_s, timeout))
                if fault.hang_s >= timeout:
                    raise timed_out
            else:
                return ReplayResponse(fault.status, fault.body, full_url)
        status, body = self._answer(endpoint, symbols, query)
        return ReplayResponse(status, json.dumps(body), full_url)

    def _take_fault(self, endpoint: Endpoint, symbols: tuple[str, ...]) -> Fault | None:
        for injection in self._injections:
            if injection.endpoint != endpoint:
                continue
            if injection.symbol is not None and injection.symbol not in symbols:
                continue
            if injection.skip > 0:
                injection.skip -= 1
                return None
            if injection.times is not None:
                injection.times -= 1
                if injection.times <= 0:
                    self._injections.remove(injection)
            return injection.fault
        return None

    # -- recordings -----------------------------------------------------------------------------
    def _answer(
        self, endpoint: Endpoint, symbols: tuple[str, ...], query: dict[str, Any]
    ) -> tuple[int, Any]:
        if endpoint == "search":
            return 200, self._search(str(query.get("q", "")), query.get("quotesCount"))
        if endpoint == "quote":
            return 200, self._quotes(symbols)
        if endpoint == "chart":
            return self._chart(symbols[0])
        if endpoint == "quoteSummary":
            error = {"code": "Not Found", "description": f"Quote not found for symbol: {symbols}"}
            return 404, {"quoteSummary": {"result": None, "error": error}}
        return 404, {"finance": {"result": None, "error": {"code": "Not Found"}}}

    def _search(self, q: str, count: Any) -> Any:
        wanted = f"search-{q.strip().replace(' ', '_')}.json".casefold()
        for path in self.fixtures.glob("search-*.json"):
            if path.name.casefold() == wanted and not path.name.endswith(".fake.json"):
                body = self.recorded(path.name)
                if isinstance(count, int) and isinstance(body.get("quotes"), list):
                    body["quotes"] = body["quotes"][:count]
                return body
        return {"count": 0, "quotes": [], "news": [], "nav": [], "lists": []}

    def _quotes(self, symbols: tuple[str, ...]) -> Any:
        results: list[Any] = []
        for symbol in symbols:
            if symbol in self._quotes_by_symbol:
                results.append(json.loads(json.dumps(self._quotes_by_symbol[symbol])))
                continue
            path = self.fixtures / f"quote-{symbol}.json"
            if path.is_file():
                results.extend(self.recorded(path.name)["quoteResponse"]["result"] or [])
        return {"quoteResponse": {"result": results, "error": None}}

    def _chart(self, symbol: str) -> tuple[int, Any]:
        if symbol in self._charts:
            return 200, json.loads(json.dumps(self._charts[symbol]))
        name = chart_file(self.fixtures, symbol)
        if name is None:
            return 404, {"chart": {"result": None, "error": CHART_NOT_FOUND}}
        return 200, self.recorded(name)

    def recorded(self, name: str) -> Any:
        """The recorded JSON body of fixture ``name`` (a fresh copy each time)."""
        return json.loads((self.fixtures / name).read_text())["response"]["bodyJson"]


def chart_file(fixtures: Path, symbol: str) -> str | None:
    """The recording that answers chart requests for ``symbol`` (see the module doc)."""
    ranked: list[tuple[int, str]] = []
    for path in fixtures.glob("*chart-*.json"):
        match = _CHART_FILE.match(path.name)
        if match is None or match["symbol"] != symbol or path.name.endswith(".fake.json"):
            continue
        if match["rest"]:
            continue  # intraday or other non-default parameters
        rank = 0 if (match["start"], match["end"]) == PREFERRED_RANGE else 2
        rank += 1 if match["via"] else 0
        if match["start"] is None:
            rank = 4
        ranked.append((rank, path.name))
    return min(ranked)[1] if ranked else None


def _classify(url: str, query: dict[str, Any]) -> tuple[Endpoint, tuple[str, ...]]:
    path = urlsplit(url).path
    if path.endswith("/v1/finance/search"):
        return "search", (str(query.get("q", "")),)
    if "/v7/finance/quote" in path:
        raw = str(query.get("symbols", ""))
        return "quote", tuple(s.strip() for s in raw.split(",") if s.strip())
    if "/v8/finance/chart/" in path:
        return "chart", (unquote(path.rsplit("/v8/finance/chart/", 1)[1]),)
    if "/v10/finance/quoteSummary/" in path:
        return "quoteSummary", (unquote(path.rsplit("/", 1)[1]),)
    return "other", ()


def reset_yfinance(cache_dir: Path) -> None:
    """Forget yfinance's process-wide state (caches, errors, counters); see the module doc."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    yf.set_tz_cache_location(str(cache_dir))
    yf_cache._TzCacheManager._tz_cache = None  # drop the _TzCache bound to the old database
    YfData().cache_get.cache_clear()
    yf_shared._ERRORS.clear()
    yf_shared._TRACEBACKS.clear()
    yf_shared._DFS.clear()
    yf_base._tz_info_fetch_ctr = 0


@contextmanager
def yahoo_replay(cache_dir: Path, fixtures: Path = FIXTURES) -> Iterator[YahooReplay]:
    """Patch ``YfData.get`` to answer from ``fixtures``; isolate yfinance's global state."""
    replay = YahooReplay(fixtures)
    saved = (yf.config.debug.hide_exceptions, yf.config.network.retries)

    def get(_self: YfData, url: str, params: Any = None, timeout: float = 30) -> ReplayResponse:
        return replay.get(url, params, timeout)

    reset_yfinance(cache_dir)
    try:
        with mock.patch.object(YfData, "get", get):
            yield replay
    finally:
        reset_yfinance(cache_dir)
        yf.config.debug.hide_exceptions, yf.config.network.retries = saved
