"""The client page's stored figures and charts, on demo data closed by the real jobs.

Figures come from running :mod:`core.services.closing` (backfill / daily close) against the
app's database, exactly as the scheduler would; the page only reads them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from core.config import get_settings
from core.db import UnitOfWork
from core.formatting import format_percent
from core.market.cache import PREFIX
from core.market.demo import DemoMarketData
from core.models import JobStatus
from core.schemas import ClientOut
from core.services import closing
from core.services.figures import client_metrics
from core.services.principal import SYSTEM
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
BUY = date(2025, 3, 10)
AS_OF = date(2025, 3, 31)  # a Monday, a B3 session


@pytest.fixture
def maria(demo_env: Make) -> ClientOut:
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    hold(demo_env, client.id, "PETR4.SA", "100", "30", BUY)
    hold(demo_env, client.id, "VALE3.SA", "50", "60", BUY)
    return client


def backfill(engine: Engine) -> None:
    report = closing.backfill(
        engine, DemoMarketData(), BUY, AS_OF, triggered_by="test", actor=SYSTEM
    )
    assert report.status == JobStatus.SUCCESS, report


def open_detail(email: str, client_id: int) -> AppTest:
    at = sign_in(email)
    at.query_params["client"] = str(client_id)
    at.switch_page("app_pages/client_detail.py").run()
    assert_no_exception(at)
    return at


def metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def charts(at: AppTest) -> list[dict[str, Any]]:
    """Every plotly figure on the page, as the JSON the browser gets."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def open_tab(at: AppTest, client_id: int, label_key: str) -> list[dict[str, Any]]:
    """Open a chart tab (lazy: only the open tab's chart is drawn); the charts drawn then."""
    at.session_state[f"detail_chart_tab_{client_id}"] = pt(label_key)
    at.run()
    assert not at.exception, values(at.exception)
    return charts(at)


def brl(amount: Decimal) -> str:
    text = f"{amount.quantize(Decimal('0.01')):,.2f}"
    return "R$ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


def close_on(symbol: str, day: date) -> Decimal:
    return DemoMarketData().history([symbol], day, day).closes[symbol][day]


def test_metrics_as_of_the_last_close(
    demo_env: Make, maria: ClientOut, committed_engine: Engine
) -> None:
    backfill(committed_engine)

    at = open_detail(ADMIN_EMAIL, maria.id)

    market_value = 100 * close_on("PETR4.SA", AS_OF) + 50 * close_on("VALE3.SA", AS_OF)
    stored = client_metrics(demo_env(), maria.id)
    assert stored is not None
    assert stored.as_of == AS_OF
    top = metrics(at)[:4]
    assert [label for label, _ in top] == [
        pt("detail.market_value"),
        pt("detail.return"),
        pt("detail.twr"),
        pt("detail.irr"),
    ]
    shown = dict(top)
    assert shown[pt("detail.market_value")] == brl(market_value)
    assert shown[pt("detail.return")] == format_percent(market_value / 6000 - 1, "pt_BR")
    assert shown[pt("detail.twr")] == format_percent(stored.twr, "pt_BR")
    assert stored.irr is not None
    assert shown[pt("detail.irr")] == format_percent(stored.irr, "pt_BR")
    assert pt("detail.metrics_as_of", date="31/03/2025") in values(at.caption)
    assert pt("detail.no_figures") not in values(at.info)
    # The live totals are still there, after the stored figures.
    assert [label for label, _ in metrics(at)[4:]] == [
        pt("detail.invested"),
        pt("detail.market_value"),
        pt("detail.gain"),
        pt("detail.return"),
    ]


def test_four_charts_from_the_stored_series(
    demo_env: Make, maria: ClientOut, committed_engine: Engine
) -> None:
    backfill(committed_engine)

    at = open_detail(READER_EMAIL, maria.id)

    assert [tab.label for tab in at.tabs] == [
        pt("chart.tab.value"),
        pt("chart.tab.twr"),
        pt("chart.tab.daily"),
        pt("chart.tab.allocation"),
    ]
    (value,) = charts(at)  # the first tab's alone
    (twr,) = open_tab(at, maria.id, "chart.tab.twr")
    (daily,) = open_tab(at, maria.id, "chart.tab.daily")
    (allocation,) = open_tab(at, maria.id, "chart.tab.allocation")
    market_value = 100 * close_on("PETR4.SA", AS_OF) + 50 * close_on("VALE3.SA", AS_OF)

    assert [trace["name"] for trace in value["data"]] == [
        pt("chart.market_value"),
        pt("chart.invested"),
    ]
    market, invested = value["data"]
    assert market["x"][0] == "2025-03-10"
    assert market["x"][-1] == "2025-03-31"
    assert market["y"][-1] == pytest.approx(float(market_value))
    assert set(invested["y"]) == {6000.0}
    assert value["layout"]["separators"] == ",."
    assert value["layout"]["xaxis"]["tickformat"] == "%d/%m/%Y"

    assert twr["layout"]["yaxis"]["tickformat"].endswith("%")
    assert twr["data"][0]["y"][-1] == pytest.approx(float(client_metrics(demo_env(), maria.id).twr))

    (bars,) = daily["data"]
    assert bars["type"] == "bar"
    assert len(bars["y"]) == len(market["y"])
    assert daily["layout"]["yaxis"]["tickformat"].endswith("%")

    (donut,) = allocation["data"]
    assert donut["type"] == "pie"
    assert sorted(donut["labels"]) == ["PETR4.SA", "VALE3.SA"]
    assert allocation["layout"]["title"]["text"] == pt("chart.allocation_in", currency="BRL")


