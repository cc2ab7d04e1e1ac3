"""Figures always current: a ledger change recomputes its client at once (issue 12 §4).

Through the real services on the real PostgreSQL, on the book of
``tests.integration.test_closing_jobs`` backfilled through Friday 2026-11-27 with demo closes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from core.market.demo import DemoMarketData
from core.services import client_figures, closing
from core.services.allocations import delete_allocation
from core.services.clients import create_client
from core.services.imports import commit_import
from core.services.principal import SYSTEM, Principal
from tests.integration.test_closing_jobs import (
    FRIDAY,
    RANGE_START,
    Book,
    add_lot,
    book,
    clear,
    daily,
    demo,
    metrics,
    new_uow,
    nov,
    rows,
)

__all__ = ["book", "demo"]  # fixtures


def clean_run(engine: Engine, demo: DemoMarketData) -> tuple[list, list]:
    """What the scheduler computes for the same ledger from scratch."""
    clear(engine)
    closing.backfill(engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    return daily(engine), metrics(engine, as_of=FRIDAY)


def test_a_new_client_with_back_dated_buys_has_its_history_at_once(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    dora = create_client(new_uow(committed_engine), admin, {"name": "Dora", "email": "d@x.com"})

    add_lot(committed_engine, demo, admin, dora.id, "VALE3.SA", "20", "58.00", nov(4))

    # Before: no rows and no metrics until an admin ran the close.
    mine = [r for r in daily(committed_engine) if r[0] == dora.id]
    assert mine[0][1] == nov(4)
    assert mine[-1][1] == FRIDAY
    assert [r[0] for r in metrics(committed_engine, as_of=FRIDAY)] == [
        book.ana,
        book.bruno,
        dora.id,
    ]
    assert (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY)) == clean_run(
        committed_engine, demo
    )


def test_deleting_a_lot_recomputes_and_the_client_stays_in_the_overview(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    (lot_id,) = rows(
        committed_engine,
        "SELECT m.id FROM movements m JOIN assets a ON a.id = m.asset_id "
        "WHERE m.client_id = :c AND a.symbol = 'VALE3.SA'",
        c=book.ana,
    )[0]

    delete_allocation(new_uow(committed_engine), admin, lot_id)

    # Before: Ana's figures from the lot's date were gone and the overview's assets under
    # management dropped by her whole portfolio until the next run.
    after = metrics(committed_engine, as_of=FRIDAY)
    assert [r[0] for r in after] == [book.ana, book.bruno]
    assert (daily(committed_engine), after) == clean_run(committed_engine, demo)


def test_when_the_recompute_fails_the_change_still_lands_and_the_scheduler_catches_up(
    committed_engine: Engine,
    demo: DemoMarketData,
    book: Book,
    admin: Principal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("no rate for this currency")

    monkeypatch.setattr(client_figures, "refresh_clients", broken)
    add_lot(committed_engine, demo, admin, book.ana, "ITUB4.SA", "5", "36", nov(16))

    lots = rows(committed_engine, "SELECT count(*) FROM movements WHERE client_id = :c", c=book.ana)
    assert lots == [(3,)]  # the lot is stored
    assert all(r[1] < nov(16) for r in daily(committed_engine) if r[0] == book.ana)
    monkeypatch.undo()
    assert closing.daily_close(committed_engine, demo, FRIDAY, actor=SYSTEM).ok
    assert (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY)) == clean_run(
        committed_engine, demo
    )


def test_nothing_is_computed_before_any_close_is_stored(
    committed_engine: Engine, book: Book
) -> None:
    # The book's lots were added on an empty database: the scheduler's first run computes.
    assert daily(committed_engine) == []
    assert metrics(committed_engine) == []


def test_an_import_touching_every_client_with_figures_still_recomputes_them_all(
    committed_engine: Engine, demo: DemoMarketData, book: Book, admin: Principal
) -> None:
    # Every client that had figures is invalidated from the 4th: the latest stored day must
    # be read before those rows are deleted, or nothing would be recomputed.
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    data = "\n".join(
        [
            "Cliente;Ativo;Quantidade;Preço de compra;Data de compra",
            "ana@example.com;ITUB4.SA;10;36;04/11/2026",
            "bruno@example.com;VALE3.SA;5;60;04/11/2026",
        ]
    ).encode()

    outcome = commit_import(
        new_uow(committed_engine), demo, admin, "allocations", "l.csv", data, "pt_BR"
    )

    assert outcome is not None
    assert {r[0] for r in metrics(committed_engine, as_of=FRIDAY)} == {book.ana, book.bruno}
    assert (daily(committed_engine), metrics(committed_engine, as_of=FRIDAY)) == clean_run(
        committed_engine, demo
    )
