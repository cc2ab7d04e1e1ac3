"""Benchmark returns over a period from stored values, against hand-computed numbers
(docs/benchmarks.md): CDI compounding over B3 sessions, an index from the close before the
start, IPCA by month with a partial month pro rata by B3 sessions, incomplete periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core import calendars
from core.analytics.benchmarks import (
    BenchmarkReturn,
    compound_daily,
    compound_monthly,
    index_return,
    month_fraction,
    percent_of,
)

D = Decimal


def test_cdi_compounds_over_the_b3_sessions_of_the_period() -> None:
    # 2025-01-02 (Thu), 01-03 (Fri), 01-06 (Mon): three sessions; the weekend has none.
    rates = {date(2025, 1, 2): D("0.04"), date(2025, 1, 3): D("0.05"), date(2025, 1, 6): D("0.1")}
    result = compound_daily("CDI", rates, date(2025, 1, 2), date(2025, 1, 6))
    # 1.0004 * 1.0005 = 1.00090020; * 1.001 = 1.00190110020
    assert result.cumulative == D("0.00190110020")
    assert result.complete
    assert result.missing == ()


def test_a_cdi_session_without_a_value_is_listed_not_invented() -> None:
    rates = {date(2025, 1, 2): D("0.04"), date(2025, 1, 6): D("0.1")}
    result = compound_daily("CDI", rates, date(2025, 1, 2), date(2025, 1, 6))
    assert result.missing == (date(2025, 1, 3),)
    assert not result.complete
    assert result.cumulative == D("1.0004") * D("1.001") - 1  # over what is there


def test_a_period_starting_mid_month_takes_only_its_sessions() -> None:
    # January 2025's sessions from the 27th (Mon) to the 31st (Fri): 5 of them.
    rates = {day: D("0.045513") for day in calendars.sessions(date(2025, 1, 1), date(2025, 1, 31))}
    result = compound_daily("CDI", rates, date(2025, 1, 25), date(2025, 1, 31))
    assert result.complete
    assert result.cumulative == D("1.000455130") ** 5 - 1


def test_the_index_return_is_from_the_close_before_the_start() -> None:
    closes = {
        date(2024, 12, 30): D("120283.40"),  # the session before 2025-01-02 (31/12 is closed)
        date(2025, 1, 2): D("118532.70"),
        date(2025, 1, 3): D("118856.25"),
    }
    result = index_return("IBOV", closes, date(2025, 1, 1), date(2025, 1, 3))
    assert result.cumulative == D("118856.25") / D("120283.40") - 1
    assert result.complete


def test_an_index_without_the_base_close_has_no_return() -> None:
    closes = {date(2025, 1, 2): D("118532.70"), date(2025, 1, 3): D("118856.25")}
    result = index_return("IBOV", closes, date(2025, 1, 2), date(2025, 1, 3))
    assert result.cumulative is None
    assert result.missing == (date(2024, 12, 30),)
    assert not result.complete


def test_ipca_compounds_whole_months() -> None:
    ipca = {date(2024, 1, 1): D("0.42"), date(2024, 2, 1): D("0.83"), date(2024, 3, 1): D("0.16")}
    result = compound_monthly("IPCA", ipca, date(2024, 1, 1), date(2024, 3, 31))
    # 1.0042 * 1.0083 = 1.01253486; + 1.01253486 * 0.0016 = 1.014154915776
    assert result.cumulative == D("0.014154915776")
    assert result.complete


def test_ipca_over_a_period_with_a_missing_month_says_incomplete() -> None:
    ipca = {date(2024, 1, 1): D("0.42"), date(2024, 3, 1): D("0.16")}
    result = compound_monthly("IPCA", ipca, date(2024, 1, 1), date(2024, 3, 31))
    assert result.missing == (date(2024, 2, 1),)
    assert not result.complete
    assert percent_of(D("0.05"), result) is None


def test_ipca_of_a_partial_month_is_pro_rata_by_b3_sessions() -> None:
    # October 2024 has 23 B3 sessions; 2024-10-21 (Mon) to 10-31 (Thu) covers 9 of them.
    assert month_fraction(date(2024, 10, 1), date(2024, 10, 21), date(2024, 10, 31)) == (9, 23)
    ipca = {date(2024, 10, 1): D("0.56"), date(2024, 11, 1): D("0.39")}
    result = compound_monthly("IPCA", ipca, date(2024, 10, 21), date(2024, 11, 30))
    expected = D("1.0056") ** (D(9) / D(23)) * D("1.0039") - 1
    assert result.cumulative == expected
    # ln 1.0056 = 0.0055844, * 9/23 = 0.0021852, e^ = 1.0021876; * 1.0039 = 1.0060961
    assert abs(result.cumulative - D("0.0060961")) < D("0.0000001")
    assert result.complete


def test_percent_of_cdi_is_twr_over_cdi_and_undefined_at_zero() -> None:
    cdi = BenchmarkReturn("CDI", date(2025, 1, 2), date(2025, 1, 31), D("0.01"), ())
    assert percent_of(D("0.011"), cdi) == D("1.1")
    zero = BenchmarkReturn("CDI", date(2025, 1, 4), date(2025, 1, 5), D("0"), ())
    assert percent_of(D("0.011"), zero) is None
    gap = BenchmarkReturn(
        "CDI", date(2025, 1, 2), date(2025, 1, 31), D("0.01"), (date(2025, 1, 3),)
    )
    assert percent_of(D("0.011"), gap) is None
