"""A lot's fees (brokerage, exchange) through core.schemas.parse: blank is zero, either
locale, never negative, with the message in pt-BR."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from core.errors import ValidationFailed
from core.i18n import Translator
from core.schemas import parse
from core.trade_schemas import AllocationIn

GOOD_LOT: dict[str, Any] = {"quantity": "100", "buy_price": "30,00", "buy_date": "2024-01-02"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4,90", "4.90"), ("4.90", "4.90"), ("1.234,56", "1234.56"), ("0", "0"), ("", "0")],
    ids=["pt-BR", "en", "grouped", "zero", "blank"],
)
def test_fees_are_read_in_either_locale_and_blank_is_zero(text: str, expected: str) -> None:
    lot = parse(AllocationIn, {**GOOD_LOT, "fees": text})
    assert lot.fees == Decimal(expected)
    assert "fees" in lot.model_fields_set  # a form always states them


def test_a_lot_without_fees_has_none_and_says_it_left_them_out() -> None:
    lot = parse(AllocationIn, GOOD_LOT)
    assert lot.fees == 0
    assert "fees" not in lot.model_fields_set  # an edit then keeps the stored fees


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("-1", "validation.non_negative"),
        ("-0,01", "validation.non_negative"),
        ("abc", "validation.number"),
        ("1,123456789", "validation.decimals"),
    ],
)
def test_refused_fees_name_the_field(text: str, key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(AllocationIn, {**GOOD_LOT, "fees": text})
    assert {f: k for f, (k, _p) in caught.value.field_errors.items()} == {"fees": key}


def test_negative_fees_are_refused_in_portuguese_and_english() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(AllocationIn, {**GOOD_LOT, "fees": "-5"})
    key, params = caught.value.field_errors["fees"]
    assert Translator("pt_BR")(key, **params) == "Informe zero ou um valor positivo."
    assert Translator("en")(key, **params) == "Enter zero or a positive value."
