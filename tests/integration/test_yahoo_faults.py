"""Faults injected at yfinance's ``YfData.get`` seam, through the real adapter and yfinance's
own parsing: values no price can be, empty closes, 5xx, rate limits, hangs, and the
cool-down with Redis unreachable.

Every request goes through ``tests.yahoo_replay``. Time is a fake clock: the adapter's
back-offs advance it (and are recorded) and so does a hanging request, so a test that
"waits" three minutes takes milliseconds. Redis, where involved, is the real one.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from core.market import port, yahoo_history
from core.market.cache import CachedMarketData
from core.market.errors import RateLimited
from core.market.retry import CoolDown, RetryPolicy
from core.market.yahoo import TIMEOUT_S, YahooMarketData
from tests.yahoo_replay import Fault, YahooReplay, yahoo_replay

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

ATTEMPTS = 3
PAUSES = 3
JAN_1, JAN_2, JAN_3 = date(2020, 1, 1), date(2020, 1, 2), date(2020, 1, 3)
SPLIT_FILE = "chart-AAPL-2020-08-31-to-2020-11-07.json"  # 49 daily AAPL bars
AUG_31, NOV_6 = date(2020, 8, 31), date(2020, 11, 6)
UNUSED_PORT_URL = "redis://127.0.0.1:1/0"
OCDO_CLOSE = {"OCDO.L": {JAN_2: Decimal("1259.5")}}
BTC_CLOSES = {
    JAN_1: Decimal("7200.17431641"),
    JAN_2: Decimal("6985.47021484"),
    JAN_3: Decimal("7344.88427734"),
}


@dataclass
class Clock:
    """Monotonic seconds, moved only by back-offs (recorded) and hanging requests."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    requests_at_sleep: list[int] = field(default_factory=list)
    replay: YahooReplay | None = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """A back-off: recorded with how many requests had been made, then passed."""
        self.sleeps.append(seconds)
        self.requests_at_sleep.append(len(self.replay.requests) if self.replay else -1)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """A hanging request's wait."""
        self.now += seconds


@pytest.fixture
def yahoo(tmp_path: Path) -> Iterator[YahooReplay]:
    """Yahoo answered from the recordings; yfinance's global state reset around the test."""
    with yahoo_replay(tmp_path / "replay") as replay:
        yield replay


@pytest.fixture
def clock(yahoo: YahooReplay) -> Clock:
    """The adapter's clock and sleep, also the replay's hang wait."""
    fake = Clock(replay=yahoo)
    yahoo.wait = fake.advance
    return fake


def make_adapter(
    tmp_path: Path, clock: Clock, cooldown: CoolDown | None = None, **policy: Any
) -> YahooMarketData:
    settings: dict[str, Any] = {
        "attempts": ATTEMPTS,
        "max_total_s": 20,
        "wait_base_s": 0.5,
        "wait_max_s": 8,
        "pauses": PAUSES,
    }
    settings.update(policy)
    return YahooMarketData(
        cache_dir=tmp_path / "yfinance",
        cooldown=cooldown,
        policy=RetryPolicy(**settings),
        sleep=clock.sleep,
        clock=clock,
    )


@pytest.fixture
def adapter(tmp_path: Path, clock: Clock) -> YahooMarketData:
    return make_adapter(tmp_path, clock)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
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


def unreachable_redis() -> redis.Redis:
    """A client of a port nothing listens on, built like Anka's own (``from_url``: no
    reconnect retries with back-off, so each failed call costs a refused connect only)."""
    return redis.Redis.from_url(UNUSED_PORT_URL, socket_connect_timeout=0.5)


def chart_with_closes(yahoo: YahooReplay, name: str, closes: dict[int, Any]) -> Any:
    """The recorded chart ``name`` with the close of each row index in ``closes`` replaced."""
    body = yahoo.recorded(name)
    quote = body["chart"]["result"][0]["indicators"]["quote"][0]
    for index, value in closes.items():
        quote["close"][index] = value
    return body


