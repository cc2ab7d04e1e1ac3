"""The events service on the real PostgreSQL with real commits: an admin's correction of an
asset's event changes every holder's stored figures at once, and the scheduler keeps it.

The book is :mod:`tests.integration.test_closing_jobs`' (Ana holds 100 PETR4 since
2026-11-03, Bruno 50 since 2026-11-23), its figures computed by a backfill on the demo
adapter after Yahoo's dividend of R$ 1,00 per PETR4 share on 2026-11-25 was stored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.i18n import translate
from core.market.demo import DemoMarketData
from core.services import closing
from core.services import events as event_service
from core.services.principal import SYSTEM, Principal
from tests.integration.test_closing_jobs import (  # noqa: F401  # fixtures
    FRIDAY,
    RANGE_START,
    Book,
    book,
    demo,
    new_uow,
    nov,
    rows,
)

D = Decimal
EX_DATE = nov(25)


def income_on(engine: Engine, client_id: int, day: date = EX_DATE) -> tuple[Any, Any]:
    """(income, flow_out) of the client's stored daily row on ``day``."""
    found = rows(
        engine,
        "SELECT income, flow_out FROM daily_returns WHERE client_id = :c AND date = :d",
        c=client_id,
        d=day,
    )
    assert found, f"no stored figures for client {client_id} on {day}"
    return found[0]


def events(engine: Engine) -> list[tuple[Any, ...]]:
    return rows(
        engine,
        "SELECT kind, ex_date, ratio, value, source, dismissed, corrected "
        "FROM asset_events ORDER BY ex_date, kind",
    )


def audit(engine: Engine) -> list[tuple[Any, ...]]:
    return rows(
        engine,
        "SELECT action, entity_id, before, after FROM audit_log "
        "WHERE entity = 'asset_event' ORDER BY id",
    )


@pytest.fixture
def dividend(committed_engine: Engine, demo: DemoMarketData, book: Book) -> int:  # noqa: F811
    """Yahoo's dividend on PETR4, in the figures of a backfill; returns the event's id."""
    with committed_engine.begin() as conn:
        event_id = conn.execute(
            text(
                "INSERT INTO asset_events (asset_id, kind, ex_date, ratio, value, source) "
                "SELECT id, 'dividend', :d, 0, 1, 'yahoo' FROM assets "
                "WHERE symbol = 'PETR4.SA' RETURNING id"
            ),
            {"d": EX_DATE},
        ).scalar_one()
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    assert income_on(committed_engine, book.ana) == (D(100), D(100))
    assert income_on(committed_engine, book.bruno) == (D(50), D(50))
    return int(event_id)


def test_a_dividend_corrected_into_jcp_changes_every_holders_figures_at_once(
    committed_engine: Engine, book: Book, dividend: int, admin: Principal  # noqa: F811
) -> None:
    out = event_service.correct_event(new_uow(committed_engine), admin, dividend, {"kind": "jcp"})

    assert (out.kind, out.ratio, out.value, out.source) == ("jcp", D("0.15"), D(1), "yahoo")
    assert (out.corrected, out.holders) == (True, 2)
    assert income_on(committed_engine, book.ana) == (D(85), D(85))
    assert income_on(committed_engine, book.bruno) == (D("42.5"), D("42.5"))
    # Yahoo's dividend stays behind at its key, dismissed: the next fetch lands there.
    assert events(committed_engine) == [
        ("dividend", EX_DATE, D(0), D(1), "yahoo", True, True),
        ("jcp", EX_DATE, D("0.15"), D(1), "yahoo", False, True),
    ]
    entries = audit(committed_engine)
    assert [e[0] for e in entries] == ["create", "update"]
    _action, entity_id, before, after = entries[1]
    assert entity_id == str(dividend)
    assert (before["kind"], D(before["ratio"]), before["corrected"]) == ("dividend", 0, False)
    assert (after["kind"], D(after["ratio"]), after["corrected"]) == ("jcp", D("0.15"), True)


