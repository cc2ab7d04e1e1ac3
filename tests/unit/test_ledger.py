"""Positions from a ledger, hand-checked (core/analytics/ledger.py).

Every expected value below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.analytics.ledger import Entry, Kind, Line, Oversold, held_on, walk

D = Decimal


def day(n: int) -> date:
    return date(2025, 3, n)


def buy(n: int, quantity: str, price: str, fees: str = "0") -> Line:
    return Line(Kind.BUY, day(n), quantity=D(quantity), price=D(price), fees=D(fees))


def sell(n: int, quantity: str, price: str, fees: str = "0") -> Line:
    return Line(Kind.SELL, day(n), quantity=D(quantity), price=D(price), fees=D(fees))


def split(n: int, ratio: str) -> Line:
    return Line(Kind.SPLIT, day(n), ratio=D(ratio))


def per_share(kind: Kind, n: int, gross: str, withholding: str = "0") -> Line:
    return Line(kind, day(n), price=D(gross), ratio=D(withholding))


def test_buys_with_fees_make_the_average_cost() -> None:
    # 100 x 10 + 5 = 1005; 50 x 13 + 2.5 = 652.5; 1657.5 / 150 = 11.05
    position = walk([buy(3, "100", "10", "5"), buy(5, "50", "13", "2.5")])

    assert position.quantity == 150
    assert position.cost == D("1657.5")
    assert position.average_cost == D("11.05")
    assert position.bought == D("1657.5")


def test_partial_sell_keeps_the_average_and_realises_the_gain_net_of_fees() -> None:
    # average 11.05; sell 60 at 14 with fees 4: 60 x (14 - 11.05) - 4 = 173; received 836
    position = walk([buy(3, "100", "10", "5"), buy(5, "50", "13", "2.5"), sell(7, "60", "14", "4")])

    assert position.quantity == 90
    assert position.average_cost == D("11.05")
    assert position.realised == D("173")
    assert position.sold == D("836")
    assert position.cost == D("994.5")  # 90 x 11.05


def test_full_sell_then_rebuy_starts_a_new_average() -> None:
    # 100 at 10 sold at 12: realised 200; rebuy 10 at 20: average 20
    position = walk([buy(3, "100", "10"), sell(4, "100", "12"), buy(6, "10", "20")])

    assert position.realised == D("200")
    assert position.quantity == 10
    assert position.average_cost == D("20")


def test_a_sell_on_the_buy_day_is_allowed() -> None:
    # buys come before sells within a day: 10 at 5 bought, 10 at 6 sold: realised 10
    position = walk([sell(3, "10", "6"), buy(3, "10", "5")])

    assert position.quantity == 0
    assert position.realised == D("10")
    assert position.cost == 0


def test_selling_more_than_held_on_that_date_is_refused() -> None:
    with pytest.raises(Oversold) as refused:
        walk([buy(3, "10", "5"), sell(4, "11", "6"), buy(5, "10", "5")])

    assert refused.value.held == 10


def test_split_scales_quantity_and_average_inversely_and_keeps_the_cost() -> None:
    # 10 at 808.48 (8084.80), split 4-for-1: 40 at 202.12
    position = walk([buy(3, "10", "808.48"), split(10, "4")])

    assert position.quantity == 40
    assert position.average_cost == D("202.12")
    assert position.cost == D("8084.80")


def test_reverse_split_grupamento() -> None:
    # 1000 at 0.50, 10-into-1 (ratio 0.1): 100 at 5.00
    position = walk([buy(3, "1000", "0.50"), split(10, "0.1")])

    assert position.quantity == 100
    assert position.average_cost == D("5")


def test_sell_then_split() -> None:
    # 100 at 10, sell 40 at 12 (realised 80), split 2-for-1: 120 at 5
    position = walk([buy(3, "100", "10"), sell(4, "40", "12"), split(10, "2")])

    assert position.quantity == 120
    assert position.average_cost == D("5")
    assert position.realised == D("80")


def test_bonus_shares_with_their_assigned_cost() -> None:
    # 200 at 15 (3000); 10 % bonus (20 new shares) at an assigned cost of 4.50: 90
    # average (3000 + 90) / 220 = 14.0454545...
    bonus = Line(Kind.BONUS, day(10), ratio=D("0.1"), price=D("4.50"))
    position = walk([buy(3, "200", "15"), bonus])

    assert position.quantity == 220
    assert position.cost == D("3090")
    assert position.bought == D("3000")  # bonus shares are not money paid in
    assert position.entries[-1] == Entry(day(10), D("20"), D("4.50"))


def test_dividend_on_the_quantity_held_before_the_ex_date() -> None:
    # 300 held, dividend of 0.85 per share: 255
    position = walk([buy(3, "300", "20"), per_share(Kind.DIVIDEND, 10, "0.85")])

    assert position.income == D("255")
    assert position.entries[-1] == Entry(
        day(10), D("0"), D("0"), money_out=D("255"), income=D("255")
    )


def test_jcp_net_of_its_withholding() -> None:
    # 300 x 1.20 = 360 gross, 15 % withheld (54): 306
    position = walk([buy(3, "300", "20"), per_share(Kind.JCP, 10, "1.20", "0.15")])

    assert position.income == D("306")


def test_income_on_a_day_with_a_buy_is_due_only_on_the_shares_held_before() -> None:
    # 100 held, 50 more bought on the ex-date: 100 x 0.50 = 50
    lines = [buy(3, "100", "20"), buy(10, "50", "21"), per_share(Kind.DIVIDEND, 10, "0.50")]

    assert walk(lines).income == D("50")


def test_bonus_shares_of_the_ex_date_earn_no_income_of_the_same_ex_date() -> None:
    # 200 held; the same ex-date brings a 10 % bonus (20 new shares) and 0.50 a share:
    # due on the 200 carried in, 100 (not 220 x 0.50 = 110); then 220 are held
    bonus = Line(Kind.BONUS, day(10), ratio=D("0.1"), price=D("4.50"))
    lines = [buy(3, "200", "15"), bonus, per_share(Kind.DIVIDEND, 10, "0.50")]
    position = walk(lines)

    assert position.income == D("100")
    assert position.quantity == 220


def test_no_income_for_a_position_bought_after_the_ex_date() -> None:
    position = walk([per_share(Kind.DIVIDEND, 10, "0.50"), buy(11, "100", "20")])

    assert position.income == 0
    assert [e.money_out for e in position.entries] == [0]


def test_income_typed_by_hand_counts_net_of_its_tax() -> None:
    typed = Line(Kind.INCOME, day(12), amount=D("500"), tax=D("75"))

    assert walk([buy(3, "10", "100"), typed]).income == D("425")


def test_total_return_counts_sells_and_income() -> None:
    # bought 100 x 10 + 50 x 20 = 2000; dividend of 1 on day 5 with 150 held: 150;
    # sold 50 at 25: 1250; 100 left
    lines = [
        buy(3, "100", "10"),
        buy(4, "50", "20"),
        per_share(Kind.DIVIDEND, 5, "1"),
        sell(6, "50", "25"),
    ]
    position = walk(lines)

    # Q x P + sold + income - bought = 100 x 22 + 1250 + 150 - 2000 = 1600; 1600 / 2000
    assert position.total_return(D("22")) == (D("1600"), D("0.8"))
    assert position.unrealised(D("22")) == D("2200") - position.cost


def test_held_on_a_date() -> None:
    lines = [buy(3, "100", "10"), split(5, "2"), sell(7, "30", "6")]

    assert [held_on(lines, day(n)) for n in (2, 3, 5, 7)] == [0, 100, 200, 170]