def chart_with_empty_rows(
    yahoo: YahooReplay, rows: Sequence[int], closes_only: Sequence[int] = (), name: str = SPLIT_FILE
) -> Any:
    """The recorded chart ``name`` (by default the AAPL split recording) with ``rows`` wholly
    null (how Yahoo sends a bar it lacks) and only the close null on ``closes_only``."""
    body = yahoo.recorded(name)
    result = body["chart"]["result"][0]
    quote = result["indicators"]["quote"][0]
    for index in rows:
        for values in quote.values():
            values[index] = None
        result["indicators"]["adjclose"][0]["adjclose"][index] = None
    for index in closes_only:
        quote["close"][index] = None
    return body


def symbols_asked(yahoo: YahooReplay) -> list[str]:
    return [r.symbols[0] for r in yahoo.requests]


# -- 1. one bad value is one failed ticker -----------------------------------------------------
@pytest.mark.parametrize(
    ("close", "shown"),
    [
        (1e20, "1e+20"),
        (1e19, "1e+19"),
        (5e12, "5e+12"),
        (1e12, "1e+12"),
        (0.0, "0"),
        (-3.5, "-3.5"),
        (math.inf, "inf"),
        (1e-9, "1e-09"),
    ],
)
def test_a_close_no_price_can_be_fails_that_ticker_only(
    yahoo: YahooReplay, adapter: YahooMarketData, close: float, shown: str
) -> None:
    # Before: 1e20 raised InvalidOperation out of history(); 1e19, 5e12 and 1e12 came back
    # as AAPL's close (the daily close then dropped them and counted AAPL as priced); 0,
    # -3.5, inf and 1e-9 were silently skipped and AAPL failed as no_data.
    yahoo.set_chart(
        "AAPL", chart_with_closes(yahoo, "chart-AAPL-2020-01-01-to-2020-01-03.json", {0: close})
    )

    batch = adapter.history(["OCDO.L", "AAPL", "BTC-USD"], JAN_1, JAN_3)

    assert batch.failed == {"AAPL": port.INVALID}
    assert batch.details["AAPL"] == f"close {shown} on 2020-01-02 is outside what prices can hold"
    assert batch.closes == {**OCDO_CLOSE, "BTC-USD": BTC_CLOSES}


