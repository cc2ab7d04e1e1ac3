"""The statement's lines of income and movements (core.reports.statement_pdf), by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.i18n import Translator
from core.reports.statement_pdf import _amount, _what
from core.trade_schemas import LedgerLineOut, MovementOut

PT = Translator("pt_BR")
D = Decimal
DAY = date(2025, 3, 10)


def event(kind: str, ratio: str, value: str, held: str = "100") -> LedgerLineOut:
    return LedgerLineOut(
        date=DAY,
        symbol="ITSA4.SA",
        is_event=True,
        event_kind=kind,
        ratio=D(ratio),
        value=D(value),
        held=D(held),
    )


def test_jcp_per_share_is_net_of_its_withholding() -> None:
    # 100 held x R$ 1,20 x (1 - 15 %) = 102,00
    line = event("jcp", "0.15", "1.20")
    assert _amount(line, PT) == "102,00"
    assert _what(line, PT) == PT("event_kind.jcp")


def test_a_dividend_per_share_and_bonus_shares() -> None:
    assert _amount(event("dividend", "0", "0.50"), PT) == "50,00"
    assert _amount(event("bonus", "0.1", "4.50"), PT) == ""  # bonus shares move no money
    assert _amount(event("split", "2", "0"), PT) == ""


def test_a_buy_counts_its_fees_and_a_sell_nets_them() -> None:
    def trade(kind: str) -> LedgerLineOut:
        movement = MovementOut(
            id=1,
            client_id=1,
            symbol="PETR4.SA",
            name="Petrobras",
            currency="BRL",
            kind=kind,
            date=DAY,
            quantity=D("1000"),
            price=D("30.5"),
            fees=D("4.90"),
            income_type=None,
            amount=D(0),
            tax=D(0),
        )
        return LedgerLineOut(date=DAY, symbol="PETR4.SA", is_event=False, movement=movement)

    assert _amount(trade("buy"), PT) == "30.504,90"
    assert _amount(trade("sell"), PT) == "30.495,10"
    assert _what(trade("buy"), PT) == f"{PT('ledger.kind.buy')} · 1.000 × 30,50"
