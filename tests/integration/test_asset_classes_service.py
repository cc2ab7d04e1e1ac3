"""Asset classes through the services on the real PostgreSQL (rolled back): derived from
the stored market data, corrected and reset by an admin (audited), refused to a reader,
and followed by the client's positions and allocation in reais."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.analytics.allocation import allocation
from core.db import UnitOfWork
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.i18n import translate
from core.models import Asset, AuditEntry
from core.schemas import ClientOut
from core.services.allocations import add_allocation
from core.services.asset_classes import asset_classes, correct_class, reset_class
from core.services.clients import create_client
from core.services.positions import client_positions
from core.services.principal import Principal
from tests.integration.test_positions_service import FakeMarket

MakeUow = Callable[[], UnitOfWork]
D = Decimal
PRICES = {
    "PETR4.SA": ("30", "29", "BRL"),
    "MXRF11.SA": ("10", "10", "BRL"),
    "AAPL": ("200", None, "USD"),
    "USDBRL=X": ("5", "5", "BRL"),
}
ASSETS: dict[str, dict[str, Any]] = {
    "PETR4.SA": {"name": "Petróleo Brasileiro S.A. - Petrobras", "asset_type": "Equity"},
    "MXRF11.SA": {
        "name": "Maxi Renda Fundo de Investimento Imobiliario - FII",
        "asset_type": "Equity",
    },
    "AAPL": {"name": "Apple Inc.", "asset_type": "Equity"},
}


@pytest.fixture
def client(make_uow: MakeUow, admin: Principal) -> ClientOut:
    return create_client(make_uow(), admin, {"name": "Maria Souza", "email": "maria@example.com"})


@pytest.fixture
def held(make_uow: MakeUow, admin: Principal, client: ClientOut) -> dict[str, int]:
    """PETR4 R$ 3.000, MXRF11 R$ 1.000 and AAPL US$ 200 at 5,00 = R$ 1.000; the asset ids."""
    market = FakeMarket(PRICES)
    for symbol, quantity in (("PETR4.SA", "100"), ("MXRF11.SA", "100"), ("AAPL", "1")):
        lot = {"quantity": quantity, "buy_price": "1", "buy_date": "2025-03-10"}
        asset = {"symbol": symbol, **ASSETS[symbol]}
        add_allocation(make_uow(), market, admin, client.id, asset, lot)  # type: ignore[arg-type]
    with make_uow() as uow:
        uow.assets.get_or_create(
            {"symbol": "USDBRL=X", "name": "USD/BRL", "asset_type": "Currency"}
        )
        uow.commit()
        return {a.symbol: a.id for a in uow.session.scalars(select(Asset))}


def classes(make_uow: MakeUow) -> dict[str, tuple[str | None, str | None, str | None]]:
    return {r.symbol: (r.derived, r.correction, r.asset_class) for r in asset_classes(make_uow())}


def audit(make_uow: MakeUow) -> list[tuple[str, str, str, Any, Any]]:
    stmt = select(AuditEntry).where(AuditEntry.entity == "asset").order_by(AuditEntry.id)
    with make_uow() as uow:
        return [
            (e.action, e.entity_id, e.actor_email, e.before, e.after)
            for e in uow.session.scalars(stmt)
        ]


def by_class(make_uow: MakeUow, client: ClientOut) -> list[tuple[str, Decimal, Decimal | None]]:
    view = client_positions(make_uow(), FakeMarket(PRICES), client.id)
    found = allocation(view.rows, view.market_value_brl)
    return [(c.asset_class, c.value_brl, c.weight) for c in found.classes]


def test_classes_are_derived_and_the_rate_series_has_none(
    make_uow: MakeUow, held: dict[str, int], client: ClientOut
) -> None:
    assert classes(make_uow) == {
        "AAPL": ("exterior", None, "exterior"),
        "MXRF11.SA": ("fiis", None, "fiis"),
        "PETR4.SA": ("acoes", None, "acoes"),
    }
    view = client_positions(make_uow(), FakeMarket(PRICES), client.id)
    assert {r.symbol: r.asset_class for r in view.rows} == {
        "AAPL": "exterior",
        "MXRF11.SA": "fiis",
        "PETR4.SA": "acoes",
    }
    assert by_class(make_uow, client) == [
        ("acoes", D("3000"), D("0.6")),
        ("fiis", D("1000"), D("0.2")),
        ("exterior", D("1000"), D("0.2")),
    ]


def test_an_admin_corrects_then_resets_a_class_audited(
    make_uow: MakeUow, held: dict[str, int], client: ClientOut, admin: Principal
) -> None:
    mxrf = held["MXRF11.SA"]
    out = correct_class(make_uow(), admin, mxrf, "renda_fixa")
    assert (out.derived, out.correction, out.asset_class) == ("fiis", "renda_fixa", "renda_fixa")
    assert classes(make_uow)["MXRF11.SA"] == ("fiis", "renda_fixa", "renda_fixa")
    assert by_class(make_uow, client) == [
        ("acoes", D("3000"), D("0.6")),
        ("exterior", D("1000"), D("0.2")),  # ties in value: the classes' own order
        ("renda_fixa", D("1000"), D("0.2")),
    ]

    out = reset_class(make_uow(), admin, mxrf)
    assert (out.correction, out.asset_class) == (None, "fiis")
    assert classes(make_uow)["MXRF11.SA"] == ("fiis", None, "fiis")
    assert by_class(make_uow, client)[1] == ("fiis", D("1000"), D("0.2"))

    entry = {"symbol": "MXRF11.SA"}
    assert audit(make_uow) == [
        (
            "update",
            str(mxrf),
            admin.email,
            {**entry, "correction": None, "asset_class": "fiis"},
            {**entry, "correction": "renda_fixa", "asset_class": "renda_fixa"},
        ),
        (
            "update",
            str(mxrf),
            admin.email,
            {**entry, "correction": "renda_fixa", "asset_class": "renda_fixa"},
            {**entry, "correction": None, "asset_class": "fiis"},
        ),
    ]


def test_the_same_class_again_writes_nothing(
    make_uow: MakeUow, held: dict[str, int], admin: Principal
) -> None:
    reset_class(make_uow(), admin, held["PETR4.SA"])  # no correction to drop
    assert audit(make_uow) == []


def test_a_reader_is_refused_in_portuguese(
    make_uow: MakeUow, held: dict[str, int], reader: Principal
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        correct_class(make_uow(), reader, held["PETR4.SA"], "etfs")
    assert translate(refused.value.key, "pt_BR") == "Seu perfil não permite esta ação."
    with pytest.raises(PermissionDenied):
        reset_class(make_uow(), reader, held["PETR4.SA"])
    assert classes(make_uow)["PETR4.SA"] == ("acoes", None, "acoes")
    assert audit(make_uow) == []


def test_bad_codes_rate_series_and_unknown_assets_are_refused(
    make_uow: MakeUow, held: dict[str, int], admin: Principal
) -> None:
    with pytest.raises(ValidationFailed) as bad:
        correct_class(make_uow(), admin, held["PETR4.SA"], "imoveis")
    assert bad.value.field_errors == {"asset_class": ("validation.choice", {})}
    with pytest.raises(ValidationFailed) as rate:
        correct_class(make_uow(), admin, held["USDBRL=X"], "exterior")
    assert rate.value.field_errors == {"asset_class": ("asset_class.no_class", {})}
    for missing in (999_999, 2**40):
        with pytest.raises(NotFound):
            correct_class(make_uow(), admin, missing, "acoes")
    assert audit(make_uow) == []


def test_the_database_refuses_a_code_that_is_not_a_class(
    make_uow: MakeUow, held: dict[str, int]
) -> None:
    with make_uow() as uow:
        asset = uow.assets.get(held["PETR4.SA"])
        assert asset is not None
        with pytest.raises(IntegrityError):
            uow.assets.set_class(asset, "imoveis")
