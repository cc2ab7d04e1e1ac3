"""First start: the admin is created once, never with a fixed password; demo data is seeded once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from core.config import Settings
from core.db import UnitOfWork
from core.documents import is_valid_document
from core.errors import PermissionDenied
from core.market.demo import DemoMarketData
from core.models import Asset, AuditEntry, Client, Movement, User
from core.services.bootstrap import (
    DEMO_CLIENT_COUNT,
    DEMO_READER_EMAIL,
    ensure_admin,
    seed_demo,
    seed_demo_allocations,
)
from core.services.principal import SYSTEM, Principal
from core.services.users import verify_password

Make = Callable[[], UnitOfWork]


def _count(make: Make, model: type) -> int:
    with make() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_first_start_generates_a_strong_admin_password_once(make_uow: Make) -> None:
    settings = Settings(_env_file=None, admin_password=None)
    created = ensure_admin(make_uow(), settings, actor=SYSTEM)
    assert created is not None
    assert created.email == "admin@example.com"
    assert len(created.password) == 20
    assert verify_password(make_uow(), created.email, created.password) is not None
    assert ensure_admin(make_uow(), settings, actor=SYSTEM) is None, "a second start creates nobody"
    assert _count(make_uow, User) == 1


def test_two_first_starts_never_share_a_password(make_uow: Make) -> None:
    settings = Settings(_env_file=None, admin_password=None, admin_email="a1@example.com")
    first = ensure_admin(make_uow(), settings, actor=SYSTEM)
    with make_uow() as uow:
        uow.session.execute(User.__table__.delete())
        uow.commit()
    second = ensure_admin(make_uow(), settings, actor=SYSTEM)
    assert first is not None
    assert second is not None
    assert first.password != second.password


def test_configured_admin_password_is_used_and_not_echoed(make_uow: Make) -> None:
    settings = Settings(_env_file=None, admin_password=SecretStr("a-chosen-passphrase"))
    assert ensure_admin(make_uow(), settings, actor=SYSTEM) is None
    assert verify_password(make_uow(), "admin@example.com", "a-chosen-passphrase") is not None
    with make_uow() as uow:
        entry = uow.session.scalars(select(AuditEntry)).one()
        assert "passphrase" not in str(entry.after)


def test_demo_seed_adds_a_reader_and_realistic_clients_once(make_uow: Make) -> None:
    reader = seed_demo(make_uow(), actor=SYSTEM)
    assert reader is not None
    assert reader.email == DEMO_READER_EMAIL
    assert verify_password(make_uow(), reader.email, reader.password) is not None
    with make_uow() as uow:
        clients = list(uow.session.scalars(select(Client).order_by(Client.id)))
        names = [c.name for c in clients]
        documents = [c.document for c in clients if c.document]
    assert len(clients) == DEMO_CLIENT_COUNT
    assert all(is_valid_document(d) for d in documents)
    assert any(len(d) == 14 for d in documents), "some clients are companies (CNPJ)"
    assert seed_demo(make_uow(), actor=SYSTEM) is None
    assert _count(make_uow, Client) == DEMO_CLIENT_COUNT
    with make_uow() as uow:
        uow.session.execute(Client.__table__.delete())
        uow.commit()
    seed_demo(make_uow(), actor=SYSTEM)
    with make_uow() as uow:
        again = [c.name for c in uow.session.scalars(select(Client).order_by(Client.id))]
    assert again == names, "the demo data is deterministic"


def test_demo_lots_are_b3_and_some_us_at_the_demo_close_and_seeded_once(make_uow: Make) -> None:
    market = DemoMarketData(clock=lambda: datetime(2026, 11, 27, 22, 0, tzinfo=UTC))
    seed_demo(make_uow(), actor=SYSTEM)
    added = seed_demo_allocations(make_uow(), market, date(2026, 11, 27), actor=SYSTEM)
    assert added > DEMO_CLIENT_COUNT  # 2 to 5 lots per active client
    with make_uow() as uow:
        lots = uow.session.execute(
            select(Movement.date, Movement.price, Asset.symbol, Asset.currency).join(Asset)
        ).all()
    assert len(lots) == added
    currencies = [currency for _, _, _, currency in lots]
    assert set(currencies) == {"BRL", "USD"}
    assert 0 < currencies.count("USD") < DEMO_CLIENT_COUNT / 2  # about one client in four
    for buy_date, buy_price, symbol, _ in lots:
        closes = market.history([symbol], buy_date, buy_date).closes[symbol]
        assert closes[buy_date] == buy_price
    assert seed_demo_allocations(make_uow(), market, date(2026, 11, 27), actor=SYSTEM) == 0


def test_a_read_only_user_seeds_nothing(make_uow: Make, reader: Principal) -> None:
    # The seeding services check the role themselves, like every other write: manage.py
    # passes SYSTEM; anyone else is refused before anything is written.
    market = DemoMarketData(clock=lambda: datetime(2026, 11, 27, 22, 0, tzinfo=UTC))
    settings = Settings(_env_file=None, admin_password=None)
    with pytest.raises(PermissionDenied):
        ensure_admin(make_uow(), settings, actor=reader)
    with pytest.raises(PermissionDenied):
        seed_demo(make_uow(), actor=reader)
    with pytest.raises(PermissionDenied):
        seed_demo_allocations(make_uow(), market, date(2026, 11, 27), actor=reader)
    assert [_count(make_uow, model) for model in (User, Client, Movement, AuditEntry)] == [
        0,
        0,
        0,
        0,
    ]
