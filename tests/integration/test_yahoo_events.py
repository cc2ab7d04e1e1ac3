"""Splits and dividends through the Yahoo adapter, and closes as traded.

Every request goes through ``tests.yahoo_replay``. The values are hand-copied from
``tests/fixtures/yahoo/chart-AAPL-2020-08-31-to-2020-11-07.json``: 49 daily AAPL bars from
2020-08-31 to 2020-11-06, fetched on 2025-02-20 (no AAPL split since 2020, so its closes are
as traded), with ``events.splits`` holding Apple's 4:1 split (date 1598880600, 2020-08-31
09:30 New York, numerator 4, denominator 1) and ``events.dividends`` a dividend of 0.205
(date 1604673000, 2020-11-06 09:30 New York). Raw closes used below, row by row: 0
(2020-08-31) 129.0399932861328, 4 (2020-09-04) 120.95999908447266, 5 (2020-09-08)
112.81999969482422, 48 (2020-11-06) 118.69000244140625. A split elsewhere is a modified
copy of that recording answered with ``set_chart``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.market import port
from core.market.port import AssetEvent
from core.market.yahoo import YahooMarketData
from tests.yahoo_replay import YahooReplay, yahoo_replay

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

SPLIT_FILE = "chart-AAPL-2020-08-31-to-2020-11-07.json"
AUG_31, SEP_4, SEP_8, NOV_6 = (
    date(2020, 8, 31),
    date(2020, 9, 4),
    date(2020, 9, 8),
    date(2020, 11, 6),
)
JAN_1, JAN_2, JAN_3 = date(2020, 1, 1), date(2020, 1, 2), date(2020, 1, 3)
# 09:30 New York on 2020-09-04 (a Friday), 2020-09-08 (the Tuesday after Labor Day) and
# 2024-06-10 (a Monday, long after the recording's last bar).
SEP_4_OPEN, SEP_8_OPEN, JUN_10_2024_OPEN = 1599226200, 1599571800, 1718026200
RECORDED_SPLIT = AssetEvent("split", AUG_31, Decimal("4"), None)
RECORDED_DIVIDEND = AssetEvent("dividend", NOV_6, None, Decimal("0.205"))


@pytest.fixture
def yahoo(tmp_path: Path) -> Iterator[YahooReplay]:
    """Yahoo answered from the recordings; AAPL from the split recording."""
    with yahoo_replay(tmp_path / "replay") as replay:
        replay.set_chart("AAPL", replay.recorded(SPLIT_FILE))
        yield replay


@pytest.fixture
def adapter(tmp_path: Path) -> YahooMarketData:
    return YahooMarketData(cache_dir=tmp_path / "yfinance", sleep=lambda _s: None)


def split(timestamp: int, numerator: int, denominator: int) -> dict[str, Any]:
    """One entry of a chart answer's ``events.splits``, as Yahoo writes it."""
    ratio = f"{numerator}:{denominator}"
    return {
        "date": timestamp,
        "numerator": numerator,
        "denominator": denominator,
        "splitRatio": ratio,
    }


def with_events(
    yahoo: YahooReplay,
    splits: list[dict[str, Any]],
    dividends: dict[int, float] | None = None,
    *,
    keep_dividend: bool = True,
) -> Any:
    """The split recording with ``splits`` in place of its own split, plus ``dividends``
    (timestamp -> amount), keeping its 2020-11-06 dividend unless told not to."""
    body = yahoo.recorded(SPLIT_FILE)
    events = body["chart"]["result"][0]["events"]
    events["splits"] = {str(s["date"]): s for s in splits}
    if not keep_dividend:
        events["dividends"] = {}
    for stamp, amount in (dividends or {}).items():
        events["dividends"][str(stamp)] = {"amount": amount, "date": stamp}
    return body


