"""Client portfolio series, TWR and IRR (core.analytics.returns) against hand-checked tables.

Every expected figure is worked out by hand in the comments from docs/metrics.md:
MV_t = sum q * C_t over lots held; F_t = sum q * p0 over lots joining on t;
r_t = MV_t / (MV_{t-1} + F_t) - 1 (0 where the denominator is 0); TWR = prod(1 + r_t) - 1.
Figures are float64, so "exact" means within 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import calendars
from core.analytics.metrics import client_metrics, irr
from core.analytics.returns import (
    Book,
    SeriesState,
    book_from_lots,
    carried_closes,
    carried_closes_and_days,
    portfolio_series,
)

EXACT = 1e-12
LOT_COLUMNS = ["client_id", "asset_id", "quantity", "buy_price", "buy_date"]
CLOSE_COLUMNS = ["asset_id", "date", "close"]
SERIES_COLUMNS = ["market_value", "net_flow", "daily_return", "cumulative_twr"]


def nov(day: int) -> date:
    return date(2026, 11, day)


def lots(*rows: tuple[int, int, float, float, date]) -> pd.DataFrame:
    """(client_id, asset_id, quantity, buy_price, buy_date) per lot."""
    return pd.DataFrame(list(rows), columns=LOT_COLUMNS)


def closes(*rows: tuple[int, date, float]) -> pd.DataFrame:
    """(asset_id, date, close) per known close."""
    return pd.DataFrame(list(rows), columns=CLOSE_COLUMNS)


def series(
    lot_rows: pd.DataFrame, close_rows: pd.DataFrame, days: Sequence[date]
) -> tuple[pd.DataFrame, SeriesState, Book]:
    """The one-shot series of a book over ``days``, from nothing, as the scheduler runs it."""
    book = book_from_lots(lot_rows)
    matrix, close_days = carried_closes_and_days(close_rows, days, book.asset_ids)
    columns, state = portfolio_series(
        book, matrix, days, SeriesState.empty(book), close_days=close_days
    )
    return pd.DataFrame(columns), state, book


def rows_of(frame: pd.DataFrame, client_id: int) -> list[tuple[date, float, float, float, float]]:
    mine = frame[frame["client_id"] == client_id]
    return [
        (r.date, r.market_value, r.net_flow, r.daily_return, r.cumulative_twr)
        for r in mine.itertuples()
    ]


def assert_rows(
    actual: list[tuple[date, float, float, float, float]],
    expected: list[tuple[date, float, float, float, float]],
) -> None:
    assert [row[0] for row in actual] == [row[0] for row in expected]
    for got, want in zip(actual, expected, strict=True):
        assert got[1:] == pytest.approx(want[1:], rel=0, abs=EXACT), got[0]


def undefined(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def npv_at(rate: float, dates: Sequence[date], amounts: Sequence[float]) -> float:
    """sum CF_i / (1 + r)^((d_i - d_0) / 365): zero at the IRR."""
    return sum(
        a / (1 + rate) ** ((d - dates[0]).days / 365) for d, a in zip(dates, amounts, strict=True)
    )


# -- hand-checked tables --------------------------------------------------------------------
def test_a_lot_bought_on_a_holiday_joins_on_the_next_session_with_its_flow() -> None:
    # 2026-11-20 (Consciência Negra) is a B3 holiday, 21-22 a weekend.
    days = calendars.sessions(nov(19), nov(24))
    assert days == [nov(19), nov(23), nov(24)]
    frame, state, _ = series(
        lots((1, 1, 10, 20.0, nov(19)), (1, 2, 5, 40.0, nov(20))),
        closes(
            (1, nov(19), 21.0),
            (1, nov(23), 22.0),
            (1, nov(24), 20.0),
            (2, nov(23), 42.0),
            (2, nov(24), 44.0),
        ),
        days,
    )
    # 19: MV = 10*21 = 210, F = 10*20 = 200, r = 210/200 - 1 = 0.05, growth 1.05
    # 23: MV = 10*22 + 5*42 = 430, F = 5*40 = 200 (the holiday lot joins here),
    #     r = 430/(210 + 200) - 1 = 20/410, growth = 1.05 * 430/410
    # 24: MV = 10*20 + 5*44 = 420, F = 0, r = 420/430 - 1 = -10/430,
    #     growth = 1.05 * 430/410 * 420/430 = 1.05 * 420/410 = 441/410
    assert_rows(
        rows_of(frame, 1),
        [
            (nov(19), 210.0, 200.0, 0.05, 0.05),
            (nov(23), 430.0, 200.0, 20 / 410, 1.05 * 430 / 410 - 1),
            (nov(24), 420.0, 0.0, -10 / 430, 441 / 410 - 1),
        ],
    )
    assert state.last_day == nov(24)
    assert state.market_value.tolist() == pytest.approx([420.0], abs=EXACT)


def test_a_lot_bought_on_a_weekend_before_the_first_session_of_the_series() -> None:
    # Bought Saturday 21st; the series starts on Monday 23rd (nothing held before).
    frame, _, _ = series(
        lots((4, 1, 3, 10.0, nov(21))),
        closes((1, nov(20), 9.0), (1, nov(23), 11.0)),
        [nov(19), nov(23)],
    )
    # 19: not held yet -> no row. 23: MV = 3*11 = 33, F = 30, r = 33/30 - 1 = 0.1
    assert_rows(rows_of(frame, 4), [(nov(23), 33.0, 30.0, 0.1, 0.1)])


def test_several_lots_of_one_ticker_bought_on_different_dates() -> None:
    days = [nov(23), nov(24), nov(25), nov(26)]
    frame, state, book = series(
        lots((7, 1, 10, 10.0, nov(23)), (7, 1, 20, 12.0, nov(25))),
        closes((1, nov(23), 11.0), (1, nov(24), 12.0), (1, nov(25), 13.0), (1, nov(26), 12.0)),
        days,
    )
    # 23: MV = 10*11 = 110, F = 100, r = 0.1, growth 1.1
    # 24: MV = 10*12 = 120, F = 0, r = 120/110 - 1 = 1/11, growth 1.1 * 12/11 = 1.2
    # 25: MV = 30*13 = 390, F = 20*12 = 240, r = 390/(120 + 240) - 1 = 1/12, growth 1.3
    # 26: MV = 30*12 = 360, F = 0, r = 360/390 - 1 = -1/13, growth 1.2
    assert_rows(
        rows_of(frame, 7),
        [
            (nov(23), 110.0, 100.0, 0.1, 0.1),
            (nov(24), 120.0, 0.0, 1 / 11, 0.2),
            (nov(25), 390.0, 240.0, 1 / 12, 0.3),
            (nov(26), 360.0, 0.0, -1 / 13, 0.2),
        ],
    )
    metrics = pd.DataFrame(client_metrics(book, state, nov(26))).iloc[0]
    # invested = 100 + 240 = 340; accumulated = 360/340 - 1 = 1/17; TWR = 0.2
    assert metrics["client_id"] == 7
    assert metrics["market_value"] == pytest.approx(360.0, abs=EXACT)
    assert metrics["invested"] == pytest.approx(340.0, abs=EXACT)
    assert metrics["accumulated_return"] == pytest.approx(1 / 17, abs=EXACT)
    assert metrics["twr"] == pytest.approx(0.2, abs=EXACT)
    # IRR of -100 on 23, -240 on 25, +360 on 26: the rate that zeroes the NPV.
    flows = ([nov(23), nov(25), nov(26)], [-100.0, -240.0, 360.0])
    assert metrics["irr"] is not None
    assert metrics["irr"] > 0
    assert npv_at(metrics["irr"], *flows) == pytest.approx(0.0, abs=1e-6)


def test_a_lot_bought_on_the_as_of_day() -> None:
    frame, state, book = series(
        lots((3, 1, 10, 50.0, nov(27))), closes((1, nov(27), 55.0)), [nov(27)]
    )
    # 27: MV = 10*55 = 550, F = 500, r = 550/500 - 1 = 0.1
    assert_rows(rows_of(frame, 3), [(nov(27), 550.0, 500.0, 0.1, 0.1)])
    metrics = pd.DataFrame(client_metrics(book, state, nov(27))).iloc[0]
    assert metrics["invested"] == pytest.approx(500.0, abs=EXACT)
    assert metrics["accumulated_return"] == pytest.approx(0.1, abs=EXACT)
    assert metrics["twr"] == pytest.approx(0.1, abs=EXACT)
    # -500 and +550 on the same date: a single date, IRR undefined (None, not 0).
    assert metrics["irr"] is None


def test_a_lot_bought_after_the_as_of_day_is_not_held_yet() -> None:
    book = book_from_lots(lots((3, 1, 10, 50.0, nov(23)), (3, 1, 99, 1.0, nov(27))))
    matrix = carried_closes(closes((1, nov(23), 55.0)), [nov(23)], book.asset_ids)
    columns, state = portfolio_series(book, matrix, [nov(23)], SeriesState.empty(book))
    frame = pd.DataFrame(columns)
    # Only the first lot is held on 23: MV = 550, F = 500.
    assert_rows(rows_of(frame, 3), [(nov(23), 550.0, 500.0, 0.1, 0.1)])
    metrics = pd.DataFrame(client_metrics(book, state, nov(23))).iloc[0]
    assert metrics["invested"] == pytest.approx(500.0, abs=EXACT)


def test_a_book_without_allocations_has_no_rows() -> None:
    empty = lots()
    frame, state, book = series(empty, closes(), [nov(23), nov(24)])
    assert book.size == 0
    assert frame.empty
    assert list(frame.columns) == [
        "client_id",
        "date",
        *SERIES_COLUMNS,
        "flow_in",
        "flow_out",
        "income",
    ]
    assert state.last_day is None
    assert pd.DataFrame(client_metrics(book, state, nov(24))).empty


def test_a_client_without_allocations_gets_no_rows_and_others_are_unaffected() -> None:
    # Client 2 holds nothing: it is simply not in the book; client 5's first lot comes later.
    frame, _, book = series(
        lots((1, 1, 1, 10.0, nov(23)), (5, 1, 1, 10.0, nov(25))),
        closes((1, nov(23), 10.0), (1, nov(24), 11.0), (1, nov(25), 12.0)),
        [nov(23), nov(24), nov(25)],
    )
    assert book.client_ids.tolist() == [1, 5]
    assert rows_of(frame, 2) == []
    assert [row[0] for row in rows_of(frame, 5)] == [nov(25)]  # no rows before its first lot
    assert len(frame) == 4


def test_a_price_gap_in_the_middle_is_carried() -> None:
    frame, _, _ = series(
        lots((1, 1, 1, 10.0, nov(23))),
        closes((1, nov(23), 10.0), (1, nov(25), 12.0)),
        [nov(23), nov(24), nov(25)],
    )
    # 23: MV 10, F 10, r 0. 24: no close -> 10 carried, r 0. 25: MV 12, r 12/10 - 1 = 0.2
    assert_rows(
        rows_of(frame, 1),
        [
            (nov(23), 10.0, 10.0, 0.0, 0.0),
            (nov(24), 10.0, 0.0, 0.0, 0.0),
            (nov(25), 12.0, 0.0, 0.2, 0.2),
        ],
    )


def test_a_gap_at_the_start_is_valued_at_the_buy_price_never_at_a_later_close() -> None:
    frame, _, _ = series(
        lots((1, 1, 2, 10.0, nov(23))),
        closes((1, nov(25), 11.0), (1, nov(26), 12.0)),
        [nov(23), nov(24), nov(25), nov(26)],
    )
    # 23, 24: no close known yet -> valued at p0: MV = 2*10 = 20 (not 2*11 from the 25th).
    # 25: MV = 22, r = 22/20 - 1 = 0.1. 26: MV = 24, r = 24/22 - 1 = 1/11; TWR = 24/20 - 1.
    assert_rows(
        rows_of(frame, 1),
        [
            (nov(23), 20.0, 20.0, 0.0, 0.0),
            (nov(24), 20.0, 0.0, 0.0, 0.0),
            (nov(25), 22.0, 0.0, 0.1, 0.1),
            (nov(26), 24.0, 0.0, 1 / 11, 0.2),
        ],
    )


def test_a_gap_at_the_end_carries_the_last_close() -> None:
    frame, _, _ = series(
        lots((1, 1, 1, 10.0, nov(23))),
        closes((1, nov(23), 10.0), (1, nov(24), 11.0)),
        [nov(23), nov(24), nov(25), nov(26)],
    )
    # 23: r = 10/10 - 1 = 0. 24: r 0.1. 25, 26: 11 carried, r 0; TWR stays 0.1.
    assert_rows(
        rows_of(frame, 1),
        [
            (nov(23), 10.0, 10.0, 0.0, 0.0),
            (nov(24), 11.0, 0.0, 0.1, 0.1),
            (nov(25), 11.0, 0.0, 0.0, 0.1),
            (nov(26), 11.0, 0.0, 0.0, 0.1),
        ],
    )


def test_carried_closes_go_forward_from_before_the_window_and_never_backward() -> None:
    matrix = carried_closes(
        closes((1, nov(20), 9.0), (2, nov(25), 5.0), (3, nov(24), 7.0)),
        [nov(23), nov(24), nov(25)],
        np.array([1, 2, 3, 4]),
    )
    nan = math.nan
    expected = np.array(
        [
            [9.0, nan, nan, nan],  # asset 1 carried in from the 20th; 2, 3 unknown yet
            [9.0, nan, 7.0, nan],
            [9.0, 5.0, 7.0, nan],  # asset 4 never traded
        ]
    )
    np.testing.assert_array_equal(matrix, expected)


def test_a_portfolio_that_only_loses() -> None:
    days = [date(2025, 11, 27), date(2026, 5, 27), date(2026, 11, 27)]
    frame, state, book = series(
        lots((9, 1, 10, 100.0, days[0])),
        closes((1, days[0], 90.0), (1, days[1], 80.0), (1, days[2], 70.0)),
        days,
    )
    # r: 900/1000 - 1 = -0.1, 800/900 - 1 = -1/9, 700/800 - 1 = -1/8; TWR = 0.7 - 1 = -0.3
    assert_rows(
        rows_of(frame, 9),
        [
            (days[0], 900.0, 1000.0, -0.1, -0.1),
            (days[1], 800.0, 0.0, -1 / 9, -0.2),
            (days[2], 700.0, 0.0, -1 / 8, -0.3),
        ],
    )
    assert (frame["daily_return"] < 0).all()
    metrics = pd.DataFrame(client_metrics(book, state, days[2])).iloc[0]
    # -1000 on 2025-11-27, +700 365 days later: (1 + r) = 0.7 -> IRR = -0.3
    assert metrics["accumulated_return"] == pytest.approx(-0.3, abs=EXACT)
    assert metrics["twr"] == pytest.approx(-0.3, abs=EXACT)
    assert metrics["irr"] == pytest.approx(-0.3, abs=1e-9)


def test_a_zero_denominator_gives_a_zero_daily_return() -> None:
    # A lot of quantity 0 (never stored, but the math must not divide by zero): MV_{t-1} + F_t
    # = 0 + 0 -> r = 0, never NaN; the cumulative TWR stays 0.
    frame, state, book = series(
        lots((1, 1, 0, 10.0, nov(23))),
        closes((1, nov(23), 11.0), (1, nov(24), 12.0)),
        [nov(23), nov(24)],
    )
    assert_rows(rows_of(frame, 1), [(nov(23), 0.0, 0.0, 0.0, 0.0), (nov(24), 0.0, 0.0, 0.0, 0.0)])
    metrics = pd.DataFrame(client_metrics(book, state, nov(24))).iloc[0]
    # Nothing invested: returns are undefined (None), IRR too.
    assert metrics["accumulated_return"] is None
    assert metrics["twr"] is None
    assert metrics["irr"] is None


# -- IRR -------------------------------------------------------------------------------------
def test_irr_of_a_one_year_doubling_is_100_percent() -> None:
    # 2025 is not a leap year: 365 days, (1 + r)^(365/365) = 2 -> r = 1.
    assert irr([date(2025, 1, 1), date(2026, 1, 1)], [-100.0, 200.0]) == pytest.approx(
        1.0, abs=1e-9
    )


def test_irr_uses_actual_365() -> None:
    # 2024 is a leap year: 366 days -> (1 + r)^(366/365) = 2, r = 2^(365/366) - 1.
    assert irr([date(2024, 1, 1), date(2025, 1, 1)], [-100.0, 200.0]) == pytest.approx(
        2 ** (365 / 366) - 1, abs=1e-9
    )


@pytest.mark.parametrize(
    ("dates", "amounts"),
    [
        ([], []),
        ([date(2026, 11, 27)], [-100.0]),
        ([date(2026, 11, 27), date(2026, 11, 27)], [-100.0, 110.0]),
        ([date(2026, 1, 2), date(2026, 11, 27)], [-100.0, -50.0]),
        ([date(2026, 1, 2), date(2026, 11, 27)], [100.0, 50.0]),
        ([date(2026, 1, 2), date(2026, 11, 27)], [-100.0, 0.0]),
    ],
    ids=["nothing", "one-flow", "single-date", "all-out", "all-in", "worthless"],
)
def test_irr_is_none_where_undefined(dates: list[date], amounts: list[float]) -> None:
    assert irr(dates, amounts) is None


# -- chunks and inputs -------------------------------------------------------------------------
def _mixed_book() -> tuple[pd.DataFrame, pd.DataFrame, list[date]]:
    days = calendars.sessions(date(2026, 10, 1), date(2026, 11, 27))
    lot_rows = lots(
        (3, 2, 7, 14.0, date(2026, 10, 9)),
        (1, 1, 10, 20.0, date(2026, 10, 1)),
        (1, 2, 4, 15.0, date(2026, 10, 17)),  # a Saturday
        (2, 1, 2.5, 21.0, date(2026, 11, 2)),  # Finados, a B3 holiday
        (3, 3, 1, 99.0, date(2026, 11, 20)),  # Consciência Negra
        (1, 1, 5, 19.0, date(2026, 11, 25)),
    )
    rng = np.random.default_rng(7)
    close_rows = [
        (asset, day, float(np.round(price * np.exp(rng.normal(0, 0.02) * i), 2)))
        for asset, price in ((1, 20.0), (2, 15.0), (3, 100.0))
        for i, day in enumerate(days)
        if rng.random() > 0.15  # gaps here and there
    ]
    return lot_rows, closes(*close_rows), days


def test_chunked_computation_carries_the_state_and_equals_one_shot() -> None:
    lot_rows, close_rows, days = _mixed_book()
    whole, whole_state, book = series(lot_rows, close_rows, days)

    for size in (1, 3, 7, 20):
        state = SeriesState.empty(book)
        parts = []
        for start in range(0, len(days), size):
            chunk = days[start : start + size]
            matrix, close_days = carried_closes_and_days(close_rows, chunk, book.asset_ids)
            part, state = portfolio_series(book, matrix, chunk, state, close_days=close_days)
            parts.append(pd.DataFrame(part))
        # Each part is client-major; compare the rows in one (client, date) order.
        chunked = pd.concat(parts, ignore_index=True).sort_values(["client_id", "date"])
        chunked = chunked.reset_index(drop=True)
        assert chunked[["client_id", "date"]].values.tolist() == (
            whole[["client_id", "date"]].values.tolist()
        )
        np.testing.assert_allclose(
            chunked[SERIES_COLUMNS].to_numpy(float),
            whole[SERIES_COLUMNS].to_numpy(float),
            rtol=0,
            atol=EXACT,
        )
        assert state.last_day == whole_state.last_day
        np.testing.assert_allclose(state.growth, whole_state.growth, rtol=0, atol=EXACT)
        np.testing.assert_allclose(state.market_value, whole_state.market_value, rtol=0, atol=EXACT)


def test_inputs_are_not_mutated() -> None:
    lot_rows, close_rows, days = _mixed_book()
    lots_before, closes_before = lot_rows.copy(deep=True), close_rows.copy(deep=True)
    days_before = list(days)
    book = book_from_lots(lot_rows)
    matrix = carried_closes(close_rows, days, book.asset_ids)
    matrix_before = matrix.copy()
    state = SeriesState(
        np.zeros(len(book.client_ids)), np.ones(len(book.client_ids)), date(2026, 9, 30)
    )
    growth_before, value_before = state.growth.copy(), state.market_value.copy()
    book_before = {name: getattr(book, name).copy() for name in Book.__dataclass_fields__}

    _, after = portfolio_series(book, matrix, days, state)
    client_metrics(book, after, days[-1])

    pd.testing.assert_frame_equal(lot_rows, lots_before)
    pd.testing.assert_frame_equal(close_rows, closes_before)
    assert days == days_before
    np.testing.assert_array_equal(matrix, matrix_before)
    np.testing.assert_array_equal(state.growth, growth_before)
    np.testing.assert_array_equal(state.market_value, value_before)
    for name, values in book_before.items():
        np.testing.assert_array_equal(getattr(book, name), values)


# -- properties ------------------------------------------------------------------------------
# Prices in cents (R$ 1,00 to R$ 1.000,00) and quantities with up to two decimals: market
# values then fit the stored 8 decimal places exactly, and only float64 rounding and the
# stored 12-place cumulative TWR (carried day to day) are left, far below the tolerances.
PRICE = st.integers(min_value=100, max_value=100_000).map(lambda cents: cents / 100)
QUANTITY = st.integers(min_value=1, max_value=10_000_000).map(lambda hundredths: hundredths / 100)
START = date(2026, 1, 5)


def _days(count: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(count)]


@settings(max_examples=80, deadline=None)
@given(
    quantity=QUANTITY,
    buy_price=PRICE,
    prices=st.lists(st.one_of(st.none(), PRICE), min_size=1, max_size=30),
)
def test_one_lot_held_all_period_has_twr_equal_to_its_price_return(
    quantity: float, buy_price: float, prices: list[float | None]
) -> None:
    days = _days(len(prices))
    known = [(1, d, p) for d, p in zip(days, prices, strict=True) if p is not None]
    frame, _, _ = series(lots((1, 1, quantity, buy_price, days[0])), closes(*known), days)
    # The series telescopes: prod(MV_t / MV_{t-1}) * MV_0 / (q * p0) = C_T / p0, with C_T the
    # last known close (or p0 itself while none is known).
    last_close = known[-1][2] if known else buy_price
    # Each day's growth is carried at 12 places: up to 5e-13 per day, scaled by how far the
    # prices move afterwards (at most 1000x here).
    spread = max(p for p in [buy_price, *prices] if p) / min(p for p in [buy_price, *prices] if p)
    assert frame["cumulative_twr"].iloc[-1] == pytest.approx(
        last_close / buy_price - 1, rel=1e-12, abs=len(prices) * 5e-13 * spread
    )


LOT = st.tuples(
    st.integers(min_value=1, max_value=4),  # asset
    QUANTITY,
    PRICE,
    st.integers(min_value=0, max_value=14),  # buy day offset
)


def _lot_rows(client_id: int, drawn: list[tuple[int, float, float, int]]) -> list[tuple]:
    return [(client_id, a, q, p, START + timedelta(days=o)) for a, q, p, o in drawn]


def _closes_for(drawn: list[float | None], days: list[date]) -> pd.DataFrame:
    rows = []
    for asset in range(1, 5):
        for i, day in enumerate(days):
            price = drawn[(asset * 31 + i) % len(drawn)]
            if price is not None:
                rows.append((asset, day, price))
    return closes(*rows)


@settings(max_examples=60, deadline=None)
@given(
    first=st.lists(LOT, min_size=1, max_size=6),
    second=st.lists(LOT, min_size=1, max_size=6),
    second_id=st.sampled_from([0, 2, 99]),
    prices=st.lists(st.one_of(st.none(), PRICE), min_size=1, max_size=40),
)
def test_adding_a_second_client_never_changes_the_first_clients_series(
    first: list[tuple[int, float, float, int]],
    second: list[tuple[int, float, float, int]],
    second_id: int,
    prices: list[float | None],
) -> None:
    days = _days(15)
    close_rows = _closes_for(prices, days)
    alone, alone_state, alone_book = series(lots(*_lot_rows(1, first)), close_rows, days)
    both, both_state, both_book = series(
        lots(*_lot_rows(1, first), *_lot_rows(second_id, second)), close_rows, days
    )
    mine = both[both["client_id"] == 1].reset_index(drop=True)
    assert mine["date"].tolist() == alone["date"].tolist()
    np.testing.assert_allclose(
        mine[SERIES_COLUMNS].to_numpy(float),
        alone[SERIES_COLUMNS].to_numpy(float),
        rtol=1e-12,
        atol=1e-9,
    )
    alone_metrics = pd.DataFrame(client_metrics(alone_book, alone_state, days[-1])).set_index(
        "client_id"
    )
    both_metrics = pd.DataFrame(client_metrics(both_book, both_state, days[-1])).set_index(
        "client_id"
    )
    mine_alone, mine_both = alone_metrics.loc[1].to_dict(), both_metrics.loc[1].to_dict()
    assert mine_alone.keys() == mine_both.keys()
    for name, value in mine_alone.items():
        # An undefined figure stays undefined. In a frame where another client has a value
        # pandas holds it as NaN instead of None; both are stored as NULL.
        if undefined(value) or undefined(mine_both[name]):
            assert undefined(value), name
            assert undefined(mine_both[name]), name
        else:
            assert value == pytest.approx(mine_both[name], rel=1e-9, abs=1e-9), name


@settings(max_examples=60, deadline=None)
@given(
    drawn=st.lists(LOT, min_size=1, max_size=8),
    prices=st.lists(PRICE, min_size=1, max_size=40),
)
def test_market_value_is_the_sum_of_quantity_times_close(
    drawn: list[tuple[int, float, float, int]], prices: list[float]
) -> None:
    days = _days(15)
    close_rows = _closes_for(list(prices), days)
    frame, _, _ = series(lots(*_lot_rows(1, drawn)), close_rows, days)
    close_of = {(a, d): c for a, d, c in close_rows.itertuples(index=False)}
    first_buy = min(START + timedelta(days=o) for *_, o in drawn)
    expected = {
        day: sum(q * close_of[(a, day)] for a, q, _, o in drawn if START + timedelta(days=o) <= day)
        for day in days
        if day >= first_buy
    }
    got = dict(zip(frame["date"], frame["market_value"], strict=True))
    assert list(got) == list(expected)
    for day, value in expected.items():
        assert got[day] == pytest.approx(value, rel=1e-12, abs=1e-9)


def test_carried_closes_read_numpy_columns_and_a_repeated_close_keeps_the_last_row() -> None:
    # The scheduler passes plain numpy columns (stored closes, then the fetched ones): a
    # close fetched for a day already stored comes later and replaces it.
    columns = {
        "asset_id": np.array([2, 1, 1, 2]),
        "date": np.array(["2026-11-23", "2026-11-23", "2026-11-23", "2026-11-24"], "datetime64[D]"),
        "close": np.array([5.0, 10.0, 10.5, 6.0]),
    }
    matrix = carried_closes(columns, [nov(23), nov(24)], np.array([1, 2]))
    np.testing.assert_array_equal(matrix, np.array([[10.5, 5.0], [10.5, 6.0]]))


@settings(max_examples=80, deadline=None)
@given(
    books=st.lists(st.lists(LOT, min_size=1, max_size=5), min_size=1, max_size=5),
    prices=st.lists(st.one_of(st.none(), PRICE), min_size=1, max_size=40),
    as_of=st.integers(min_value=0, max_value=14),
)
def test_client_metrics_irr_is_the_xirr_of_each_clients_own_flows(
    books: list[list[tuple[int, float, float, int]]],
    prices: list[float | None],
    as_of: int,
) -> None:
    # client_metrics decides for the whole book which IRRs exist before calling XIRR; the
    # result must be what irr() gives each client's flows: -q * p0 at each held lot's buy
    # date and +MV at the as-of date (None where undefined).
    days = _days(as_of + 1)
    rows = [row for index, drawn in enumerate(books) for row in _lot_rows(index + 1, drawn)]
    _, state, book = series(lots(*rows), _closes_for(prices, days), days)
    got = client_metrics(book, state, days[-1])
    value_of = dict(zip(got["client_id"].tolist(), got["market_value"].tolist(), strict=True))
    for client_id, rate in zip(got["client_id"].tolist(), got["irr"].tolist(), strict=True):
        held = [(d, q * p) for c, _, q, p, d in rows if c == client_id and d <= days[-1]]
        expected = (
            irr([*(d for d, _ in held), days[-1]], [*(-m for _, m in held), value_of[client_id]])
            if held
            else None
        )
        if expected is None:
            assert rate is None
        else:
            assert rate == pytest.approx(expected, rel=1e-9)


def test_a_lot_bought_after_its_latest_close_is_valued_at_its_buy_price() -> None:
    # 10 bought at 30 on Wednesday the 25th; the last close, 40, is from Monday the 23rd
    # (Tuesday's and Wednesday's have not arrived). Carrying 40 would be a fake +33.3 %.
    # Wed: MV = 10 x 30 = 300 (the buy price), F = 300, r = 300 / (0 + 300) - 1 = 0.
    # Thu: close 33, MV = 330, r = 330 / 300 - 1 = 0.1, TWR = 0.1.
    frame, _, _ = series(
        lots((1, 7, 10, 30, nov(25))),
        closes((7, nov(23), 40.0), (7, nov(26), 33.0)),
        [nov(25), nov(26)],
    )

    assert_rows(
        rows_of(frame, 1),
        [(nov(25), 300.0, 300.0, 0.0, 0.0), (nov(26), 330.0, 0.0, 0.1, 0.1)],
    )


def test_a_holder_from_before_keeps_the_carried_close_beside_a_new_lot() -> None:
    # Client 1 bought 10 at 35 on the 20th; client 2 buys 10 at 30 on the 25th. The last
    # close is 40 (the 23rd): client 1 is valued at 40 (400), client 2 at its price (300).
    frame, _, _ = series(
        lots((1, 7, 10, 35, nov(20)), (2, 7, 10, 30, nov(25))),
        closes((7, nov(20), 35.0), (7, nov(23), 40.0)),
        [nov(25)],
    )

    assert rows_of(frame, 1)[0][1] == 400.0
    assert rows_of(frame, 2)[0][1] == 300.0
