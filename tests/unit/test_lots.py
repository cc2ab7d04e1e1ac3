"""Per-lot figures (core.analytics.lots) against hand-checked Decimal tables."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.analytics.lots import LotFigures, accumulated_return, daily_change, lot_figures, weight

D = Decimal


@pytest.mark.parametrize(
    ("price", "previous_close", "expected"),
    [
        (D("33.00"), D("32.00"), D("0.03125")),
        (D("32.00"), D("32.00"), D("0")),
        (D("24.00"), D("32.00"), D("-0.25")),
        (D("10"), D("8"), D("0.25")),
        (D("0.01"), D("0.02"), D("-0.5")),
        (D("33.00"), None, None),
        (D("33.00"), D("0"), None),
        (D("33.00"), D("-1"), None),
    ],
    ids=["up", "flat", "down", "ints", "cents", "no-close", "zero-close", "negative-close"],
)
def test_daily_change(price: Decimal, previous_close: Decimal | None, expected: Decimal) -> None:
    assert daily_change(price, previous_close) == expected


@pytest.mark.parametrize(
    ("price", "buy_price", "expected"),
    [
        (D("33.00"), D("30.00"), D("0.1")),
        (D("30.00"), D("30.00"), D("0")),
        (D("15.00"), D("30.00"), D("-0.5")),
        (D("60.00"), D("30.00"), D("1")),
        (D("30.50"), D("30.00"), D("0.5") / D("30")),
        (D("0.01"), D("100"), D("-0.9999")),
    ],
    ids=["+10%", "flat", "-50%", "doubled", "repeating", "near-total-loss"],
)
def test_accumulated_return(price: Decimal, buy_price: Decimal, expected: Decimal) -> None:
    assert accumulated_return(price, buy_price) == expected


def test_accumulated_return_keeps_full_precision_close_to_one() -> None:
    # P / p0 - 1 would lose the digits cancelled by "- 1"; (P - p0) / p0 keeps all 28.
    result = accumulated_return(D("30.00000001"), D("30"))
    assert result == D("0.00000001") / D("30")
    assert len(result.as_tuple().digits) == 28


@pytest.mark.parametrize(
    ("quantity", "buy_price", "price", "previous_close", "expected"),
    [
        (
            D("100"),
            D("30.00"),
            D("33.00"),
            D("32.00"),
            LotFigures(
                invested=D("3000"),
                market_value=D("3300"),
                gain=D("300"),
                accumulated_return=D("0.1"),
                daily_change=D("0.03125"),
            ),
        ),
        (
            D("10"),
            D("30.50"),
            D("28.00"),
            None,
            LotFigures(
                invested=D("305"),
                market_value=D("280"),
                gain=D("-25"),
                accumulated_return=D("-2.5") / D("30.5"),
                daily_change=None,
            ),
        ),
        (
            D("0.5"),
            D("60000"),
            D("66000"),
            D("60000"),
            LotFigures(
                invested=D("30000"),
                market_value=D("33000"),
                gain=D("3000"),
                accumulated_return=D("0.1"),
                daily_change=D("0.1"),
            ),
        ),
        (
            D("3.12345678"),
            D("12.34567890"),
            D("12.34567890"),
            D("12.00"),
            LotFigures(
                invested=D("38.5611944639079420"),
                market_value=D("38.5611944639079420"),
                gain=D("0"),
                accumulated_return=D("0"),
                daily_change=D("0.02880657500"),
            ),
        ),
    ],
    ids=["round-lot", "loss-no-close", "fractional-crypto", "eight-decimals"],
)
def test_lot_figures(
    quantity: Decimal,
    buy_price: Decimal,
    price: Decimal,
    previous_close: Decimal | None,
    expected: LotFigures,
) -> None:
    assert lot_figures(quantity, buy_price, price, previous_close) == expected


def test_lot_figures_are_exact_for_the_widest_stored_numbers() -> None:
    # Numeric(20, 8) on both sides: products have up to 40 digits, none may be rounded.
    # With e = 10^-8: q = P = 10^12 - e and p0 = 10^12 - 2e, so
    # q * p0 = 10^24 - 3e * 10^12 + 2e^2, q * P = 10^24 - 2e * 10^12 + e^2, gain = q * e.
    q, p0, p = D("999999999999.99999999"), D("999999999999.99999998"), D("999999999999.99999999")
    figures = lot_figures(q, p0, p, None)
    assert figures.invested == D("999999999999999999970000.0000000000000002")
    assert figures.market_value == D("999999999999999999980000.0000000000000001")
    assert figures.gain == D("9999.9999999999999999")
    with localcontext(prec=80):
        assert figures.gain == figures.market_value - figures.invested


@pytest.mark.parametrize(
    ("market_value", "total", "expected"),
    [
        (D("3300"), D("3300"), D("1")),
        (D("25"), D("100"), D("0.25")),
        (D("0"), D("100"), D("0")),
        (D("1"), D("3"), D("1") / D("3")),
        (D("10"), D("0"), None),
        (D("0"), D("0"), None),
    ],
    ids=["only-lot", "quarter", "worthless-lot", "third", "zero-total", "all-zero"],
)
def test_weight(market_value: Decimal, total: Decimal, expected: Decimal | None) -> None:
    assert weight(market_value, total) == expected


# Amounts as the schemas accept them: positive, below 10^12, at most 8 decimals.
amounts = st.decimals(
    min_value=D("0.00000001"),
    max_value=D("999999999999.99999999"),
    places=8,
    allow_nan=False,
    allow_infinity=False,
)


@given(quantity=amounts, buy_price=amounts, price=amounts)
def test_gain_and_return_agree_with_invested_and_market_value(
    quantity: Decimal, buy_price: Decimal, price: Decimal
) -> None:
    figures = lot_figures(quantity, buy_price, price, None)
    with localcontext(prec=80):  # the check itself must not round
        assert figures.invested == quantity * buy_price
        assert figures.market_value == quantity * price
        assert figures.gain == figures.market_value - figures.invested
    # One rounding of the same ratio on both sides (the default 28-digit context).
    assert figures.accumulated_return == figures.gain / figures.invested
    assert figures.daily_change is None


@given(price=amounts, previous_close=amounts)
def test_daily_change_is_the_price_over_the_close(price: Decimal, previous_close: Decimal) -> None:
    change = daily_change(price, previous_close)
    assert change is not None
    assert (change > 0) == (price > previous_close)
    assert (change == 0) == (price == previous_close)
