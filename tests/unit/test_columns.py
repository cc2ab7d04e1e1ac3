"""Cells as values and how the column configuration shows them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

from core.i18n import Translator
from core.services.portfolio import AllocationRow
from dashboard.components import columns
from dashboard.components.portfolio_table import allocations_config, allocations_frame

PT = Translator("pt_BR")
EN = Translator("en")


def test_cells_are_floats_or_empty() -> None:
    assert columns.number(Decimal("1234.56")) == 1234.56
    assert columns.number(None) is None
    assert columns.number(Decimal("NaN")) is None
    assert columns.number(float("inf")) is None


def test_quantities_get_the_decimals_they_have_at_most_eight() -> None:
    assert columns.quantity_places([Decimal("100.00000000"), Decimal("2.5")]) == 1
    assert columns.quantity_places([Decimal("0.000123456789")]) == 8
    assert columns.quantity_places([None, 3]) == 0


def test_formats_follow_the_locale_and_the_kind_of_number() -> None:
    assert columns.day(PT)["type_config"]["format"] == "DD/MM/YYYY"
    assert columns.day(EN)["type_config"]["format"] == "YYYY-MM-DD"
    assert columns.timestamp(PT)["type_config"]["format"] == "DD/MM/YYYY HH:mm:ss"
    money = columns.money()["type_config"]
    assert (money["format"], money["step"]) == ("localized", 0.01)
    percent = columns.percent(places=1)["type_config"]
    assert (percent["format"], percent["step"]) == ("percent", 0.001)


def test_timestamps_are_shown_in_sao_paulo_time() -> None:
    moment = datetime(2025, 3, 31, 21, 0, 5, tzinfo=UTC)
    assert columns.local_time(moment) == datetime(2025, 3, 31, 18, 0, 5)
    assert columns.local_time(None) is None


def test_the_allocations_table_holds_numbers_and_its_currency() -> None:
    rows = [
        AllocationRow(
            allocation_id=1,
            symbol="AAPL",
            name="Apple",
            currency="USD",
            quantity=Decimal("2.5"),
            buy_price=Decimal("150"),
            buy_date=date(2025, 3, 10),
            invested=Decimal("375"),
            price=Decimal("160"),
            daily_change=Decimal("0.0123"),
            accumulated_return=Decimal("0.0667"),
            gain=Decimal("25"),
            market_value=Decimal("400"),
            weight=Decimal("1"),
        ),
        AllocationRow(
            allocation_id=2,
            symbol="PETR4.SA",
            name="Petrobras",
            currency="BRL",
            quantity=Decimal("100"),
            buy_price=Decimal("30"),
            buy_date=date(2025, 3, 10),
            invested=Decimal("3000"),
            failure="no_data",
        ),
    ]
    frame = allocations_frame(rows, PT)
    aapl, petr = frame.to_dict("records")
    assert aapl["Moeda"] == "US$"
    assert petr["Moeda"] == "R$"
    assert aapl["Quantidade"] == 2.5
    assert aapl["Investido"] == 375
    assert aapl["Variação do dia"] == 0.0123  # a ratio: the "percent" preset shows 1,23%
    assert pd.isna(petr["Preço atual"])
    assert petr["Observação"]
    config = allocations_config(rows, PT)
    assert config["Quantidade"]["type_config"]["step"] == 0.1  # 2,5 and 100,0
    assert config["Peso"]["type_config"]["format"] == "percent"
