"""A new ticker's history through the real Yahoo adapter replaying recordings
(``tests.yahoo_replay``): AAPL's chart of 2020-08-31 to 2020-11-07, with its 4-for-1 split on
the first bar and a dividend on 2020-11-06 (the figures are the hand-checked ones of
``tests.integration.test_ledger_jobs``); and a rate-limited Yahoo, which leaves the buy
saved and the history pending, with no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.market import port
from core.market.yahoo import YahooMarketData
from core.services.asset_history import fetch_new_asset_history
from core.services.principal import Principal
from tests.integration.test_closing_jobs import new_uow, rows
from tests.integration.test_ledger_jobs import (
    AUG_31,
    NOV_6,
    SPLIT_FILE,
    buy,
    holder,
    market,
    series,
)
from tests.yahoo_replay import Fault, YahooReplay, yahoo_replay

__all__ = ["holder", "market"]  # fixtures

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")
D = Decimal


@pytest.fixture
def yahoo(tmp_path: Path) -> Iterator[YahooReplay]:
    with yahoo_replay(tmp_path / "replay") as replay:
        yield replay


def test_the_recorded_history_is_stored_with_its_events_and_values_the_buy(
    committed_engine: Engine,
    yahoo: YahooReplay,
    market: YahooMarketData,
    holder: int,
    admin: Principal,
) -> None:
    yahoo.set_chart("AAPL", yahoo.recorded(SPLIT_FILE))
    buy(committed_engine, holder, "40", "129.04", AUG_31)

    outcome = fetch_new_asset_history(
        new_uow(committed_engine),
        market,
        admin,
        "AAPL",
        AUG_31,
    )

    assert outcome.status == "stored"
    assert outcome.events == 2  # the split and the dividend
    assert yahoo.calls["chart"] >= 1
    first, last = rows(committed_engine, "SELECT min(date), max(date) FROM prices")[0]
    assert (first, last) == (AUG_31, NOV_6)
    figures = series(committed_engine)
    assert min(figures) == AUG_31
    assert figures[AUG_31][0] == D("5161.59973160")  # 40 x 129.03999329, not 40 x 129.04
    assert figures[NOV_6][0] == D("4747.60009760")  # 40 x 118.69000244


def test_a_rate_limited_yahoo_leaves_the_history_pending(
    committed_engine: Engine,
    yahoo: YahooReplay,
    market: YahooMarketData,
    holder: int,
    admin: Principal,
) -> None:
    yahoo.inject(Fault.rate_limit(), "chart", times=None)
    buy(committed_engine, holder, "40", "129.04", AUG_31)

    outcome = fetch_new_asset_history(
        new_uow(committed_engine),
        market,
        admin,
        "AAPL",
        AUG_31,
    )

    assert outcome.status == "pending"
    assert outcome.failed == {"AAPL": port.RATE_LIMITED}
    assert rows(committed_engine, "SELECT count(*) FROM prices") == [(0,)]
    assert rows(committed_engine, "SELECT count(*) FROM movements") == [(1,)]  # still saved
