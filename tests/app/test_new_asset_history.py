"""A new ticker's price history, fetched by the pages right after its buy is saved: when
market data cannot answer (Yahoo rate-limited or unreachable), the buy or the import is
stored all the same and the page says, in pt-BR, that the next scheduled close fetches it."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from core.db import UnitOfWork
from core.market.cache import CachedMarketData
from core.market.port import HistoryBatch
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    assert_no_exception,
    create_client,
    expander,
    pt,
    sign_in,
    text_input,
    values,
)
from tests.app.test_client_detail_page import open_detail, save_in

Make = Callable[[], UnitOfWork]
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def history_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages' market data (behind the Redis cache, which may hold an earlier answer)
    fails every history request, as Yahoo unreachable would."""

    def down(self: object, symbols: list[str], start: date, end: date) -> HistoryBatch:
        raise ConnectionError("Yahoo unreachable")

    monkeypatch.setattr(CachedMarketData, "history", down)


def lots(make: Make, client_id: int) -> list[tuple[str, Decimal, Decimal]]:
    with make() as uow:
        return [(a.symbol, m.quantity, m.price) for m, a in uow.allocations.for_client(client_id)]


@pytest.mark.usefixtures("history_down")
def test_a_buy_whose_history_cannot_be_fetched_is_saved_with_a_note(demo_env: Make) -> None:
    maria = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = open_detail(ADMIN_EMAIL, maria.id)
    add = expander(at, "detail.add")
    text_input(add, "field.symbol").input("vale3.sa")
    text_input(add, "field.quantity").input("5")
    text_input(add, "field.buy_price").input("62,10")
    text_input(add, "field.buy_date").input("10/03/2025")
    save_in(add)

    assert_no_exception(at)
    note = pt("history.pending", symbol=escape_markdown("VALE3.SA"))
    assert "próximo fechamento agendado" in note
    assert values(at.success) == [f"{pt('detail.added')} {note}"]
    assert lots(demo_env, maria.id) == [("VALE3.SA", Decimal("5"), Decimal("62.1"))]


@pytest.mark.usefixtures("history_down")
def test_an_import_whose_histories_cannot_be_fetched_is_stored_with_a_note(
    demo_env: Make,
) -> None:
    maria = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Cliente", "Ativo", "Quantidade", "Preço de compra", "Data de compra"])
    sheet.append(["maria@example.com", "PETR4.SA", 100, 30.5, datetime(2025, 3, 10)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/imports.py").run()
    at.radio(key="import_kind").set_value("allocations").run()
    at.file_uploader[0].set_value(("lotes.xlsx", buffer.getvalue(), XLSX_MIME)).run()
    (commit,) = [b for b in at.button if b.label == pt("import.commit")]
    commit.click().run()

    assert_no_exception(at)
    done = pt("import.done", file=escape_markdown("lotes.xlsx"), created=1, updated=0, unchanged=0)
    note = pt("history.pending_import", symbols=escape_markdown("PETR4.SA"))
    assert values(at.success) == [f"{done} {note}"]
    assert lots(demo_env, maria.id) == [("PETR4.SA", Decimal("100"), Decimal("30.5"))]