def test_an_amount_and_a_date_typed_in_pt_br_move_the_income(
    committed_engine: Engine, book: Book, dividend: int, admin: Principal  # noqa: F811
) -> None:
    event_service.correct_event(
        new_uow(committed_engine), admin, dividend, {"value": "1,50", "ex_date": nov(26)}
    )

    assert income_on(committed_engine, book.ana) == (0, 0)
    assert income_on(committed_engine, book.ana, nov(26)) == (D(150), D(150))


def test_dismissing_removes_the_income_and_restoring_brings_it_back(
    committed_engine: Engine, book: Book, dividend: int, admin: Principal  # noqa: F811
) -> None:
    dismissed = event_service.dismiss_event(new_uow(committed_engine), admin, dividend)
    assert dismissed.dismissed
    assert income_on(committed_engine, book.ana) == (0, 0)
    assert event_service.list_events(new_uow(committed_engine), admin) == []
    listed = event_service.list_events(new_uow(committed_engine), admin, include_dismissed=True)
    assert [e.id for e in listed] == [dividend]

    restored = event_service.restore_event(new_uow(committed_engine), admin, dividend)
    assert not restored.dismissed
    assert income_on(committed_engine, book.ana) == (D(100), D(100))
    entries = audit(committed_engine)
    assert [(e[0], e[2]["dismissed"], e[3]["dismissed"]) for e in entries] == [
        ("update", False, True),
        ("update", True, False),
    ]


def test_a_later_scheduler_run_keeps_the_admins_correction(
    committed_engine: Engine, book: Book, dividend: int, admin: Principal  # noqa: F811
) -> None:
    event_service.correct_event(
        new_uow(committed_engine), admin, dividend, {"kind": "jcp", "value": "1,20"}
    )
    figures = income_on(committed_engine, book.ana)
    with new_uow(committed_engine) as uow:
        asset_id = uow.events.asset_of(dividend)
        assert asset_id is not None
        market = [(asset_id, "dividend", EX_DATE, D(0), D(1), "yahoo")]
        assert uow.ledger.store_events(market) == []
        uow.commit()

    assert events(committed_engine) == [
        ("dividend", EX_DATE, D(0), D(1), "yahoo", True, True),
        ("jcp", EX_DATE, D("0.15"), D("1.2"), "yahoo", False, True),
    ]
    closing.backfill(committed_engine, DemoMarketData(), RANGE_START, FRIDAY, actor=SYSTEM)
    assert income_on(committed_engine, book.ana) == figures == (D(102), D(102))


def test_a_corrected_amount_stays_when_the_market_reports_the_event_again(
    committed_engine: Engine, dividend: int, admin: Principal
) -> None:
    event_service.correct_event(new_uow(committed_engine), admin, dividend, {"value": "0,80"})
    with new_uow(committed_engine) as uow:
        asset_id = uow.events.asset_of(dividend)
        assert asset_id is not None
        uow.ledger.store_events([(asset_id, "dividend", EX_DATE, D(0), D(1), "yahoo")])
        uow.commit()

    assert events(committed_engine) == [("dividend", EX_DATE, D(0), D("0.8"), "yahoo", False, True)]


def test_a_reader_is_refused_and_nothing_changes(
    committed_engine: Engine, book: Book, dividend: int, reader: Principal  # noqa: F811
) -> None:
    before = events(committed_engine)
    with pytest.raises(PermissionDenied):
        event_service.correct_event(new_uow(committed_engine), reader, dividend, {"kind": "jcp"})
    with pytest.raises(PermissionDenied):
        event_service.dismiss_event(new_uow(committed_engine), reader, dividend)
    with pytest.raises(PermissionDenied):
        event_service.list_events(new_uow(committed_engine), reader)
    with pytest.raises(PermissionDenied):
        event_service.add_event(
            new_uow(committed_engine),
            reader,
            {"symbol": "PETR4", "kind": "jcp", "ex_date": nov(26), "value": "1"},
        )
    assert events(committed_engine) == before
    assert income_on(committed_engine, book.ana) == (D(100), D(100))
    assert audit(committed_engine) == []


