"""Parsing SGS answers (tests/fixtures/sgs, built in the documented format): values to
Decimal exactly as published, bad rows rejected with their reason, ten-year windows."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from core.market.errors import MalformedResponse
from core.market.sgs import parse_rows, windows
from tests.sgs_server import FIXTURES

D = Decimal


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_values_are_the_published_decimals() -> None:
    values, rejected = parse_rows(
        load("sgs-12-2025-01-02-to-2025-01-10.json"), date(2025, 1, 2), date(2025, 1, 10)
    )
    assert rejected == []
    assert len(values) == 7
    assert values[date(2025, 1, 2)] == D("0.045513")
    assert all(isinstance(v, Decimal) for v in values.values())
    assert str(values[date(2025, 1, 10)]) == "0.045513"  # not through a float


def test_monthly_rows_keep_their_first_day_and_negative_months() -> None:
    values, rejected = parse_rows(
        load("sgs-433-2024-01-01-to-2024-12-31.json"), date(2024, 1, 1), date(2024, 12, 31)
    )
    assert rejected == []
    assert sorted(values) == [date(2024, m, 1) for m in range(1, 13)]
    assert values[date(2024, 8, 1)] == D("-0.02")


def test_bad_rows_are_rejected_with_their_reason_and_never_filled_in() -> None:
    values, rejected = parse_rows(load("sgs-12-bad-rows.json"), date(2025, 1, 2), date(2025, 1, 10))

    assert values == {date(2025, 1, 2): D("0.045513")}
    reasons = [r.reason for r in rejected]
    assert reasons == [
        "the value is not a decimal number",  # ""
        "no date in dd/mm/aaaa",  # 2025-01-06
        "the value is not a decimal number",  # decimal comma
        "not a calendar date",  # 31/02
        "the value is not a decimal number",  # no valor
        "not an object",  # a list
        "a second, different value for this date",  # 09/01 twice, different
        "its first value is dropped",
        "the value is not a decimal number",  # NaN
        "date outside the range asked",  # 15/01
    ]
    assert "0,045513" in rejected[2].row


def test_a_repeated_row_with_the_same_value_is_kept_once() -> None:
    row = {"data": "02/01/2025", "valor": "0.040168"}
    values, rejected = parse_rows([row, row], date(2025, 1, 1), date(2025, 1, 31))
    assert values == {date(2025, 1, 2): D("0.040168")}
    assert rejected == []


@pytest.mark.parametrize("payload", [{"erro": "x"}, "[]", None, 3])
def test_an_answer_that_is_not_a_list_is_malformed(payload: object) -> None:
    with pytest.raises(MalformedResponse):
        parse_rows(payload, date(2025, 1, 1), date(2025, 1, 31))


def test_ranges_are_cut_in_ten_year_windows() -> None:
    assert windows(date(2025, 1, 1), date(2025, 1, 1)) == [(date(2025, 1, 1), date(2025, 1, 1))]
    assert windows(date(2000, 1, 1), date(2025, 6, 30)) == [
        (date(2000, 1, 1), date(2009, 12, 31)),
        (date(2010, 1, 1), date(2019, 12, 31)),
        (date(2020, 1, 1), date(2025, 6, 30)),
    ]
    assert windows(date(2004, 2, 29), date(2014, 3, 1)) == [
        (date(2004, 2, 29), date(2014, 2, 27)),
        (date(2014, 2, 28), date(2014, 3, 1)),
    ]
    assert windows(date(2025, 2, 1), date(2025, 1, 1)) == []