def test_irr_undefined_shows_a_dash(demo_env: Make, committed_engine: Engine) -> None:
    # Bought on the close being computed: a single cash-flow date, so no IRR (never 0).
    pedro = create_client(demo_env, name="Pedro Alves", email="pedro@example.com")
    hold(demo_env, pedro.id, "PETR4.SA", "10", "30", AS_OF)
    report = closing.daily_close(
        committed_engine, DemoMarketData(), AS_OF, triggered_by="test", actor=SYSTEM
    )
    assert report.status == JobStatus.SUCCESS, report

    at = open_detail(ADMIN_EMAIL, pedro.id)

    stored = client_metrics(demo_env(), pedro.id)
    assert stored is not None
    assert stored.irr is None
    shown = dict(metrics(at)[:4])
    assert shown[pt("detail.irr")] == "—"
    assert shown[pt("detail.twr")] == format_percent(stored.twr, "pt_BR")
    assert shown[pt("detail.twr")] != "—"


def test_before_the_first_close_the_page_says_so(demo_env: Make, maria: ClientOut) -> None:
    at = open_detail(ADMIN_EMAIL, maria.id)

    assert pt("detail.no_figures") in values(at.info)
    assert values(at.info).count(pt("detail.charts_empty")) == 1  # the open tab's
    assert len(metrics(at)) == 4  # the live totals only
    (donut,) = open_tab(at, maria.id, "chart.tab.allocation")
    assert sorted(donut["data"][0]["labels"]) == ["PETR4.SA", "VALE3.SA"]


def test_client_without_lots_has_no_figures_nor_charts(demo_env: Make) -> None:
    ana = create_client(demo_env, name="Ana Lima", email="ana@example.com")

    at = open_detail(ADMIN_EMAIL, ana.id)

    assert values(at.info) == [pt("detail.no_allocations")]
    assert not at.get("plotly_chart")
    assert not at.tabs


def _forget_quotes(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{PREFIX}:demo:quote:*"))
    if keys:
        client.delete(*keys)


UPDATED = re.compile(r"^Atualizado \d\d:\d\d:\d\d$")


def test_fresh_quotes_show_their_time(demo_env: Make, maria: ClientOut, redis_url: str) -> None:
    _forget_quotes(redis_url)

    at = open_detail(ADMIN_EMAIL, maria.id)

    assert [c for c in values(at.caption) if UPDATED.match(c)]
    assert not [c for c in values(at.caption) if pt("detail.quotes_stale", limit=10) in c]


def test_quotes_older_than_two_intervals_are_marked(
    demo_env: Make, maria: ClientOut, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No poller refreshes the cached quotes here: with a tiny interval they are soon late.
    monkeypatch.setenv("ANKA_LIVE_INTERVAL_S", "0.1")
    get_settings.cache_clear()
    _forget_quotes(redis_url)
    at = open_detail(ADMIN_EMAIL, maria.id)

    time.sleep(0.5)
    at.run()

    assert_no_exception(at)
    stale = f":orange[{pt('detail.quotes_stale', limit=0)}]"
    assert stale in values(at.caption)
    assert [c for c in values(at.caption) if UPDATED.match(c)]


@pytest.mark.parametrize(("irr", "shown"), [("1E+25", "> 9.999%"), ("1E+60", "> 9.999%")])
def test_an_irr_of_any_magnitude_shows_readably_and_the_page_goes_on(
    demo_env: Make, maria: ClientOut, committed_engine: Engine, irr: str, shown: str
) -> None:
    # A first lot up 16 % in its first day annualises to about 10^24.
    backfill(committed_engine)
    with committed_engine.begin() as conn:
        conn.execute(text("UPDATE portfolio_metrics SET irr = :irr"), {"irr": Decimal(irr)})

    at = open_detail(ADMIN_EMAIL, maria.id)

    assert dict(metrics(at))[pt("detail.irr")] == shown
    assert len(charts(at)) == 1  # the page goes on to its charts (the open tab's)
    # Exports keep the exact value.
    assert client_metrics(demo_env(), maria.id).irr == Decimal(irr)  # type: ignore[union-attr]
