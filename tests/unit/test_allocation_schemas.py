"""Lot and asset input through core.schemas.parse: locale numbers, dates, tickers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from core.errors import ValidationFailed
from core.formatting import ungroup_number
from core.schemas import parse
from core.trade_schemas import AllocationIn, AssetIn, today_in_brazil

GOOD_LOT: dict[str, Any] = {"quantity": "100", "buy_price": "30,00", "buy_date": "2024-01-02"}


def keys(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """Field -> message key that ``parse`` raises for ``data`` (fails if it accepts it)."""
    with pytest.raises(ValidationFailed) as caught:
        parse(model, data)
    return {field: key for field, (key, _params) in caught.value.field_errors.items()}


def lot(**fields: Any) -> dict[str, Any]:
    return {**GOOD_LOT, **fields}


# -- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["1.234,56", "1,234.56", "1234.56", "1234,56", " 1234.56 ", "R$ 1.234,56", "1 234,56"],
    ids=["pt-BR", "en", "plain", "pt-BR-no-group", "padded", "currency", "space-grouped"],
)
@pytest.mark.parametrize("field", ["quantity", "buy_price"])
def test_amount_in_either_locale(field: str, text: str) -> None:
    parsed = parse(AllocationIn, lot(**{field: text}))
    assert getattr(parsed, field) == Decimal("1234.56")
    assert isinstance(getattr(parsed, field), Decimal)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,5", Decimal("1.5")),
        ("1.5", Decimal("1.5")),
        ("0,00000001", Decimal("0.00000001")),
        ("1.234.567", Decimal("1234567")),
        ("1,234,567", Decimal("1234567")),
        ("1.234.567,89", Decimal("1234567.89")),
        ("1,234,567.89", Decimal("1234567.89")),
        ("999999999999,99999999", Decimal("999999999999.99999999")),
        ("1.500000000", Decimal("1.5")),
    ],
    ids=[
        "comma-decimal",
        "dot-decimal",
        "smallest",
        "pt-BR-millions",
        "en-millions",
        "pt-BR-millions-cents",
        "en-millions-cents",
        "largest",
        "trailing-zeros",
    ],
)
def test_amount_parses(text: str, expected: Decimal) -> None:
    # The lowest buy price keeps the lot's cost (quantity × price) under its own limit.
    assert parse(AllocationIn, lot(quantity=text, buy_price="0,000001")).quantity == expected


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("0", "validation.positive"),
        ("0,00", "validation.positive"),
        (0, "validation.positive"),
        ("-1", "validation.positive"),
        ("-1.234,56", "validation.positive"),
        (Decimal("-0.01"), "validation.positive"),
        ("NaN", "validation.number"),
        ("nan", "validation.number"),
        (float("nan"), "validation.number"),
        ("inf", "validation.number"),
        ("-Infinity", "validation.number"),
        (float("inf"), "validation.number"),
        ("abc", "validation.number"),
        ("12abc", "validation.number"),
        ("1,2,3", "validation.number"),
        ("1e20", "validation.too_large"),
        ("1000000000000", "validation.too_large"),
        ("1.000.000.000.000", "validation.too_large"),
        ("", "validation.required"),
        ("   ", "validation.required"),
        ("R$ ", "validation.required"),
        (None, "validation.required"),
        (True, "validation.required"),
        ("1,123456789", "validation.decimals"),
        ("0.000000001", "validation.decimals"),
        ("1e-9", "validation.decimals"),
    ],
)
@pytest.mark.parametrize("field", ["quantity", "buy_price"])
def test_bad_amount_has_its_message(field: str, value: Any, key: str) -> None:
    assert keys(AllocationIn, lot(**{field: value})) == {field: key}


def test_decimals_message_says_how_many() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(AllocationIn, lot(buy_price="30,123456789"))
    assert caught.value.field_errors == {"buy_price": ("validation.decimals", {"max": 8})}


def test_missing_fields_are_required() -> None:
    assert keys(AllocationIn, {}) == {
        "quantity": "validation.required",
        "buy_price": "validation.required",
        "buy_date": "validation.required",
    }


def test_every_bad_field_is_reported_at_once() -> None:
    assert keys(AllocationIn, {"quantity": "abc", "buy_price": "0", "buy_date": "x"}) == {
        "quantity": "validation.number",
        "buy_price": "validation.positive",
        "buy_date": "validation.date",
    }


def test_unknown_field_is_refused() -> None:
    assert keys(AllocationIn, lot(client_id=1)) == {"client_id": "validation.unknown_field"}


# -- dates ---------------------------------------------------------------------------------


def test_buy_date_today_is_accepted() -> None:
    today = today_in_brazil()
    assert parse(AllocationIn, lot(buy_date=today)).buy_date == today
    assert parse(AllocationIn, lot(buy_date=today.isoformat())).buy_date == today


@pytest.mark.parametrize("days", [1, 365])
def test_buy_date_in_the_future_is_refused(days: int) -> None:
    future = today_in_brazil() + timedelta(days=days)
    assert keys(AllocationIn, lot(buy_date=future)) == {"buy_date": "validation.future_date"}
    assert keys(AllocationIn, lot(buy_date=future.isoformat())) == {
        "buy_date": "validation.future_date"
    }


@pytest.mark.parametrize(
    "text",
    ["abc", "2024-13-01", "2024-02-30", "31/12/2024", "", "2024-01-02T10:30:00"],
    ids=["word", "month-13", "feb-30", "pt-BR-format", "empty", "datetime"],
)
def test_malformed_buy_date_is_refused(text: str) -> None:
    assert keys(AllocationIn, lot(buy_date=text)) == {"buy_date": "validation.date"}


def test_buy_date_before_1900_is_too_old() -> None:
    assert keys(AllocationIn, lot(buy_date=date(1899, 12, 31))) == {
        "buy_date": "validation.too_old"
    }
    assert parse(AllocationIn, lot(buy_date=date(1900, 1, 1))).buy_date == date(1900, 1, 1)


# -- tickers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" petr4.sa ", "PETR4.SA"),
        ("PETR4.SA", "PETR4.SA"),
        ("aapl", "AAPL"),
        ("^bvsp", "^BVSP"),
        ("btc-usd", "BTC-USD"),
        ("usdbrl=x", "USDBRL=X"),
        ("X" * 24, "X" * 24),
        ("petr4.sa\n", "PETR4.SA"),
        ("PETR4\u00a0", "PETR4.SA"),
    ],
)
def test_symbol_is_trimmed_and_upper_cased(raw: str, expected: str) -> None:
    assert parse(AssetIn, {"symbol": raw}).symbol == expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("<script>", "validation.symbol"),
        ("A B", "validation.symbol"),
        ("X" * 25, "validation.symbol"),
        ("X" * 30, "validation.symbol"),
        ("'; drop", "validation.symbol"),
        ("'; DROP TABLE assets; --", "validation.symbol"),
        (".SA", "validation.symbol"),
        ("ПЕТР4", "validation.symbol"),
        ("", "validation.required"),
        ("   ", "validation.required"),
        (None, "validation.required"),
    ],
    ids=[
        "html",
        "space",
        "25-chars",
        "30-chars",
        "quote",
        "sql",
        "leading-dot",
        "cyrillic",
        "empty",
        "blank",
        "none",
    ],
)
def test_bad_symbol_is_refused(raw: str | None, key: str) -> None:
    assert keys(AssetIn, {"symbol": raw}) == {"symbol": key}


def test_asset_labels_are_cleaned_and_optional() -> None:
    asset = parse(
        AssetIn,
        {
            "symbol": "petr4.sa",
            "name": "  Petróleo\x00 Brasileiro  ",
            "exchange": "",
            "currency": "BRL",
        },
    )
    assert asset.model_dump() == {
        "symbol": "PETR4.SA",
        "name": "Petróleo Brasileiro",
        "exchange": None,
        "asset_type": None,
        "currency": "BRL",
    }


def test_asset_name_over_200_characters_is_too_long() -> None:
    assert keys(AssetIn, {"symbol": "PETR4.SA", "name": "x" * 201}) == {
        "name": "validation.too_long"
    }


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("1.000", "pt_BR", Decimal("1000")),
        ("1.234.567", "pt_BR", Decimal("1234567")),
        ("1.000,5", "pt_BR", Decimal("1000.5")),
        ("2,5", "pt_BR", Decimal("2.5")),
        ("30.50", "pt_BR", Decimal("30.50")),
        ("1,000", "en", Decimal("1000")),
        ("1,000.25", "en", Decimal("1000.25")),
        ("2.5", "en", Decimal("2.5")),
    ],
)
def test_thousands_typed_in_the_users_locale_are_not_decimals(
    text: str, locale: str, expected: Decimal
) -> None:
    lot = parse(
        AllocationIn,
        {
            "quantity": ungroup_number(text, locale),
            "buy_price": "1",
            "buy_date": "2024-01-02",
        },
    )
    assert lot.quantity == expected
