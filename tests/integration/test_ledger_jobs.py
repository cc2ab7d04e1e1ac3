"""Splits and dividends from Yahoo through the real adapter and the real jobs (issue 12).

Yahoo answers from ``tests/fixtures/yahoo/chart-AAPL-2020-08-31-to-2020-11-07.json``
(through ``tests.yahoo_replay``): AAPL's 4-for-1 split on 2020-08-31, its first bar, and a
0.205 dividend on 2020-11-06. "A split on 2020-09-08" is a modified copy of that recording,
as Yahoo would answer after such a split (every earlier close divided by 4), and "before
the split arrived" the copy Yahoo would have answered on 2020-09-04 (closes as traded, no
split yet). AAPL is stored without a currency here (valued 1:1), so the figures are the
recording's own numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.market.yahoo import YahooMarketData
from core.models import JobStatus
from core.services import closing
from core.services.clients import create_client
from core.services.principal import SYSTEM, Principal
from tests.integration.test_closing_jobs import new_uow, rows
from tests.yahoo_replay import YahooReplay, yahoo_replay

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

D = Decimal
SPLIT_FILE = "chart-AAPL-2020-08-31-to-2020-11-07.json"
AUG_31, SEP_1, SEP_4, SEP_8, NOV_5, NOV_6 = (
    date(2020, 8, 31),
    date(2020, 9, 1),
    date(2020, 9, 4),
    date(2020, 9, 8),
    date(2020, 11, 5),
    date(2020, 11, 6),
)
SEP_8_OPEN = 1599571800  # 09:30 New York


@pytest.fixture
def yahoo(tmp_path: Path) -> Iterator[YahooReplay]:
    with yahoo_replay(tmp_path / "replay") as replay:
        yield replay


@pytest.fixture
def market(tmp_path: Path) -> YahooMarketData:
    return YahooMarketData(cache_dir=tmp_path / "yf", sleep=lambda _s: None)


@pytest.fixture
def holder(committed_engine: Engine, admin: Principal) -> int:
    client = create_client(new_uow(committed_engine), admin, {"name": "Ana", "email": "a@x.com"})
    with committed_engine.begin() as conn:
        conn.execute(text("INSERT INTO assets (symbol, name) VALUES ('AAPL', 'Apple Inc.')"))
    return client.id


def buy(engine: Engine, client_id: int, quantity: str, price: str, day: date) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO movements (client_id, asset_id, kind, quantity, price, date) "
                "SELECT :c, id, 'buy', :q, :p, :d FROM assets WHERE symbol = 'AAPL'"
            ),
            {"c": client_id, "q": quantity, "p": price, "d": day},
        )


def series(engine: Engine) -> dict[date, tuple[Any, ...]]:
    """date -> (market value, flow in, flow out, income, daily return)."""
    found = rows(
        engine,
        "SELECT date, market_value, flow_in, flow_out, income, daily_return "
        "FROM daily_returns ORDER BY date",
    )
    return {r[0]: r[1:] for r in found}


def close_on(engine: Engine, day: date) -> Decimal:
    return rows(engine, "SELECT close FROM prices WHERE date = :d", d=day)[0][0]


def split_on_sep_8(yahoo: YahooReplay, *, arrived: bool) -> Any:
    """The recording as Yahoo would answer with the split on 2020-09-08: after it arrived
    (closes before it divided by 4, the split event) or before (closes as traded up to
    2020-09-04, no split)."""
    body = yahoo.recorded(SPLIT_FILE)
    result = body["chart"]["result"][0]
    quote = result["indicators"]["quote"][0]
    stamps = result["timestamp"]
    first_after = stamps.index(SEP_8_OPEN)
    for key in ("open", "high", "low", "close"):
        values = quote[key]
        for i in range(first_after):
            values[i] = values[i] * 4 if not arrived else values[i]
    adjclose = result["indicators"]["adjclose"][0]["adjclose"]
    for i in range(first_after):
        adjclose[i] = adjclose[i] * 4 if not arrived else adjclose[i]
    if arrived:
        # The recorded closes before 09-08 then read as Yahoo's adjusted ones (divided by
        # 4); the split moves to 09-08.
        result["events"]["splits"] = {
            str(SEP_8_OPEN): {
                "date": SEP_8_OPEN,
                "numerator": 4,
                "denominator": 1,
                "splitRatio": "4:1",
            }
        }
    else:
        result["events"] = {}
        result["timestamp"] = stamps[:first_after]
        for key in quote:
            quote[key] = quote[key][:first_after]
        result["indicators"]["adjclose"][0]["adjclose"] = adjclose[:first_after]
    return body


def test_the_recorded_split_and_dividend_reach_the_events_and_the_figures(
    committed_engine: Engine, yahoo: YahooReplay, market: YahooMarketData, holder: int
) -> None:
    yahoo.set_chart("AAPL", yahoo.recorded(SPLIT_FILE))
    buy(committed_engine, holder, "40", "129.04", AUG_31)

    report = closing.backfill(committed_engine, market, AUG_31, NOV_6, actor=SYSTEM)

    assert report.status == JobStatus.SUCCESS
    assert report.events == {"dividend": 1, "split": 1}
    events = rows(
        committed_engine,
        "SELECT kind, ex_date, ratio, value, source FROM asset_events ORDER BY ex_date",
    )
    assert events == [
        ("split", AUG_31, D(4), D(0), "yahoo"),
        ("dividend", NOV_6, D(0), D("0.205"), "yahoo"),
    ]
    figures = series(committed_engine)
    # 2020-11-06: 40 x 0.205 = 8.20 of income, money out at the end of the day:
    # r = (40 x 118.69000244 + 8.20) / (40 x close of 11-05) - 1
    value, flow_in, flow_out, income, daily = figures[NOV_6]
    assert (value, flow_in, flow_out, income) == (D("4747.60009760"), 0, D("8.2"), D("8.2"))
    expected = (D("4747.60009760") + D("8.2")) / (40 * close_on(committed_engine, NOV_5)) - 1
    assert daily == pytest.approx(expected, abs=D("1E-11"))
    # The split on the buy day changes nothing: 40 shares bought in post-split units.
    assert figures[AUG_31][0] == D("5161.59973160")  # 40 x 129.03999329
    # A second run re-stores nothing.
    again = closing.daily_close(committed_engine, market, NOV_6, actor=SYSTEM)
    assert again.events == {}


def test_across_a_split_nothing_jumps_and_the_figures_before_it_arrived_stay(
    committed_engine: Engine, yahoo: YahooReplay, market: YahooMarketData, holder: int
) -> None:
    # NVDA-style: 10 shares bought on 09-01 at the price as traded then (4 x 131.39999390,
    # the recorded close divided by 4 by the later split), split 4-for-1 on 09-08.
    yahoo.set_chart("AAPL", split_on_sep_8(yahoo, arrived=False))
    buy(committed_engine, holder, "10", "525.59997560", SEP_1)
    first = closing.backfill(committed_engine, market, AUG_31, SEP_4, actor=SYSTEM)
    before = series(committed_engine)

    yahoo.set_chart("AAPL", split_on_sep_8(yahoo, arrived=True))
    later = closing.backfill(committed_engine, market, AUG_31, NOV_6, actor=SYSTEM)
    after = series(committed_engine)

    assert (first.status, later.status) == (JobStatus.SUCCESS, JobStatus.SUCCESS)
    assert later.events == {"dividend": 1, "split": 1}
    assert {day: after[day] for day in before} == before  # identical through 09-04
    # 09-08: 40 shares at 112.81999969 against 10 at 4 x 120.95999908 on 09-04 (09-07 is a
    # B3 holiday): the stock's own move, -6.73 %, not -76.7 %.
    assert after[SEP_8][0] == D("4512.79998760")
    assert after[SEP_8][4] == pytest.approx(
        D("112.81999969") / D("120.95999908") - 1, abs=D("1E-9")
    )
    # The lot's true return at 11-06, as its IRR and accumulated return see it:
    # 40 x 118.69000244 + 8.20 of income against 5255.9997560 paid.
    accumulated = rows(
        committed_engine,
        "SELECT accumulated_return FROM portfolio_metrics WHERE as_of = :d",
        d=NOV_6,
    )[0][0]
    paid = D("5255.9997560")
    assert accumulated == pytest.approx((D("4747.60009760") + D("8.2")) / paid - 1, abs=1e-9)
    assert accumulated > D("-0.1")  # without the split: about -77 %