def test_every_unstorable_close_is_counted_in_the_detail(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    yahoo.set_chart(
        "BTC-USD",
        chart_with_closes(yahoo, "chart-BTC-USD-2020-01-01-to-2020-01-03.json", {1: 1e20, 2: 0}),
    )

    batch = adapter.history(["BTC-USD"], JAN_1, JAN_3)

    assert batch.failed == {"BTC-USD": port.INVALID}
    assert batch.details["BTC-USD"] == (
        "close 1e+20 on 2020-01-02 is outside what prices can hold (1 more such close(s))"
    )
    assert batch.closes == {}


@pytest.mark.parametrize("price", [1e20, 1e19, 5e12, 0, -1, "Infinity"])
def test_a_quote_no_price_can_be_fails_that_ticker_only(
    yahoo: YahooReplay, adapter: YahooMarketData, price: Any
) -> None:
    # Before: 1e20 raised InvalidOperation out of quotes() for the whole batch; 1e19 and
    # 5e12 were quoted as AAPL's price; 0 and -1 failed as no_data.
    apple = yahoo.recorded("quote-AAPL.json")["quoteResponse"]["result"][0]
    apple["regularMarketPrice"] = float(price) if isinstance(price, str) else price
    yahoo.set_quote("AAPL", apple)

    batch = adapter.quotes(["OCDO.L", "AAPL", "ORSTED.CO"])

    assert batch.failed == {"AAPL": port.INVALID}
    assert {s: q.price for s, q in batch.quotes.items()} == {
        "OCDO.L": Decimal("308.8"),
        "ORSTED.CO": Decimal("299.7"),
    }
    assert yahoo.calls["quote"] == 1


def test_an_odd_previous_close_or_time_leaves_the_quote_priced(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    apple = yahoo.recorded("quote-AAPL.json")["quoteResponse"]["result"][0]
    apple["regularMarketPreviousClose"] = 1e20
    apple["regularMarketTime"] = 1e20
    apple["firstTradeDateMilliseconds"] = -1e30
    yahoo.set_quote("AAPL", apple)

    quote = adapter.quotes(["AAPL"]).quotes["AAPL"]

    assert (quote.price, quote.previous_close, quote.change_pct) == (Decimal("244.6"), None, None)
    assert (quote.market_time, quote.first_trade_date) == (None, None)


def test_empty_closes_are_left_out_and_counted(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    # Before: priced with 37 closes and nothing said about the other 12.
    wholly_null, close_null = [3, 4, 10, 11, 12, 20, 21, 30, 31, 40], [5, 44]
    yahoo.set_chart("AAPL", chart_with_empty_rows(yahoo, wholly_null, close_null))
    yahoo.set_chart("GOOG", yahoo.recorded(SPLIT_FILE))  # the same bars, none empty

    batch = adapter.history(["AAPL", "GOOG"], AUG_31, NOV_6)

    assert batch.failed == {}
    assert batch.dropped == {"AAPL": 12}
    assert len(batch.closes["AAPL"]) == 49 - 12
    assert len(batch.closes["GOOG"]) == 49
    assert set(batch.closes["AAPL"]) < set(batch.closes["GOOG"])
    assert batch.closes["AAPL"][AUG_31] == batch.closes["GOOG"][AUG_31]


def test_a_dividend_after_the_last_bar_is_no_empty_close(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    # yfinance gives a dividend dated after the last bar a row of its own, without prices.
    body = yahoo.recorded("chart-AAPL-2020-01-01-to-2020-01-03.json")
    friday = 1578061800  # 2020-01-03 09:30 New York
    body["chart"]["result"][0]["events"] = {
        "dividends": {str(friday): {"amount": 0.77, "date": friday}}
    }
    yahoo.set_chart("AAPL", body)

    batch = adapter.history(["AAPL"], JAN_1, JAN_3)

    assert batch.closes == {"AAPL": {JAN_2: Decimal("75.08750153")}}
    assert batch.dropped == {}


def test_a_series_of_empty_closes_only_is_no_data(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    btc = "chart-BTC-USD-2020-01-01-to-2020-01-03.json"
    yahoo.set_chart("BTC-USD", chart_with_empty_rows(yahoo, [0, 1], [2], name=btc))

    batch = adapter.history(["BTC-USD"], JAN_1, JAN_3)

    assert batch.failed == {"BTC-USD": port.NO_DATA}
    assert batch.details["BTC-USD"] == (
        "no close from 2020-01-01 to 2020-01-03: 3 row(s) came with an empty close"
    )
    assert batch.dropped == {}


def test_the_cache_passes_dropped_and_details_through_and_a_hit_has_none(
    yahoo: YahooReplay, adapter: YahooMarketData, redis_client: redis.Redis
) -> None:
    yahoo.set_chart("AAPL", chart_with_empty_rows(yahoo, [3, 4]))
    yahoo.set_chart("GOOG", chart_with_closes(yahoo, SPLIT_FILE, {2: 1e20}))
    adapter.name = f"test-{uuid.uuid4().hex}"  # a key namespace of this test's own
    cached = CachedMarketData(adapter, redis_client, ttl_s=600)
    try:
        first = cached.history(["AAPL", "GOOG"], AUG_31, NOV_6)
        again = cached.history(["AAPL", "GOOG"], AUG_31, NOV_6)
    finally:
        for key in redis_client.scan_iter(f"anka:md:{adapter.name}:*"):
            redis_client.delete(key)

    assert first.dropped == {"AAPL": 2}
    assert first.failed == {"GOOG": port.INVALID}
    assert first.details == {"GOOG": "close 1e+20 on 2020-09-02 is outside what prices can hold"}
    assert first.cache["AAPL"].status == "miss"
    assert again.cache["AAPL"].status == "hit"
    assert again.closes["AAPL"] == first.closes["AAPL"]
    assert again.dropped == {}  # the cache keeps closes and events only
    assert again.events == first.events  # AAPL's 4:1 split and dividend of the recording
    assert [e.kind for e in first.events["AAPL"]] == ["split", "dividend"]
    assert again.details == first.details  # GOOG failed again (nothing cached for it)


# -- 2. retries ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fault",
    [Fault.server_error(503), Fault.server_error(503, body="<html>Service Unavailable</html>")],
    ids=["503-json", "503-html"],
)
def test_a_5xx_is_retried_with_backoff_then_priced(
    yahoo: YahooReplay, adapter: YahooMarketData, clock: Clock, fault: Fault
) -> None:
    # Before: AAPL no_data (json) or malformed (html), OCDO.L no_data; 4 requests, no retry.
    yahoo.inject(fault, "chart", symbol="AAPL")  # its timezone lookup
    yahoo.inject(fault, "chart", symbol="OCDO.L", skip=1, times=2)  # its history request

    batch = adapter.history(["AAPL", "OCDO.L"], JAN_1, JAN_3)

    assert batch.failed == {}
    assert batch.closes == {"AAPL": {JAN_2: Decimal("75.08750153")}, **OCDO_CLOSE}
    # AAPL: 503, timezone, history; OCDO.L: timezone, 503, 503 (the timezone is kept by
    # then, so a retry is one request), history.
    assert symbols_asked(yahoo) == ["AAPL"] * 3 + ["OCDO.L"] * 4
    assert clock.requests_at_sleep == [1, 5, 6]
    assert 0 <= clock.sleeps[0] <= 0.5
    assert 0 <= clock.sleeps[2] <= 1


def test_a_persistent_5xx_is_tried_a_bounded_number_of_times(
    yahoo: YahooReplay, adapter: YahooMarketData, clock: Clock
) -> None:
    # Before: AAPL no_data after 1 request, nothing retried.
    yahoo.inject(Fault.server_error(502), "chart", symbol="AAPL", times=None)

    batch = adapter.history(["AAPL", "OCDO.L"], JAN_1, JAN_3)

    assert batch.failed == {"AAPL": port.UNAVAILABLE}
    assert batch.details["AAPL"] == f"HTTP 502, {ATTEMPTS} attempt(s)"
    assert batch.closes == OCDO_CLOSE
    assert symbols_asked(yahoo) == ["AAPL"] * ATTEMPTS + ["OCDO.L"] * 2
    assert len(clock.sleeps) == ATTEMPTS - 1


def test_a_rate_limit_mid_batch_pauses_everything_then_resumes_where_it_stopped(
    yahoo: YahooReplay,
    tmp_path: Path,
    clock: Clock,
    redis_client: redis.Redis,
    cooldown: CoolDown,
) -> None:
    # Before: OCDO.L rate_limited, the others priced, 7 requests, no pause (yf.download
    # only retried when every ticker of the chunk had failed).
    adapter = make_adapter(tmp_path, clock, cooldown)
    yahoo.inject(Fault.rate_limit(), "chart", symbol="OCDO.L", times=2)

    batch = adapter.history(["AAPL", "OCDO.L", "ORSTED.CO", "BTC-USD"], JAN_1, JAN_3)

    assert batch.failed == {}
    assert set(batch.closes) == {"AAPL", "OCDO.L", "ORSTED.CO", "BTC-USD"}
    assert batch.closes["BTC-USD"] == BTC_CLOSES
    # Nobody else is asked while paused: OCDO.L is asked again after each pause, and the
    # fetch goes on from there (AAPL, already priced, is not asked again).
    assert symbols_asked(yahoo) == [
        *["AAPL"] * 2,
        *["OCDO.L"] * 4,
        *["ORSTED.CO"] * 2,
        *["BTC-USD"] * 2,
    ]
    assert clock.requests_at_sleep == [3, 4]
    assert 5 <= clock.sleeps[0] <= 10
    assert 10 <= clock.sleeps[1] <= 15
    assert redis_client.exists(cooldown.COUNTER, cooldown.FLAG) == 0  # it went through


def test_a_rate_limit_storm_asks_a_bounded_number_of_times(
    yahoo: YahooReplay,
    tmp_path: Path,
    clock: Clock,
    redis_client: redis.Redis,
    cooldown: CoolDown,
) -> None:
    # Before: 150 tickers x 3 attempts = 450 requests (600 at the default 4 attempts), all
    # rate_limited.
    adapter = make_adapter(tmp_path, clock, cooldown)
    symbols = ["AAPL", "OCDO.L"] + [f"ZZ{i:03d}" for i in range(148)]
    yahoo.inject(Fault.rate_limit(), "chart", times=None)

    batch = adapter.history(symbols, JAN_1, JAN_3)

    assert yahoo.calls["chart"] == PAUSES + 1  # AAPL, then again after each pause
    assert symbols_asked(yahoo) == ["AAPL"] * (PAUSES + 1)
    assert len(clock.sleeps) == PAUSES
    assert batch.closes == {}
    assert batch.failed == {
        "AAPL": port.RATE_LIMITED,
        **dict.fromkeys(symbols[1:], port.NOT_FETCHED),
    }
    assert batch.details["AAPL"] == "Yahoo refused it (HTTP 429) after 3 pause(s) of this fetch"
    assert batch.details["ZZ147"] == "not asked: Yahoo kept refusing (HTTP 429) at AAPL"
    assert int(redis_client.get(cooldown.COUNTER) or 0) == 1  # one rate-limited fetch

    # A second storm starts the shared cool-down (threshold 2); the third fetch asks nothing.
    adapter.history(symbols, JAN_1, JAN_3)
    assert redis_client.exists(cooldown.FLAG) == 1
    asked = yahoo.calls["chart"]
    third = adapter.history(symbols, JAN_1, JAN_3)
    assert yahoo.calls["chart"] == asked == 2 * (PAUSES + 1)
    assert third.failed == dict.fromkeys(symbols, port.RATE_LIMITED)


def test_no_pause_runs_past_the_deadline(yahoo: YahooReplay, tmp_path: Path, clock: Clock) -> None:
    adapter = make_adapter(tmp_path, clock, deadline_s=12, pause_base_s=5)
    yahoo.inject(Fault.rate_limit(), "chart", times=None)

    batch = adapter.history(["AAPL", "OCDO.L"], JAN_1, JAN_3)

    # One pause of 5-10 s fits in 12 s; the second (10-15 s) would end past the deadline.
    assert yahoo.calls["chart"] == 2
    assert len(clock.sleeps) == 1
    assert batch.failed == {"AAPL": port.RATE_LIMITED, "OCDO.L": port.NOT_FETCHED}


def test_hanging_requests_stop_at_the_deadline(
    yahoo: YahooReplay, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yahoo_history, "OUTAGE_STREAK", 1000)  # the deadline alone here
    # Before: each of the 20 tickers hung its whole 10 s timeout, all 20 then retried as a
    # chunk: 60 requests and 600 s (at the default 4 attempts and 20 s budget, checked only
    # between attempts: 200 s for 20 tickers, ~25 minutes for 150).
    adapter = make_adapter(tmp_path, clock, deadline_s=180)
    symbols = [f"ZZ{i:02d}" for i in range(20)]
    yahoo.inject(Fault.hang(60), "chart", times=None)
    started = clock.now

    batch = adapter.history(symbols, JAN_1, JAN_3)

    # Each ticker gets its 20 s share: two 10 s timeouts (and a back-off of at most 0.5 s).
    # The 9th starts at 160-164.5 s; its second attempt gets the time left, not 10 s.
    assert clock.now - started == pytest.approx(180)
    assert yahoo.calls["chart"] == 18
    timeouts = [r.timeout for r in yahoo.requests]
    assert timeouts[:-1] == [TIMEOUT_S] * 17
    assert 5 < (timeouts[-1] or 0) < TIMEOUT_S
    assert batch.failed == {
        **dict.fromkeys(symbols[:9], port.UNAVAILABLE),
        **dict.fromkeys(symbols[9:], port.NOT_FETCHED),
    }
    assert batch.details["ZZ00"] == "no answer (timeout or connection error), 2 attempt(s)"
    assert batch.details["ZZ19"] == "not asked: the 180 s deadline of this history fetch passed"


def test_an_outage_of_instant_5xx_stops_at_the_deadline_too(
    yahoo: YahooReplay, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yahoo_history, "OUTAGE_STREAK", 1000)  # the deadline alone here
    # Before: 150 requests, one a ticker, all no_data. Failing at once, a 5xx costs no time:
    # only the back-offs bring the deadline near; the ticker whose retries it cuts short is
    # the last one asked (the rest would each get a single hurried attempt).
    adapter = make_adapter(tmp_path, clock, deadline_s=30)
    symbols = [f"ZZ{i:03d}" for i in range(150)]
    yahoo.inject(Fault.server_error(503), "chart", times=None)
    started = clock.now

    batch = adapter.history(symbols, JAN_1, JAN_3)

    asked = list(dict.fromkeys(symbols_asked(yahoo)))
    per_ticker = [symbols_asked(yahoo).count(s) for s in asked]
    assert asked == symbols[: len(asked)]
    assert 19 <= len(asked) < 150  # each ticker takes at most 0.5 + 1 s of back-off
    assert per_ticker[:-1] == [ATTEMPTS] * (len(asked) - 1)
    assert clock.now - started <= 30 - 1  # no request starts with less than a second left
    assert batch.failed == {
        **dict.fromkeys(asked, port.UNAVAILABLE),
        **dict.fromkeys(symbols[len(asked) :], port.NOT_FETCHED),
    }


@pytest.mark.parametrize("fault", [Fault.server_error(503), Fault.hang(60)], ids=["5xx", "hang"])
def test_an_outage_stops_the_fetch_after_three_tickers_in_a_row(
    yahoo: YahooReplay, tmp_path: Path, clock: Clock, fault: Fault
) -> None:
    # Before: every one of the 150 tickers spent its retries: 450 requests for a 5xx
    # outage, and 18 requests and the whole 180 s deadline when every request hangs.
    adapter = make_adapter(tmp_path, clock, deadline_s=180)
    symbols = [f"ZZ{i:03d}" for i in range(150)]
    yahoo.inject(fault, "chart", times=None)
    started = clock.now

    batch = adapter.history(symbols, JAN_1, JAN_3)

    # 3 tickers x 3 attempts for a 5xx (back-offs only: a few seconds); a hang costs two
    # 10 s timeouts a ticker (its 20 s share): 6 requests and about 60 s.
    hang = fault.kind == "hang"
    assert yahoo.calls["chart"] == (6 if hang else 9)
    elapsed = clock.now - started
    assert (60 <= elapsed <= 62) if hang else (elapsed < 10)
    assert list(dict.fromkeys(symbols_asked(yahoo))) == symbols[:3]
    assert batch.failed == {
        **dict.fromkeys(symbols[:3], port.UNAVAILABLE),
        **dict.fromkeys(symbols[3:], port.NOT_FETCHED),
    }
    assert batch.details["ZZ149"] == (
        "not asked: Yahoo did not answer for 3 tickers in a row (an outage)"
    )


def test_a_ticker_answered_between_failures_keeps_the_fetch_going(
    yahoo: YahooReplay, adapter: YahooMarketData, clock: Clock
) -> None:
    for symbol in ("ZZ1", "ZZ2", "ZZ4", "ZZ5"):
        yahoo.inject(Fault.server_error(503), "chart", symbol=symbol, times=None)

    batch = adapter.history(["ZZ1", "ZZ2", "AAPL", "ZZ4", "ZZ5", "OCDO.L"], JAN_1, JAN_3)

    assert set(batch.closes) == {"AAPL", "OCDO.L"}
    assert set(batch.failed.values()) == {port.UNAVAILABLE}


def test_a_slow_answer_within_the_timeout_is_priced(
    yahoo: YahooReplay, adapter: YahooMarketData, clock: Clock
) -> None:
    yahoo.inject(Fault.hang(3), "chart", times=None)

    batch = adapter.history(["AAPL", "OCDO.L"], JAN_1, JAN_3)

    assert batch.failed == {}
    assert set(batch.closes) == {"AAPL", "OCDO.L"}
    assert clock.now - 1000.0 == pytest.approx(12)  # 4 requests of 3 s each
    assert clock.sleeps == []


# -- 3. the cool-down with Redis unreachable ---------------------------------------------------
def test_the_cooldown_pauses_in_process_when_redis_is_unreachable(
    yahoo: YahooReplay, tmp_path: Path, clock: Clock
) -> None:
    # Before: with Redis down the cool-down was off: the third call asked Yahoo again.
    unreachable = unreachable_redis()
    guard = CoolDown(unreachable, threshold=2, window_s=120, pause_s=30, clock=clock)
    adapter = make_adapter(tmp_path, clock, guard)
    yahoo.inject(Fault.rate_limit(), "quote", times=None)

    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}
    assert guard.remaining_s() == 0  # one rate limit: below the threshold
    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}
    assert guard.remaining_s() == 30
    asked, waits = yahoo.calls["quote"], len(clock.sleeps)
    assert asked == 2 * ATTEMPTS

    yahoo.clear_faults()  # Yahoo would answer, but this process is pausing
    assert adapter.quotes(["AAPL"]).failed == {"AAPL": port.RATE_LIMITED}
    assert adapter.history(["AAPL"], JAN_1, JAN_3).failed == {"AAPL": port.RATE_LIMITED}
    with pytest.raises(RateLimited):
        adapter.search("AAPL")
    assert yahoo.calls == {"quote": asked}
    assert len(clock.sleeps) == waits

    clock.advance(29)
    assert guard.remaining_s() == 1
    clock.advance(1)
    assert adapter.quotes(["AAPL"]).quotes["AAPL"].price == Decimal("244.6")
    assert yahoo.calls["quote"] == asked + 1


def test_a_history_storm_with_redis_unreachable_starts_the_in_process_pause(
    yahoo: YahooReplay, tmp_path: Path, clock: Clock
) -> None:
    unreachable = unreachable_redis()
    guard = CoolDown(unreachable, threshold=1, pause_s=60, clock=clock)
    adapter = make_adapter(tmp_path, clock, guard)
    yahoo.inject(Fault.rate_limit(), "chart", times=None)

    adapter.history(["AAPL", "OCDO.L"], JAN_1, JAN_3)
    asked = yahoo.calls["chart"]
    again = adapter.history(["AAPL", "OCDO.L"], JAN_1, JAN_3)

    assert asked == PAUSES + 1
    assert yahoo.calls["chart"] == asked  # the second fetch asked nothing
    assert again.failed == dict.fromkeys(["AAPL", "OCDO.L"], port.RATE_LIMITED)
    assert again.details["AAPL"].startswith("not asked: Yahoo cool-down")
