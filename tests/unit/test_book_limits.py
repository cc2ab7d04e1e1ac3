"""What a lot may be (core.book_limits through core.schemas), without a database: a cost the
stored figures could not hold and a buy price so small its return would overflow are refused
by the schema every form and import row goes through, in Portuguese and in English."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from core.book_limits import (
    CLIENT_INVESTED_LIMIT,
    LOT_COST_LIMIT,
    MIN_BUY_PRICE,
    lot_cost,
    lot_cost_fits,
)
from core.errors import ValidationFailed
from core.i18n import translate
from core.imports.report import ImportReport
from core.imports.validation import check_file
from core.limits import MONEY_LIMIT, RATIO_LIMIT
from core.schemas import parse
from core.trade_schemas import AllocationIn

D = Decimal
LOT_HEADER = "Cliente;Ativo;Quantidade;Preço de compra;Data de compra"


def refusal(quantity: str, buy_price: str) -> dict[str, tuple[str, dict[str, Any]]]:
    data = {"quantity": quantity, "buy_price": buy_price, "buy_date": "2025-03-10"}
    with pytest.raises(ValidationFailed) as caught:
        parse(AllocationIn, data)
    return caught.value.field_errors


def accepted(quantity: str, buy_price: str) -> AllocationIn:
    return parse(
        AllocationIn, {"quantity": quantity, "buy_price": buy_price, "buy_date": "2025-03-10"}
    )


# -- the limits themselves ------------------------------------------------------------------


def test_the_limits_leave_a_tenfold_margin_in_the_columns() -> None:
    assert LOT_COST_LIMIT == CLIENT_INVESTED_LIMIT == D(10) ** 11
    assert CLIENT_INVESTED_LIMIT * 10 == MONEY_LIMIT  # a book at the limit may rise 10x
    assert D("0.000001") == MIN_BUY_PRICE
    # A return is about price now / buy price: from the smallest buy price, only an asset
    # worth 10^6 or more per unit could reach the ratio column's limit.
    assert D(10) ** 6 == RATIO_LIMIT * MIN_BUY_PRICE


def test_the_cost_is_exact_at_the_limit() -> None:
    quantity, price = D("33333332555.5555737"), D("3.00000007")
    assert lot_cost(quantity, price) == D("99999999999.999999988890159")
    assert lot_cost_fits(quantity, price)
    assert lot_cost_fits(D("9999999999.99999999"), D("10"))  # 99,999,999,999.9999999
    assert not lot_cost_fits(D("10000000000"), D("10"))  # exactly 10^11
    assert not lot_cost_fits(D("999999999999.99999999"), D("999999999999.99999999"))


def test_the_messages_name_the_limits_in_both_languages() -> None:
    assert translate("validation.lot_too_large", "pt_BR") == (
        "Quantidade × preço de compra chega a 100 bilhões ou mais (na moeda do ativo): "
        "acima do que o Anka aceita por lote. Confira os dígitos."
    )
    assert "100 billion" in translate("validation.lot_too_large", "en")
    assert "100 bilhões" in translate("validation.client_invested_too_large", "pt_BR")
    assert "100 billion" in translate("validation.client_invested_too_large", "en")
    assert "0,000001" in translate("validation.price_too_small", "pt_BR")
    assert "0.000001" in translate("validation.price_too_small", "en")


# -- a lot's cost ---------------------------------------------------------------------------


def test_a_lot_of_a_million_shares_at_two_million_is_refused() -> None:
    # R$ 2·10^12: numeric(20, 8) could not even hold its invested amount.
    assert refusal("1.000.000", "2.000.000,00") == {"buy_price": ("validation.lot_too_large", {})}


@pytest.mark.parametrize(
    ("quantity", "buy_price"),
    [("100000", "1000000"), ("1", "100000000000"), ("10000000000", "10"), ("200000000", "600")],
    ids=["10^5-x-10^6", "one-share", "many-cheap", "past-the-limit"],
)
def test_a_lot_costing_the_limit_or_more_is_refused(quantity: str, buy_price: str) -> None:
    assert refusal(quantity, buy_price) == {"buy_price": ("validation.lot_too_large", {})}


def test_a_lot_just_below_the_limit_is_accepted() -> None:
    lot = accepted("99999", "1000000")
    assert lot.quantity * lot.buy_price == D("99999000000")
    assert accepted("9999999999,99999999", "10").quantity == D("9999999999.99999999")


def test_a_refused_quantity_leaves_no_cost_to_judge() -> None:
    assert refusal("abc", "2000000000") == {"quantity": ("validation.number", {})}
    assert refusal("0", "2000000000") == {"quantity": ("validation.positive", {})}


# -- a buy price's minimum ------------------------------------------------------------------


@pytest.mark.parametrize("buy_price", ["0,00000001", "0,0000001", "0,00000099"])
def test_a_buy_price_below_the_minimum_is_refused(buy_price: str) -> None:
    # 1 share at 0.00000001 of a ticker worth 50,000: a return of 5·10^12.
    assert refusal("1", buy_price) == {"buy_price": ("validation.price_too_small", {})}


def test_the_minimum_buy_price_itself_is_accepted() -> None:
    assert accepted("1", "0,000001").buy_price == MIN_BUY_PRICE
    assert accepted("0,00000001", "0,000001").quantity == D("0.00000001")  # tiny quantity


def test_other_price_problems_are_named_first() -> None:
    assert refusal("1", "0") == {"buy_price": ("validation.positive", {})}
    assert refusal("1", "0,000000001") == {"buy_price": ("validation.decimals", {"max": 8})}


# -- the import's rows go through the same schema -------------------------------------------


def lots(*rows: str) -> ImportReport:
    data = ("\r\n".join([LOT_HEADER, *rows]) + "\r\n").encode("utf-8")
    return check_file("allocations", "lotes.csv", data, "pt_BR")


def test_an_import_row_over_the_lot_limit_is_refused_and_the_others_read_as_usual() -> None:
    report = lots(
        "ana@example.com;PETR4.SA;100;30;10/03/2025",
        "ana@example.com;PETR4.SA;1.000.000;2.000.000;10/03/2025",
        "ana@example.com;VALE3.SA;1;0,00000001;10/03/2025",
        "ana@example.com;VALE3.SA;10;60;10/03/2025",
    )
    assert {
        row.row: [(r.field, r.key) for r in row.reasons] for row in report.rows if not row.valid
    } == {
        3: [("buy_price", "validation.lot_too_large")],
        4: [("buy_price", "validation.price_too_small")],
    }
    assert [row.row for row in report.rows if row.valid] == [2, 5]
    assert report.rows[0].values["quantity"] == D("100")
    assert not report.ok  # a commit refuses the file, as for any invalid row
