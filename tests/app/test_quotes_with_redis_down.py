"""With Redis down, the pages show the live quotes the poller last stored in PostgreSQL and
never ask the market-data source themselves, however many sessions are open.

Redis "down" is a Redis URL where nothing listens, for the dashboard and for the poller. The
only stand-in is at the upstream seam: the demo adapter behind a wrapper that counts its
quote calls (the dashboard's market stack is built by the real factory around it). The poller
is the real ``live_quotes_job`` on its own demo adapter, so its calls are not counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from core.config import get_settings
from core.db import UnitOfWork
from core.formatting import DISPLAY_TZ
from core.market import factory
from core.market.cache import CachedMarketData
from core.market.demo import DemoMarketData
from core.market.port import HistoryBatch, QuoteBatch, SearchResult
from core.redis_client import redis_for
from core.schemas import ClientOut
from core.services.job_runs import LIVE_QUOTES_LOCK, Leadership
from jobs import scheduler
from jobs.runtime import JobContext
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    create_client,
    hold,
    pt,
    sign_in,
    values,
)

Make = Callable[[], UnitOfWork]
CLOSED_PORT_URL = "redis://127.0.0.1:6390/0"  # nothing listens here
BUY = date(2025, 3, 10)
SESSIONS = 4  # open dashboards
RUNS = 3  # refreshes of the client page in each, after opening it
UPDATED = re.compile(r"^Atualizado (\d\d:\d\d:\d\d)$")


class CountingUpstream:
    """The demo adapter as the dashboard's upstream, counting the quote calls it answers."""

    name = "demo"

    def __init__(self) -> None:
        self.demo = DemoMarketData()
        self.quote_calls = 0

    def search(self, query: str, limit: int = 10) -> SearchResult:
        return self.demo.search(query, limit)

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        self.quote_calls += 1
        return self.demo.quotes(symbols)

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        return self.demo.history(symbols, start, end)


@pytest.fixture
def upstream(demo_env: Make, monkeypatch: pytest.MonkeyPatch) -> CountingUpstream:
    """Redis down for the dashboard, whose market stack wraps a counting demo adapter."""
    counting = CountingUpstream()
    monkeypatch.setattr(factory, "DemoMarketData", lambda: counting)
    monkeypatch.setenv("ANKA_REDIS_URL", CLOSED_PORT_URL)
    get_settings.cache_clear()
    return counting


@pytest.fixture
def maria(demo_env: Make) -> ClientOut:
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, client.id, "PETR4.SA", "100", "30", BUY)
    hold(demo_env, client.id, "VALE3.SA", "50", "60", BUY)
    return client


@pytest.fixture
def poll(committed_engine: Engine) -> Iterator[Callable[[], None]]:
    """One tick of the real live-quotes job, Redis down for it too."""
    settings = get_settings()
    market = CachedMarketData(
        DemoMarketData(), redis_for(CLOSED_PORT_URL), ttl_s=settings.cache_ttl_s
    )
    ctx = JobContext(settings=settings, engine=committed_engine, market=market)
    leader = Leadership(committed_engine, LIVE_QUOTES_LOCK)
    yield lambda: scheduler.live_quotes_job(ctx, leader)
    leader.release()


def stored(engine: Engine) -> dict[str, tuple[Decimal, datetime]]:
    """The latest polled quotes in PostgreSQL: price and poll time per ticker."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT symbol, price, fetched_at FROM latest_quotes"))
        return {symbol: (price, fetched_at) for symbol, price, fetched_at in rows}


def open_detail(email: str, client_id: int) -> AppTest:
    at = sign_in(email)
    at.query_params["client"] = str(client_id)
    at.switch_page("app_pages/client_detail.py").run()
    assert_no_exception(at)
    return at


def table(at: AppTest) -> dict[str, dict[str, str]]:
    frames = [f.value for f in at.dataframe if pt("col.ticker") in f.value.columns]
    rows = frames[0].to_dict("records") if frames else []
    return {row[pt("col.ticker")]: row for row in rows}


def updated_time(at: AppTest) -> str:
    (shown,) = [m.group(1) for c in values(at.caption) if (m := UPDATED.match(c))]
    return shown


def seconds_apart(shown: str, moment: datetime) -> float:
    """How far the page's 'Atualizado hh:mm:ss' is from ``moment`` (São Paulo time)."""
    local = moment.astimezone(DISPLAY_TZ)
    hours, minutes, seconds = map(int, shown.split(":"))
    at = local.replace(hour=hours, minute=minutes, second=seconds, microsecond=0)
    return abs((at - local).total_seconds())


def test_open_pages_show_the_polled_quotes_and_never_ask_upstream(
    upstream: CountingUpstream,
    maria: ClientOut,
    committed_engine: Engine,
    poll: Callable[[], None],
) -> None:
    poll()
    polled = stored(committed_engine)
    assert set(polled) == {"PETR4.SA", "VALE3.SA"}

    sessions = [open_detail(email, maria.id) for email in [ADMIN_EMAIL, READER_EMAIL] * 2]
    assert len(sessions) == SESSIONS
    for _ in range(RUNS):
        for at in sessions:
            at.run()
            assert_no_exception(at)

    assert upstream.quote_calls == 0
    for at in sessions:
        rows = table(at)
        for symbol, (price, _) in polled.items():
            assert rows[symbol][pt("col.price")] == float(price)  # a number, not text
            assert rows[symbol][pt("col.note")] == ""
        newest = max(fetched_at for _, fetched_at in polled.values())
        assert seconds_apart(updated_time(at), newest) <= 2
        assert f":orange[{pt('market.cache.shared')}]" in values(at.caption)
        assert pt("market.source.demo") in values(at.warning)  # still labelled demo
        assert not [c for c in values(at.caption) if pt("detail.quotes_stale", limit=10) in c]


def test_when_the_poller_stopped_the_page_shows_the_last_poll_time_marked_late(
    upstream: CountingUpstream,
    maria: ClientOut,
    committed_engine: Engine,
    poll: Callable[[], None],
) -> None:
    poll()
    polled_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    with committed_engine.begin() as conn:
        conn.execute(text("UPDATE latest_quotes SET fetched_at = :at"), {"at": polled_at})

    at = open_detail(ADMIN_EMAIL, maria.id)

    assert upstream.quote_calls == 0
    assert seconds_apart(updated_time(at), polled_at) <= 1
    assert f":orange[{pt('detail.quotes_stale', limit=10)}]" in values(at.caption)
    assert all(row[pt("col.price")] > 0 for row in table(at).values())


def test_with_nothing_polled_the_page_says_prices_are_unavailable(
    upstream: CountingUpstream, maria: ClientOut, committed_engine: Engine
) -> None:
    assert stored(committed_engine) == {}

    at = open_detail(ADMIN_EMAIL, maria.id)
    at.run()

    assert_no_exception(at)
    assert upstream.quote_calls == 0
    rows = table(at)
    assert sorted(rows) == ["PETR4.SA", "VALE3.SA"]
    for row in rows.values():
        assert row[pt("col.note")] == pt("market.failed.unavailable")
        assert pd.isna(row[pt("col.price")])  # an empty cell, not a made-up price
    assert f":orange[{pt('detail.unpriced', count=2)}]" in values(at.caption)
    assert not [c for c in values(at.caption) if UPDATED.match(c)]  # no quote, no time
