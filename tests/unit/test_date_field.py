"""Typed dates are read strictly: what was typed, or why it is not a date (never another one)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationFailed
from core.formatting import format_date
from core.trade_schemas import AllocationIn
from dashboard.components.date_field import DateEntry, DateRefused, parse_date, read_date
from dashboard.components.lot_form import read_lot
from dashboard.components.pick import distinct_labels


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("10/03/2025", "pt_BR", date(2025, 3, 10)),
        (" 1/3/2025 ", "pt_BR", date(2025, 3, 1)),
        ("10-03-2025", "pt_BR", date(2025, 3, 10)),
        ("10.03.2025", "pt_BR", date(2025, 3, 10)),
        ("2025-03-10", "pt_BR", date(2025, 3, 10)),  # ISO is unambiguous in any language
        ("29/02/2024", "pt_BR", date(2024, 2, 29)),
        ("2025-03-10", "en", date(2025, 3, 10)),
        ("", "pt_BR", None),
        ("   ", "en", None),
    ],
)
def test_dates_that_are_read(text: str, locale: str, expected: date | None) -> None:
    assert parse_date(text, locale) == expected


@pytest.mark.parametrize(
    ("text", "locale", "key"),
    [
        ("31/02/2025", "pt_BR", "validation.no_such_date"),  # not 28/02: refused, not moved
        ("29/02/2025", "pt_BR", "validation.no_such_date"),
        ("00/03/2025", "pt_BR", "validation.no_such_date"),
        ("10/13/2025", "pt_BR", "validation.no_such_date"),
        ("10/03/0000", "pt_BR", "validation.no_such_date"),
        ("2025-02-30", "en", "validation.no_such_date"),
        ("10/03/25", "pt_BR", "validation.date_year"),  # not guessed as 1925 or 2025
        ("10/03/202", "pt_BR", "validation.date_year"),
        ("10/03/20255", "pt_BR", "validation.date_year"),
        ("10/03-2025", "pt_BR", "validation.date"),  # mixed separators
        ("03/10/2025", "en", "validation.date"),  # month or day first? not read in English
        ("10 de março de 2025", "pt_BR", "validation.date"),
        ("2025-03-10T12:00", "en", "validation.date"),
        ("١٠/٠٣/٢٠٢٥", "pt_BR", "validation.date"),  # digits other than 0-9
        ("hoje", "pt_BR", "validation.date"),
    ],
)
def test_text_that_is_refused(text: str, locale: str, key: str) -> None:
    with pytest.raises(DateRefused) as refused:
        parse_date(text, locale)
    assert refused.value.key == key


@given(st.dates(min_value=date(1000, 1, 1)), st.sampled_from(["pt_BR", "en"]))
def test_a_formatted_date_reads_back_as_itself(day: date, locale: str) -> None:
    # An edit form is pre-filled with format_date: saving it untouched keeps the date.
    assert parse_date(format_date(day, locale), locale) == day


def test_read_date_says_why_in_message_keys() -> None:
    today = date(2026, 12, 1)
    assert read_date("d", "01/12/2026", "pt_BR", latest=today) == DateEntry(
        "d", "01/12/2026", today
    )
    future = read_date("d", "02/12/2026", "pt_BR", latest=today)
    assert (future.value, future.field_errors) == (None, {"d": ("validation.future_date", {})})
    old = read_date("d", "31/12/1899", "pt_BR", earliest=date(1900, 1, 1))
    assert old.field_errors == {"d": ("validation.too_old", {})}
    assert read_date("d", "", "pt_BR").field_errors == {"d": ("validation.required", {})}
    assert read_date("d", "", "pt_BR", required=False).field_errors == {}
    assert read_date("d", "31/02/2025", "pt_BR").field_errors == {
        "d": ("validation.no_such_date", {})
    }


def test_a_lot_with_an_unreadable_date_is_refused_with_every_field_named() -> None:
    values = {
        "quantity": "0",
        "buy_price": "30",
        "buy_date": read_date("buy_date", "31/02/2025", "pt_BR"),
    }
    with pytest.raises(ValidationFailed) as refused:
        read_lot(values)
    assert {f: key for f, (key, _) in refused.value.field_errors.items()} == {
        "quantity": "validation.positive",
        "buy_date": "validation.no_such_date",
    }

    values = {**values, "quantity": "10", "buy_date": read_date("buy_date", "28/02/2025", "pt_BR")}
    assert read_lot(values) == AllocationIn(quantity=10, buy_price=30, buy_date=date(2025, 2, 28))


def test_equal_labels_stay_apart() -> None:
    assert distinct_labels({1: "PETR4.SA · 10", 2: "AAPL · 1", 3: "PETR4.SA · 10"}) == {
        1: "PETR4.SA · 10",
        2: "AAPL · 1",
        3: "PETR4.SA · 10 (2)",
    }
