"""An id no id column can hold (``integer`` ids at or past 2^31, below -2^31; anything past
bigint) names no row: every service that takes an id answers as for an unknown id
(NotFound, an empty history, no metrics) instead of the database's "integer out of range".

On the real PostgreSQL (rolled back); ids reach services from URLs (``/client?client=``)
and from callers, so the services are tested directly.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from core.db import UnitOfWork
from core.errors import NotFound
from core.market.demo import DemoMarketData
from core.services import allocations, clients, exports, figures, portfolio, users
from core.services.principal import Principal

MakeUow = Callable[[], UnitOfWork]

# Past int4 (both ways), past int8 (both ways), and far past both.
IDS = [2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30]
LOT = {"quantity": "1", "buy_price": "10", "buy_date": "2025-03-10"}
CLIENT = {"name": "Maria Souza", "email": "maria@example.com"}


def _not_found(call: Callable[[], Any]) -> None:
    with pytest.raises(NotFound):
        call()


@pytest.mark.parametrize("bad", IDS)
def test_client_services_say_not_found(make_uow: MakeUow, admin: Principal, bad: int) -> None:
    _not_found(lambda: clients.get_client(make_uow(), bad))
    _not_found(lambda: clients.update_client(make_uow(), admin, bad, CLIENT))
    _not_found(lambda: clients.patch_client(make_uow(), admin, bad, {"notes": "x"}))
    _not_found(lambda: clients.delete_client(make_uow(), admin, bad))
    _not_found(lambda: portfolio.client_portfolio(make_uow(), DemoMarketData(), bad))
    assert figures.client_history(make_uow(), bad) == []
    assert figures.client_metrics(make_uow(), bad) is None


@pytest.mark.parametrize("bad", IDS)
def test_allocation_services_say_not_found(make_uow: MakeUow, admin: Principal, bad: int) -> None:
    market = DemoMarketData()
    symbol = {"symbol": "PETR4.SA"}
    _not_found(lambda: allocations.add_allocation(make_uow(), market, admin, bad, symbol, LOT))
    _not_found(lambda: allocations.update_allocation(make_uow(), admin, bad, LOT))
    _not_found(lambda: allocations.delete_allocation(make_uow(), admin, bad))


@pytest.mark.parametrize("bad", IDS)
def test_user_services_say_not_found(make_uow: MakeUow, admin: Principal, bad: int) -> None:
    _not_found(lambda: users.change_role(make_uow(), admin, bad, "read_only"))
    _not_found(lambda: users.set_active(make_uow(), admin, bad, active=False))
    _not_found(lambda: users.reset_password(make_uow(), admin, bad, "a-long-new-passphrase"))


# A negative client id is refused by the export query itself (validation, as any id < 1).
@pytest.mark.parametrize("bad", [bad for bad in IDS if bad > 0])
@pytest.mark.parametrize("dataset", ["allocations", "daily_returns"])
def test_exports_of_such_a_client_say_not_found(
    make_uow: MakeUow, admin: Principal, bad: int, dataset: str
) -> None:
    query = {"dataset": dataset, "client_id": bad}
    market = DemoMarketData()
    _not_found(
        lambda: exports.export(make_uow(), market, admin, [query], "csv", io.BytesIO(), "pt_BR")
    )
    if dataset == "daily_returns":
        assert exports.daily_rows(make_uow(), query) == 0