# -- the recording as it is ------------------------------------------------------------------
def test_the_recorded_split_and_dividend_are_events(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    batch = adapter.history(["AAPL"], AUG_31, NOV_6)

    assert batch.failed == {}
    assert batch.events == {"AAPL": [RECORDED_SPLIT, RECORDED_DIVIDEND]}
    assert batch.dropped == {}


def test_closes_on_and_after_the_split_are_unchanged(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    # The split is on the first bar: the close of its ex-date is already post-split.
    closes = adapter.history(["AAPL"], AUG_31, NOV_6).closes["AAPL"]

    assert len(closes) == 49
    assert closes[AUG_31] == Decimal("129.03999329")
    assert closes[SEP_4] == Decimal("120.95999908")
    assert closes[SEP_8] == Decimal("112.81999969")
    assert closes[NOV_6] == Decimal("118.69000244")


def test_one_chart_request_carries_closes_and_events_through_the_fetch_day(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    before = time.time()

    adapter.history(["AAPL"], AUG_31, SEP_4)
    adapter.history(["AAPL"], AUG_31, SEP_4)

    # The timezone lookup once (then yfinance's tz cache), one history request per fetch.
    lookup, *history = yahoo.requests_to("chart")
    assert lookup.params == {"range": "1d", "interval": "1d"}
    assert len(history) == 2
    for request in history:
        assert request.params["events"].split(",")[:2] == ["div", "splits"]
        assert request.params["period1"] == 1598846400  # 2020-08-31 00:00 New York
        # Not the asked end (2020-09-05 would be 1599278400): the fetch day itself.
        assert request.params["period2"] >= int(before)


# -- a split the recording does not have ---------------------------------------------------
def test_closes_before_a_split_are_multiplied_by_its_ratio(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    # The 4:1 moved to 2020-09-08, and a pre-split dividend of 0.205 (split-adjusted, as
    # Yahoo gives it) on 2020-09-04: 0.82 as paid, AAPL's real dividend of August 2020.
    body = with_events(yahoo, [split(SEP_8_OPEN, 4, 1)], {SEP_4_OPEN: 0.205})
    yahoo.set_chart("AAPL", body)

    batch = adapter.history(["AAPL"], AUG_31, NOV_6)

    closes = batch.closes["AAPL"]
    assert closes[AUG_31] == Decimal("516.15997314")  # 129.0399932861328 x 4
    assert closes[SEP_4] == Decimal("483.83999634")  # 120.95999908447266 x 4
    assert closes[SEP_8] == Decimal("112.81999969")  # the ex-date: post-split already
    assert closes[NOV_6] == Decimal("118.69000244")
    assert batch.events["AAPL"] == [
        AssetEvent("dividend", SEP_4, None, Decimal("0.82")),
        AssetEvent("split", SEP_8, Decimal("4"), None),
        RECORDED_DIVIDEND,
    ]
    # A holder's value does not jump: 1 share before, 4 after, worth the day's move apart
    # (-6.7 %, AAPL's real fall on 2020-09-08), not a fourfold one.
    assert float(4 * closes[SEP_8] / closes[SEP_4]) == pytest.approx(0.9327, abs=1e-4)


def test_a_split_after_the_asked_range_still_undoes_the_adjustment(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    yahoo.set_chart("AAPL", with_events(yahoo, [split(SEP_8_OPEN, 4, 1)]))

    batch = adapter.history(["AAPL"], AUG_31, SEP_4)

    assert batch.failed == {}
    assert batch.closes["AAPL"][AUG_31] == Decimal("516.15997314")
    assert batch.closes["AAPL"][SEP_4] == Decimal("483.83999634")
    assert len(batch.closes["AAPL"]) == 5
    assert batch.events == {}  # the split and the dividend fall after the range


def test_a_split_years_after_the_last_bar_counts_and_is_no_empty_close(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    # yfinance gives a split after the last bar a row of its own, without prices.
    splits = [split(1598880600, 4, 1), split(JUN_10_2024_OPEN, 10, 1)]
    yahoo.set_chart("AAPL", with_events(yahoo, splits))

    batch = adapter.history(["AAPL"], AUG_31, NOV_6)

    assert batch.failed == {}
    assert batch.dropped == {}
    assert len(batch.closes["AAPL"]) == 49
    assert batch.closes["AAPL"][AUG_31] == Decimal("1290.39993286")  # x 10
    assert batch.closes["AAPL"][NOV_6] == Decimal("1186.90002441")
    assert batch.events == {
        "AAPL": [RECORDED_SPLIT, AssetEvent("dividend", NOV_6, None, Decimal("2.05"))]
    }


@pytest.mark.parametrize(
    ("numerator", "denominator", "ratio", "before"),
    [
        (1, 10, Decimal("0.1"), Decimal("12.90399933")),  # a 10-into-1 grupamento
        (3, 2, Decimal("1.5"), Decimal("193.55998993")),
        (1, 3, Decimal(1) / Decimal(3), Decimal("43.01333110")),  # 1/3, not 0.3333333333333333
    ],
    ids=["1:10", "3:2", "1:3"],
)
def test_split_ratios_are_yahoos_numerator_over_denominator(
    yahoo: YahooReplay,
    adapter: YahooMarketData,
    numerator: int,
    denominator: int,
    ratio: Decimal,
    before: Decimal,
) -> None:
    body = with_events(yahoo, [split(SEP_8_OPEN, numerator, denominator)], keep_dividend=False)
    yahoo.set_chart("AAPL", body)

    batch = adapter.history(["AAPL"], AUG_31, SEP_8)

    assert batch.events == {"AAPL": [AssetEvent("split", SEP_8, ratio, None)]}
    assert batch.closes["AAPL"][AUG_31] == before  # 129.0399932861328 x ratio
    assert batch.closes["AAPL"][SEP_8] == Decimal("112.81999969")


def test_a_range_without_events_has_none_and_closes_unchanged(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    yahoo.set_chart("AAPL", yahoo.recorded("chart-AAPL-2020-01-01-to-2020-01-03.json"))

    batch = adapter.history(["AAPL", "BTC-USD"], JAN_1, JAN_3)

    assert batch.events == {}
    assert batch.closes["AAPL"] == {JAN_2: Decimal("75.08750153")}  # 75.0875015258789
    assert batch.closes["BTC-USD"][JAN_1] == Decimal("7200.17431641")


@pytest.mark.parametrize(
    ("splits", "dividends", "detail"),
    [
        ([split(SEP_8_OPEN, 4, 0)], {}, "split ratio inf on 2020-09-08"),
        ([split(SEP_8_OPEN, -4, 1)], {}, "split ratio -4 on 2020-09-08"),
        ([], {SEP_4_OPEN: -0.5}, "dividend -0.5 on 2020-09-04"),
    ],
    ids=["denominator-0", "negative-split", "negative-dividend"],
)
def test_an_impossible_event_fails_that_ticker_only(
    yahoo: YahooReplay,
    adapter: YahooMarketData,
    splits: list[dict[str, Any]],
    dividends: dict[int, float],
    detail: str,
) -> None:
    yahoo.set_chart("AAPL", with_events(yahoo, splits, dividends))
    yahoo.set_chart("GOOG", yahoo.recorded(SPLIT_FILE))  # the same bars, the real events

    batch = adapter.history(["AAPL", "GOOG"], AUG_31, NOV_6)

    assert batch.failed == {"AAPL": port.MALFORMED}
    assert batch.details["AAPL"] == f"{detail} is no such event"
    assert "AAPL" not in batch.closes
    assert "AAPL" not in batch.events
    assert set(batch.closes) == {"GOOG"}
    assert batch.events == {"GOOG": [RECORDED_SPLIT, RECORDED_DIVIDEND]}


def test_a_close_no_price_can_be_once_as_traded_fails_the_ticker(
    yahoo: YahooReplay, adapter: YahooMarketData
) -> None:
    # 129.04 x 10^10 is beyond what prices.close holds, though Yahoo's value is not.
    yahoo.set_chart("AAPL", with_events(yahoo, [split(SEP_8_OPEN, 10**10, 1)]))

    batch = adapter.history(["AAPL"], AUG_31, NOV_6)

    assert batch.failed == {"AAPL": port.INVALID}
    assert batch.details["AAPL"] == (
        "close 1.2904e+12 on 2020-08-31 is outside what prices can hold (4 more such close(s))"
    )
