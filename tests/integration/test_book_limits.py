"""Lots the stored figures could not hold are refused, against the real PostgreSQL: one lot
too large (the schema), a client's invested total taken to the limit (the allocation
service, counting the client's stored lots), an edit that raises it, the import's rows
counted with the file's other rows and the stored lots, and two lots saved at once.

The limit is 10^11 (core.book_limits): a lot of 60,000 shares at 1,000,000 costs 6·10^10,
so two of them for one client reach 1.2·10^11.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from core.db import UnitOfWork, uow_factory
from core.errors import ValidationFailed
from core.i18n import translate
from core.imports.report import ImportRejected, ImportReport
from core.market.demo import DemoMarketData
from core.models import Asset, AuditEntry, Movement
from core.schemas import ClientOut
from core.services.allocations import add_allocation, update_allocation
from core.services.clients import create_client
from core.services.imports import commit_import, preview_import
from core.services.principal import Principal
from core.trade_schemas import AllocationOut
from tests.integration.test_allocations_service import FakeMarket, fixed_clock

MakeUow = Callable[[], UnitOfWork]
D = Decimal
BUY = "2025-03-10"
LOT_HEADER = "Cliente;Ativo;Quantidade;Preço de compra;Data de compra"
TOO_LARGE = {"buy_price": ("validation.lot_too_large", {})}
PAST_THE_BOOK = {"buy_price": ("validation.client_invested_too_large", {})}


@pytest.fixture
def demo() -> DemoMarketData:
    return DemoMarketData(clock=fixed_clock)


@pytest.fixture
def maria(make_uow: MakeUow, admin: Principal) -> ClientOut:
    return create_client(make_uow(), admin, {"name": "Maria Souza", "email": "maria@example.com"})


@pytest.fixture
def joao(make_uow: MakeUow, admin: Principal) -> ClientOut:
    return create_client(make_uow(), admin, {"name": "João Lima", "email": "joao@example.com"})


def lot(quantity: str, buy_price: str = "1.000.000", buy_date: str = BUY) -> dict[str, str]:
    return {"quantity": quantity, "buy_price": buy_price, "buy_date": buy_date}


def add(
    make_uow: MakeUow, market: Any, actor: Principal, client_id: int, symbol: str, quantity: str
) -> AllocationOut:
    return add_allocation(make_uow(), market, actor, client_id, {"symbol": symbol}, lot(quantity))


def refused(call: Callable[[], Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    with pytest.raises(ValidationFailed) as caught:
        call()
    return caught.value.field_errors


def count(make_uow: MakeUow, model: type[Any], **where: Any) -> int:
    stmt = select(func.count()).select_from(model).filter_by(**where)
    with make_uow() as uow:
        return int(uow.session.scalar(stmt) or 0)


def lots_of(make_uow: MakeUow, client_id: int) -> list[tuple[str, Decimal, Decimal]]:
    with make_uow() as uow:
        return [
            (asset.symbol, found.quantity, found.price)
            for found, asset in uow.allocations.for_client(client_id)
        ]


def audit_actions(make_uow: MakeUow) -> list[str]:
    stmt = select(AuditEntry.action).where(AuditEntry.entity == "allocation")
    with make_uow() as uow:
        return list(uow.session.scalars(stmt.order_by(AuditEntry.id)))


# -- one lot --------------------------------------------------------------------------------


def test_a_million_shares_at_two_million_are_refused_in_portuguese_and_nothing_is_stored(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: ClientOut
) -> None:
    errors = refused(
        lambda: add_allocation(
            make_uow(),
            demo,
            admin,
            maria.id,
            {"symbol": "PETR4.SA"},
            lot("1.000.000", "2.000.000,00"),
        )
    )

    assert errors == TOO_LARGE
    ((key, params),) = errors.values()
    assert translate(key, "pt_BR", **params) == (
        "Quantidade × preço de compra chega a 100 bilhões ou mais (na moeda do ativo): "
        "acima do que o Anka aceita por lote. Confira os dígitos."
    )
    assert demo.calls["quotes"] == 0  # refused before asking market data
    assert count(make_uow, Asset) == 0
    assert count(make_uow, Movement) == 0
    assert audit_actions(make_uow) == []


def test_a_tiny_buy_price_is_refused(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: ClientOut
) -> None:
    # 1 share at 0.00000001 of a ticker worth ~60 would be a return of ~6·10^9 on its first
    # day; of one worth 50,000, 5·10^12: more than numeric(24, 12) holds.
    errors = refused(
        lambda: add_allocation(
            make_uow(), demo, admin, maria.id, {"symbol": "VALE3.SA"}, lot("1", "0,00000001")
        )
    )
    assert errors == {"buy_price": ("validation.price_too_small", {})}
    assert demo.calls["quotes"] == 0
    assert count(make_uow, Movement) == 0


# -- the client's book ----------------------------------------------------------------------


def test_the_lot_that_would_take_the_clients_total_to_the_limit_is_refused(
    make_uow: MakeUow, admin: Principal, maria: ClientOut, joao: ClientOut
) -> None:
    market = FakeMarket({s: ("1000000", None, "BRL") for s in ("AAAA3.SA", "BBBB3.SA", "CCCC3.SA")})
    add(make_uow, market, admin, maria.id, "AAAA3.SA", "60000")  # 6·10^10: fits on its own

    # A second one (a new ticker): 1.2·10^11 for Maria, refused before any market call.
    assert refused(lambda: add(make_uow, market, admin, maria.id, "BBBB3.SA", "60000")) == (
        PAST_THE_BOOK
    )
    assert market.calls == [["AAAA3.SA"]]
    assert count(make_uow, Asset, symbol="BBBB3.SA") == 0
    # What still fits is accepted, up to just below the limit; reaching it exactly is not.
    add(make_uow, market, admin, maria.id, "AAAA3.SA", "39999,99999999")
    assert refused(lambda: add(make_uow, market, admin, maria.id, "AAAA3.SA", "0,00000001")) == (
        PAST_THE_BOOK
    )
    # The limit is per client: João's book is his own.
    add(make_uow, market, admin, joao.id, "AAAA3.SA", "60000")

    assert lots_of(make_uow, maria.id) == [
        ("AAAA3.SA", D("60000"), D("1000000")),
        ("AAAA3.SA", D("39999.99999999"), D("1000000")),
    ]
    assert count(make_uow, Movement) == 3
    assert audit_actions(make_uow) == ["create"] * 3


def test_the_refusal_says_so_in_both_languages() -> None:
    assert translate("validation.client_invested_too_large", "pt_BR") == (
        "Com este lote, o total investido do cliente (quantidade × preço de compra somados em "
        "todos os lotes, cada um na moeda do seu ativo) chegaria a 100 bilhões ou mais: acima "
        "do que o Anka aceita por cliente. Confira os dígitos."
    )
    assert translate("validation.client_invested_too_large", "en") == (
        "With this lot, the client's total invested (quantity × buy price summed over all "
        "their lots, each in its asset's currency) would reach 100 billion or more: more than "
        "Anka accepts for one client. Check the digits."
    )


def test_editing_a_lot_up_past_the_limit_is_refused_and_the_lot_is_kept(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: ClientOut
) -> None:
    first = add(make_uow, demo, admin, maria.id, "PETR4.SA", "60000")  # 6·10^10
    second = add(make_uow, demo, admin, maria.id, "VALE3.SA", "30000")  # 3·10^10

    assert refused(lambda: update_allocation(make_uow(), admin, second.id, lot("50000"))) == (
        PAST_THE_BOOK
    )
    assert refused(lambda: update_allocation(make_uow(), admin, first.id, lot("70000"))) == (
        PAST_THE_BOOK
    )
    assert lots_of(make_uow, maria.id) == [
        ("PETR4.SA", D("60000"), D("1000000")),
        ("VALE3.SA", D("30000"), D("1000000")),
    ]
    assert audit_actions(make_uow) == ["create", "create"]

    # The edited lot's stored cost is not counted twice: 6.9 + 3 = 9.9 (·10^10) fits.
    update_allocation(make_uow(), admin, first.id, lot("69000"))
    assert lots_of(make_uow, maria.id)[0] == ("PETR4.SA", D("69000"), D("1000000"))


def test_a_book_stored_past_the_limit_may_come_down_but_not_go_up(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: ClientOut
) -> None:
    small = add(make_uow, demo, admin, maria.id, "PETR4.SA", "1")
    with make_uow() as uow:  # stored before the limit existed: 1.2·10^11
        asset_id = uow.session.scalar(select(Asset.id).where(Asset.symbol == "PETR4.SA"))
        for _ in range(2):
            uow.session.add(
                Movement(
                    client_id=maria.id,
                    asset_id=asset_id,
                    quantity=D("60000"),
                    price=D("1000000"),
                    date=date(2025, 3, 10),
                )
            )
        uow.commit()

    update_allocation(make_uow(), admin, small.id, lot("0,5"))  # lower: accepted
    assert refused(lambda: update_allocation(make_uow(), admin, small.id, lot("2"))) == (
        PAST_THE_BOOK
    )
    assert refused(lambda: add(make_uow, demo, admin, maria.id, "PETR4.SA", "1")) == (PAST_THE_BOOK)
    assert [q for _, q, _ in lots_of(make_uow, maria.id)] == [D("0.5"), D("60000"), D("60000")]


# -- the import -----------------------------------------------------------------------------


def csv_file(*rows: str) -> bytes:
    return ("\r\n".join([LOT_HEADER, *rows]) + "\r\n").encode("utf-8")


def reasons(report: ImportReport) -> dict[int, list[tuple[str | None, str, dict[str, Any]]]]:
    return {
        row.row: [(r.field, r.key, r.params) for r in row.reasons]
        for row in report.rows
        if not row.valid
    }


def test_the_import_counts_the_files_rows_with_the_stored_lots(
    make_uow: MakeUow, admin: Principal, demo: DemoMarketData, maria: ClientOut, joao: ClientOut
) -> None:
    add(make_uow, demo, admin, maria.id, "PETR4.SA", "60000")  # Maria holds 6·10^10
    rows = [
        "maria@example.com;PETR4.SA;60000;1.000.000;10/03/2025",  # the stored lot: unchanged
        "maria@example.com;VALE3.SA;30000;1.000.000;10/03/2025",  # 9·10^10
        "maria@example.com;VALE3.SA;20000;1.000.000;11/03/2025",  # 1.1·10^11: refused
        "maria@example.com;VALE3.SA;9999;1.000.000;12/03/2025",  # 9.9999·10^10, without row 4
        "joao@example.com;VALE3.SA;60000;1.000.000;10/03/2025",  # João's own book
        "joao@example.com;VALE3.SA;1.000.000;2.000.000;10/03/2025",  # one lot too large
    ]
    data = csv_file(*rows)
    expected = {
        4: [("buy_price", "validation.client_invested_too_large", {})],
        7: [("buy_price", "validation.lot_too_large", {})],
    }

    # As for any invalid row: the others are read and planned, the file cannot be imported.
    report = preview_import(make_uow(), demo, admin, "allocations", "lotes.csv", data, "pt_BR")
    assert reasons(report) == expected
    assert [(row.row, row.action) for row in report.rows if row.valid] == [
        (2, "unchanged"),
        (3, "create"),
        (5, "create"),
        (6, "create"),
    ]
    assert not report.ok

    def rejected(data: bytes) -> dict[int, list[tuple[str | None, str, dict[str, Any]]]]:
        with pytest.raises(ImportRejected) as caught:
            commit_import(make_uow(), demo, admin, "allocations", "lotes.csv", data, "pt_BR")
        return reasons(caught.value.report)

    # A commit stops at the rows refused on their own, before counting books (as it does
    # for any invalid row); without them, the row past Maria's limit refuses the file.
    assert rejected(data) == {7: expected[7]}
    assert rejected(csv_file(*rows[:-1])) == {4: expected[4]}
    assert lots_of(make_uow, maria.id) == [("PETR4.SA", D("60000"), D("1000000"))]
    assert lots_of(make_uow, joao.id) == []
    assert count(make_uow, Asset) == 1
    assert count(make_uow, AuditEntry, entity="import") == 0

    fixed = csv_file(
        "maria@example.com;VALE3.SA;30000;1.000.000;10/03/2025",
        "maria@example.com;VALE3.SA;9999;1.000.000;12/03/2025",
    )
    outcome = commit_import(make_uow(), demo, admin, "allocations", "l.csv", fixed, "pt_BR")
    assert outcome.created == 2


# -- two lots for one client at the same moment (real commits) -------------------------------


def test_two_lots_saved_at_once_for_one_client_are_judged_one_after_the_other(
    committed_engine: Engine, admin: Principal, demo: DemoMarketData
) -> None:
    make = lambda: UnitOfWork(uow_factory(committed_engine))  # noqa: E731
    client = create_client(make(), admin, {"name": "Ana Lima", "email": "ana@example.com"})
    add(make, demo, admin, client.id, "PETR4.SA", "1")  # the asset exists: no market call
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def worker(index: int) -> None:
        uow = make()
        try:
            barrier.wait(timeout=10)
            results[index] = add_allocation(
                uow, demo, admin, client.id, {"symbol": "PETR4.SA"}, lot("60000")
            )
        except Exception as exc:  # collected and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"

    stored = [r for r in results if isinstance(r, AllocationOut)]
    refusals = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(stored) == 1, results
    assert len(refusals) == 1, results
    assert refusals[0].field_errors == PAST_THE_BOOK
    with committed_engine.connect() as conn:
        total = conn.execute(text("SELECT sum(quantity * price) FROM movements")).scalar()
    assert total == D("60001000000")
