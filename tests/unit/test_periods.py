"""The advisor's periods and the monthly grid (core.analytics.periods), hand-checked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.analytics.periods import Growth, Period, advisor_periods, monthly_grid

D = Decimal
# Inception 2025-12-30 (TWR 0), end of January +2 %, end of February +3 % on it, then
# -2 % in March to the 10th: 1.02 x 1.03 x 0.98 = 1.029588.
SERIES = Growth.of(
    [date(2025, 12, 30), date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 10)],
    [D("0"), D("0.02"), D("0.0506"), D("0.029588")],
)


def test_the_advisor_periods_end_on_the_last_day() -> None:
    periods = {p.key: p for p in advisor_periods(date(2025, 12, 30), date(2026, 3, 10))}

    assert periods["month"] == Period(
        "month", date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 10)
    )
    assert periods["ytd"].start == date(2026, 1, 1)
    # 12 months: from the day after the same date a year before; the portfolio is younger
    assert periods["12m"].start == date(2025, 3, 11)
    assert periods["12m"].first == date(2025, 12, 30)
    assert periods["12m"].partial
    assert periods["24m"].start == date(2024, 3, 11)
    assert periods["inception"].start == periods["inception"].first == date(2025, 12, 30)
    assert not periods["inception"].partial
    assert not periods["month"].partial


def test_a_29_february_end_looks_back_to_28_february() -> None:
    periods = {p.key: p for p in advisor_periods(date(2020, 1, 2), date(2024, 2, 29))}

    assert periods["12m"].start == date(2023, 3, 1)  # the day after 2023-02-28
    assert periods["24m"].start == date(2022, 3, 1)


def test_period_returns_chain_the_stored_twr() -> None:
    # month: 1.029588 / 1.0506 - 1 = -0.02; YTD and since inception: 0.029588
    assert SERIES.twr(date(2026, 3, 1), date(2026, 3, 10)) == D("-0.02")
    assert SERIES.twr(date(2026, 1, 1), date(2026, 3, 10)) == D("0.029588")
    assert SERIES.twr(date(2025, 12, 30), date(2026, 3, 10)) == D("0.029588")
    # February alone, and a period that ends between stored days (its last stored day counts)
    assert SERIES.twr(date(2026, 2, 1), date(2026, 2, 28)) == D("1.0506") / D("1.02") - 1
    assert SERIES.twr(date(2026, 1, 1), date(2026, 2, 15)) == D("0.02")
    # nothing stored through the end: undefined, never 0
    assert SERIES.twr(date(2025, 1, 1), date(2025, 6, 30)) is None


def test_the_monthly_grid_has_each_month_and_the_years_total() -> None:
    grid = monthly_grid(SERIES)

    assert [row.year for row in grid] == [2025, 2026]
    december = grid[0].months[0]
    assert (december.month, december.twr) == (12, D("0"))
    assert december.period.first == date(2025, 12, 30)  # the first month starts at inception
    assert december.period.partial
    months = {cell.month: cell.twr for cell in grid[1].months}
    assert months == {
        1: D("0.02"),
        2: D("1.0506") / D("1.02") - 1,
        3: D("1.029588") / D("1.0506") - 1,
    }
    assert months[2] == D("0.03")
    assert months[3] == D("-0.02")
    assert grid[1].total == D("0.029588")  # 1.02 x 1.03 x 0.98 - 1
    assert grid[1].period.end == date(2026, 3, 10)


def test_an_empty_series_has_no_grid() -> None:
    assert monthly_grid(Growth.of([], [])) == []
