"""Allocation by class and by asset on hand-checked values, in reais across currencies."""

from __future__ import annotations

from decimal import Decimal

from core.analytics.allocation import allocation
from core.services.positions import PositionRow

D = Decimal


def row(
    symbol: str, asset_class: str | None, value_brl: str | None, quantity: str = "1"
) -> PositionRow:
    return PositionRow(
        asset_id=len(symbol),
        symbol=symbol,
        name=f"{symbol} name",
        currency="BRL",
        asset_class=asset_class,
        quantity=D(quantity),
        market_value_brl=None if value_brl is None else D(value_brl),
    )


def test_petr4_mxrf11_and_aapl_in_reais() -> None:
    # PETR4 R$ 3.000, MXRF11 R$ 1.000, AAPL US$ 200 at 5,00 = R$ 1.000: total R$ 5.000.
    rows = [
        row("AAPL", "exterior", "1000"),
        row("MXRF11.SA", "fiis", "1000"),
        row("PETR4.SA", "acoes", "3000"),
    ]
    found = allocation(rows, D("5000"))
    assert [(c.asset_class, c.value_brl, c.weight, c.assets) for c in found.classes] == [
        ("acoes", D("3000"), D("0.6"), 1),
        ("fiis", D("1000"), D("0.2"), 1),  # ties in value: the classes' own order
        ("exterior", D("1000"), D("0.2"), 1),
    ]
    assert [(a.symbol, a.weight, a.weight_in_class) for a in found.assets] == [
        ("PETR4.SA", D("0.6"), D(1)),
        ("MXRF11.SA", D("0.2"), D(1)),
        ("AAPL", D("0.2"), D(1)),
    ]
    assert found.unvalued == 0


def test_two_assets_of_one_class_and_what_is_left_out() -> None:
    rows = [
        row("PETR4.SA", "acoes", "3000"),
        row("VALE3.SA", "acoes", "1000"),
        row("BOVA11.SA", "etfs", "1000"),
        row("WEGE3.SA", "acoes", "0", quantity="0"),  # closed
        row("ITUB4.SA", "acoes", None),  # no quote
    ]
    found = allocation(rows, D("5000"))
    assert [(c.asset_class, c.value_brl, c.weight, c.assets) for c in found.classes] == [
        ("acoes", D("4000"), D("0.8"), 2),
        ("etfs", D("1000"), D("0.2"), 1),
    ]
    assert [(a.symbol, a.weight_in_class) for a in found.assets] == [
        ("PETR4.SA", D("0.75")),
        ("VALE3.SA", D("0.25")),
        ("BOVA11.SA", D(1)),
    ]
    assert found.unvalued == 1


def test_without_the_total_in_reais_no_weight_is_given() -> None:
    found = allocation([row("PETR4.SA", "acoes", "3000"), row("AAPL", "exterior", None)], None)
    assert [(c.asset_class, c.value_brl, c.weight) for c in found.classes] == [
        ("acoes", D("3000"), None)
    ]
    assert found.assets[0].weight is None
    assert found.assets[0].weight_in_class == D(1)
    assert found.unvalued == 1


def test_nothing_held() -> None:
    found = allocation([], None)
    assert found.classes == []
    assert found.assets == []
