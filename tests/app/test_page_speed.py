"""What keeps the client page fast: a cookie sign-in does no waiting and no password work,
the history charts are built once per version of the stored figures, the live part prices
the ledger kept per ledger mark, and the live prices still change on every run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from core import security
from core.db import UnitOfWork
from core.market.cache import PREFIX
from core.market.demo import DemoMarketData
from core.market.port import Quote
from core.models import JobStatus
from core.schemas import ClientOut
from core.services import allocations as allocation_service
from core.services import asset_classes, closing, sessions
from core.services import movements as movement_service
from core.services.principal import SYSTEM
from dashboard.components import charts, history_charts, kept_ledger
from tests.app.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    assert_no_exception,
    create_client,
    hold,
    landing_title,
    new_app,
    pt,
    sign_in,
    values,
)

Make = Callable[[], UnitOfWork]
BUY = date(2025, 3, 10)
AS_OF = date(2025, 3, 31)
BUILDERS = ("value_chart", "twr_chart", "daily_returns_chart")


@pytest.fixture
def maria(demo_env: Make, committed_engine: Engine) -> ClientOut:
    """A client with two lots and her figures stored by the real backfill."""
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, client.id, "PETR4.SA", "100", "30", BUY)
    hold(demo_env, client.id, "VALE3.SA", "50", "60", BUY)
    report = closing.backfill(
        committed_engine, DemoMarketData(), BUY, AS_OF, triggered_by="test", actor=SYSTEM
    )
    assert report.status == JobStatus.SUCCESS, report
    return client


def counted_calls(monkeypatch: pytest.MonkeyPatch, module: Any, names: Iterable[str]) -> list[str]:
    """The calls of ``module``'s functions ``names``, by name, as they happen."""
    calls: list[str] = []
    for name in names:
        real = getattr(module, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return calls


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The history-chart builders counted (by name, per call), from an empty cache."""
    calls = counted_calls(monkeypatch, charts, BUILDERS)
    history_charts.forget()
    yield calls
    history_charts.forget()


def forget_quotes(redis_url: str) -> None:
    """Drop the cached demo quotes, so the next run asks the source again."""
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{PREFIX}:demo:quote:*"))
    if keys:
        client.delete(*keys)


def open_detail(client_id: int) -> Any:
    at = sign_in(ADMIN_EMAIL)
    at.query_params["client"] = str(client_id)
    at.switch_page("app_pages/client_detail.py").run()
    assert_no_exception(at)
    return at


def prices(at: Any) -> list[str]:
    """The live table's price column."""
    for frame in at.dataframe:
        if pt("col.ticker") in frame.value.columns:
            return list(frame.value[pt("col.price")])
    return []


def chart_count(at: Any) -> int:
    return len(at.get("plotly_chart"))


def test_a_cookie_sign_in_neither_sleeps_nor_checks_a_password(
    app_env: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The password's throttle is core.login_throttle's (its own tests); a session resumed
    # from its cookie is one lookup, with no delay of any library's.
    outcome = sessions.sign_in(app_env(), ADMIN_EMAIL, PASSWORD, source="10.9.9.9")
    assert outcome.ticket is not None
    token = sessions.redeem_ticket(app_env(), outcome.ticket)
    assert token is not None
    monkeypatch.setattr("dashboard.auth._cookie_token", lambda: token)
    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if threading.current_thread() is not threading.main_thread():  # the script's
            slept.append(seconds)
        real_sleep(seconds)

    checks: list[str] = []
    real_check = security.check_password
    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(
        sessions, "check_password", lambda *a: checks.append("bcrypt") or real_check(*a)
    )

    at = new_app().run()

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    assert slept == []
    assert checks == []


def test_a_rerun_with_unchanged_figures_does_not_build_the_charts_again(
    maria: ClientOut, builds: list[str]
) -> None:
    at = open_detail(maria.id)
    assert sorted(builds) == sorted(BUILDERS)
    drawn = chart_count(at)
    assert drawn >= 1  # the open tab's (the tabs are lazy)

    at.run()
    at.run()

    assert_no_exception(at)
    assert sorted(builds) == sorted(BUILDERS), "built once for the stored version"
    assert chart_count(at) == drawn


def test_another_session_gets_the_kept_charts(maria: ClientOut, builds: list[str]) -> None:
    open_detail(maria.id)
    second = open_detail(maria.id)

    assert len(builds) == len(BUILDERS)
    assert chart_count(second) >= 1


def test_new_stored_figures_are_drawn_at_once(
    demo_env: Make, maria: ClientOut, builds: list[str]
) -> None:
    at = open_detail(maria.id)
    before = at.get("plotly_chart")[0].proto.spec

    # An edit of a buy recomputes her stored figures in the same transaction.
    with demo_env() as uow:
        lot = next(iter(uow.allocations.for_client(maria.id)))[0]
        lot_id, price = lot.id, lot.price
    allocation_service.update_allocation(
        demo_env(), SYSTEM, lot_id, {"quantity": "200", "buy_price": str(price), "buy_date": BUY}
    )
    at.run()

    assert_no_exception(at)
    assert len(builds) == 2 * len(BUILDERS)
    assert at.get("plotly_chart")[0].proto.spec != before


def test_live_prices_change_while_the_charts_are_kept(
    maria: ClientOut, builds: list[str], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forget_quotes(redis_url)
    at = open_detail(maria.id)
    shown = prices(at)
    assert len(shown) == 2

    # The source now answers one real higher for every ticker (a new tick).
    real = DemoMarketData._quote

    def moved(*args: Any) -> Quote:
        quote = real(*args)
        return replace(quote, price=quote.price + Decimal("1.00"))

    monkeypatch.setattr(DemoMarketData, "_quote", staticmethod(moved))
    forget_quotes(redis_url)
    at.run()

    assert_no_exception(at)
    assert prices(at) != shown
    assert len(prices(at)) == 2
    assert len(builds) == len(BUILDERS), "the charts were not built again"
    assert pt("detail.charts_empty") not in values(at.info)


@pytest.fixture
def ledger_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The live part's ledger reads counted (lots, positions), from an empty cache."""
    calls = counted_calls(monkeypatch, kept_ledger, ("lot_bases", "position_bases"))
    kept_ledger.forget()
    yield calls
    kept_ledger.forget()


def frame_with(at: Any, column_key: str) -> Any:
    """The first table with the catalogue column ``column_key``."""
    return next(f.value for f in at.dataframe if pt(column_key) in f.value.columns)


def test_live_refreshes_price_the_kept_ledger_until_it_changes(
    demo_env: Make, maria: ClientOut, ledger_reads: list[str]
) -> None:
    at = open_detail(maria.id)
    assert sorted(ledger_reads) == ["lot_bases", "position_bases"]

    at.run()
    at.run()

    assert_no_exception(at)
    assert len(ledger_reads) == 2, "a rerun prices what was kept"
    assert len(prices(at)) == 2
    # A sell is a ledger change: the next run reads the ledger again
    movement_service.add_sell(
        demo_env(),
        SYSTEM,
        maria.id,
        "PETR4.SA",
        {"quantity": "10", "price": "31", "date": AS_OF},
    )
    at.run()
    assert len(ledger_reads) == 4
    positions = frame_with(at, "col.average_cost")
    held = dict(zip(positions[pt("col.ticker")], positions[pt("col.quantity")], strict=True))
    assert held["PETR4.SA"] == 90
    # So is an asset's class corrected by an admin
    with demo_env() as uow:
        petr4 = uow.assets.by_symbols(["PETR4.SA"])["PETR4.SA"].id
    asset_classes.correct_class(demo_env(), SYSTEM, petr4, "etfs")
    at.run()
    assert len(ledger_reads) == 6
    classes = frame_with(at, "allocation.col.assets")
    assert pt("asset_class.etfs") in list(classes[pt("allocation.col.class")])
