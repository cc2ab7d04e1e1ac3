"""A buy's fees through the real allocation service on the real PostgreSQL: stored, edited,
kept by an edit that leaves them out, and counted in the figures (invested and return).

The figures are the ones a ledger change recomputes at once (core.services.client_figures)
from the demo closes a backfill stored, read back with core.services.figures.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine

from core.errors import ValidationFailed
from core.market.demo import DemoMarketData
from core.services import closing
from core.services.allocations import add_allocation, update_allocation
from core.services.clients import create_client
from core.services.figures import client_history, client_metrics
from core.services.portfolio import client_portfolio
from core.services.principal import SYSTEM, Principal
from tests.integration.test_closing_jobs import FRIDAY, RANGE_START, close_of, demo, new_uow, nov

__all__ = ["demo"]  # fixture

D = Decimal
SYMBOL = "VALE3.SA"


def lot(fees: str | None = None, **fields: str) -> dict[str, object]:
    values: dict[str, object] = {"quantity": "10", "buy_price": "60,00", "buy_date": nov(4)}
    values.update(fields)
    if fees is not None:
        values["fees"] = fees
    return values


def test_fees_are_stored_edited_kept_and_counted_in_the_figures(
    committed_engine: Engine, demo: DemoMarketData, admin: Principal
) -> None:
    dora = create_client(new_uow(committed_engine), admin, {"name": "Dora", "email": "d@x.com"})
    added = add_allocation(
        new_uow(committed_engine), demo, admin, dora.id, {"symbol": SYMBOL}, lot("4,90")
    )
    assert added.fees == D("4.90")
    closing.backfill(committed_engine, demo, RANGE_START, FRIDAY, actor=SYSTEM)
    close = close_of(demo, SYMBOL, FRIDAY)

    # Hand-checked: 10 x 60.00 + 4.90 paid in on 4 Nov; worth 10 closes on Friday.
    figures = client_metrics(new_uow(committed_engine), dora.id)
    assert figures is not None
    assert figures.as_of == FRIDAY
    assert figures.invested == D("604.90")
    assert figures.market_value == 10 * close
    assert figures.accumulated_return is not None
    assert float(figures.accumulated_return) == pytest.approx(
        float(10 * close / D("604.90") - 1), abs=1e-8
    )
    history = client_history(new_uow(committed_engine), dora.id)
    assert (history[0].date, history[0].flow_in) == (nov(4), D("604.90"))

    # An edit of the fees recomputes the figures at once, from the buy date.
    edited = update_allocation(new_uow(committed_engine), admin, added.id, lot("10"))
    assert edited.fees == D("10")
    figures = client_metrics(new_uow(committed_engine), dora.id)
    assert figures is not None
    assert figures.invested == D("610.00")
    assert float(figures.accumulated_return or 0) == pytest.approx(
        float(10 * close / D("610") - 1), abs=1e-8
    )

    # An edit that leaves the fees out (an API caller, say) keeps them: never zeroed.
    kept = update_allocation(new_uow(committed_engine), admin, added.id, lot(quantity="12"))
    assert (kept.quantity, kept.fees) == (D("12"), D("10"))
    (row,) = client_portfolio(new_uow(committed_engine), demo, dora.id).rows
    assert row.fees == D("10")  # what the lot form's edit is prefilled with
    figures = client_metrics(new_uow(committed_engine), dora.id)
    assert figures is not None
    assert figures.invested == D("730.00")  # 12 x 60 + 10


def test_negative_fees_are_refused_on_their_field_and_nothing_is_stored(
    committed_engine: Engine, demo: DemoMarketData, admin: Principal
) -> None:
    dora = create_client(new_uow(committed_engine), admin, {"name": "Dora", "email": "d@x.com"})
    with pytest.raises(ValidationFailed) as caught:
        add_allocation(
            new_uow(committed_engine), demo, admin, dora.id, {"symbol": SYMBOL}, lot("-1")
        )
    assert caught.value.field_errors["fees"][0] == "validation.non_negative"
    assert client_portfolio(new_uow(committed_engine), demo, dora.id).rows == []