@pytest.mark.parametrize(
    ("data", "field", "key"),
    [
        ({"kind": "bonificacao"}, "kind", "validation.choice"),
        ({"value": "0"}, "value", "validation.event_income_value"),
        ({"value": "abc"}, "value", "validation.number"),
        ({"ratio": "1,5"}, "ratio", "validation.event_income_ratio"),
        ({"kind": "split"}, "ratio", "validation.event_split_ratio"),
        ({"kind": "split", "ratio": "1"}, "ratio", "validation.event_split_ratio"),
        ({"kind": "split", "ratio": "2", "value": "1"}, "value", "validation.event_split_value"),
        ({"ex_date": date(2099, 1, 1)}, "ex_date", "validation.future_date"),
        ({"note": "x"}, "note", "validation.unknown_field"),
    ],
)
def test_bad_input_is_refused_in_pt_br_and_nothing_changes(
    committed_engine: Engine,
    book: Book,  # noqa: F811
    dividend: int,
    admin: Principal,
    data: dict[str, Any],
    field: str,
    key: str,
) -> None:
    before = events(committed_engine)
    with pytest.raises(ValidationFailed) as refused:
        event_service.correct_event(new_uow(committed_engine), admin, dividend, data)

    assert refused.value.field_errors[field][0] == key
    assert not translate(key, "pt_BR").startswith("validation.")  # a catalogue message
    assert events(committed_engine) == before
    assert income_on(committed_engine, book.ana) == (D(100), D(100))
    assert audit(committed_engine) == []


def test_an_unknown_event_is_not_found(committed_engine: Engine, admin: Principal) -> None:
    with pytest.raises(NotFound):
        event_service.dismiss_event(new_uow(committed_engine), admin, 2**40)


def test_an_admin_adds_a_missing_jcp_and_the_holders_figures_include_it(
    committed_engine: Engine, book: Book, dividend: int, admin: Principal  # noqa: F811
) -> None:
    added = event_service.add_event(
        new_uow(committed_engine),
        admin,
        {"symbol": "petr4", "kind": "jcp", "ex_date": nov(26), "value": "0,40"},
    )

    assert (added.symbol, added.source, added.corrected, added.ratio) == (
        "PETR4.SA",
        "admin",
        True,
        D("0.15"),
    )
    assert income_on(committed_engine, book.ana, nov(26)) == (D(34), D(34))
    assert [e[0] for e in audit(committed_engine)] == ["create"]
    with pytest.raises(ValidationFailed) as twice:
        event_service.add_event(
            new_uow(committed_engine),
            admin,
            {"symbol": "PETR4.SA", "kind": "jcp", "ex_date": nov(26), "value": "0,40"},
        )
    assert twice.value.field_errors["ex_date"][0] == "validation.event_exists"
    with pytest.raises(ValidationFailed) as unknown:
        event_service.add_event(
            new_uow(committed_engine),
            admin,
            {"symbol": "ZZZZ3", "kind": "dividend", "ex_date": nov(26), "value": "1"},
        )
    assert unknown.value.field_errors["symbol"][0] == "validation.event_asset_unknown"


def test_the_list_filters_by_ticker_and_kind_and_counts_holders(
    committed_engine: Engine, dividend: int, admin: Principal
) -> None:
    found = event_service.list_events(new_uow(committed_engine), admin, symbol="petr")
    assert [(e.id, e.symbol, e.holders) for e in found] == [(dividend, "PETR4.SA", 2)]
    assert event_service.list_events(new_uow(committed_engine), admin, symbol="VALE") == []
    assert event_service.list_events(new_uow(committed_engine), admin, kind="jcp") == []
    with pytest.raises(ValidationFailed):
        event_service.list_events(new_uow(committed_engine), admin, kind="nope")
