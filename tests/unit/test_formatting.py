"""Locale formatting of money, numbers, percentages, dates and timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.formatting import (
    DASH,
    format_brl,
    format_date,
    format_number,
    format_percent,
    format_quantity,
    format_timestamp,
    ungroup_number,
)


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (Decimal("1234.56"), "pt_BR", "R$ 1.234,56"),
        (Decimal("1234.56"), "en", "R$ 1,234.56"),
        (Decimal("-58137.36"), "en", "-R$ 58,137.36"),
        (Decimal("-0.5"), "pt_BR", "-R$ 0,50"),
        (Decimal("1000000"), "pt_BR", "R$ 1.000.000,00"),
        (None, "pt_BR", DASH),
    ],
)
def test_brl(value: Decimal | None, locale: str, expected: str) -> None:
    assert format_brl(value, locale) == expected


def test_numbers_round_half_even_and_group() -> None:
    assert format_number(Decimal("2.345"), "pt_BR") == "2,34"
    assert format_number(Decimal("2.355"), "en") == "2.36"
    assert format_number(1234567, "en", 0) == "1,234,567"
    assert format_number(None, "en") == DASH


def test_percent() -> None:
    assert format_percent(Decimal("0.1234"), "pt_BR") == "12,34%"
    assert format_percent(Decimal("-0.005"), "en", 1) == "-0.5%"
    assert format_percent(None, "en") == DASH


def test_dates_and_timestamps_in_sao_paulo() -> None:
    assert format_date(date(2026, 3, 5), "pt_BR") == "05/03/2026"
    assert format_date(date(2026, 3, 5), "en") == "2026-03-05"
    assert format_date(None, "en") == DASH
    stamp = datetime(2026, 7, 1, 15, 30, 5, tzinfo=UTC)  # 12:30:05 in São Paulo (UTC-3)
    assert format_timestamp(stamp, "pt_BR") == "01/07/2026 12:30:05"
    assert format_timestamp(stamp, "en") == "2026-07-01 12:30:05"
    assert format_timestamp(None, "en") == DASH


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("1.000", "pt_BR", "1000"),
        ("-1.000.000", "pt_BR", "-1000000"),
        ("1,000", "pt_BR", "1,000"),
        ("1,000", "en", "1000"),
        ("1.000", "en", "1.000"),
        ("abc", "pt_BR", "abc"),
    ],
)
def test_ungroup_number_only_touches_locale_grouping(text: str, locale: str, expected: str) -> None:
    assert ungroup_number(text, locale) == expected


@pytest.mark.parametrize(
    ("ratio", "pt_br", "en"),
    [
        (Decimal("1E+22"), "> 9.999%", "> 9,999%"),
        (Decimal("99.99"), "9.999,00%", "9,999.00%"),
        (Decimal("100"), "> 9.999%", "> 9,999%"),
        (Decimal("-100.5"), "< -9.999%", "< -9,999%"),
        (float("inf"), "—", "—"),
        (Decimal("NaN"), "—", "—"),
    ],
)
def test_percentages_of_any_magnitude_read_without_raising(
    ratio: Decimal | float, pt_br: str, en: str
) -> None:
    assert format_percent(ratio, "pt_BR") == pt_br
    assert format_percent(ratio, "en") == en


def test_numbers_past_28_digits_are_formatted_whole() -> None:
    assert format_number(Decimal("1E+30"), "en", 0) == "1" + ",000" * 10


def test_quantities_show_without_trailing_zeros() -> None:
    assert format_quantity(Decimal("1000"), "pt_BR") == "1.000"
    assert format_quantity(Decimal("2.50000000"), "pt_BR") == "2,5"
    assert format_quantity(Decimal("0.12345678"), "en") == "0.12345678"
    assert format_quantity(None, "pt_BR") == "—"
