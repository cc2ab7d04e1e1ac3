"""The rows of the ledger and positions exports, for :mod:`core.services.exports`.

The **ledger** is every movement (buys, sells, income typed by hand), streamed client by
client and by date, its kind and income type in the user's language; a cell a kind has no
use for is empty, never a zero. **Positions** are :func:`core.services.positions.
client_positions`, client by client: each client's assets are walked and priced (one
batched quote call per client, plus the rates its currencies need) before the export's
transaction opens, as allocations are priced; a row without a quote, a closed position
and a ledger that sells more than it held say so in the note.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.db import UnitOfWork
from core.i18n import Translator
from core.market.port import MarketData
from core.services.positions import OVERSOLD, PositionRow, PositionsView, client_positions


@dataclass(frozen=True, slots=True)
class PricedClient:
    """One client's positions, priced, with the name and e-mail the rows carry."""

    name: str
    email: str
    view: PositionsView


def ledger_rows(uow: UnitOfWork, client_id: int | None, t: Translator) -> Iterator[tuple[Any, ...]]:
    """The ledger dataset's rows (lazily, off a server-side cursor; consume them inside
    ``uow``'s block)."""
    for (
        name,
        email,
        day,
        kind,
        symbol,
        currency,
        quantity,
        price,
        fees,
        income_type,
        amount,
        tax,
    ) in uow.exports.ledger(client_id):
        label = t(f"movement_kind.{kind}")
        if kind == "income":
            income = t(f"income_type.{income_type}") if income_type else None
            yield (name, email, day, label, symbol, currency, None, None, None, income, amount, tax)
        else:
            yield (
                name,
                email,
                day,
                label,
                symbol,
                currency,
                quantity,
                price,
                fees,
                None,
                None,
                None,
            )


def price_positions(
    uow: UnitOfWork, market: MarketData, client_id: int | None
) -> list[PricedClient]:
    """Every client's positions (one client, or all with a ledger), priced now; each
    client is read in its own short transaction and priced outside it."""
    with uow:
        clients = uow.exports.ledger_clients(client_id)
    return [
        PricedClient(name, email, client_positions(uow, market, cid))
        for cid, name, email in clients
    ]


def _note(row: PositionRow, t: Translator) -> str | None:
    if row.failure == OVERSOLD:
        return t("export.note.oversold")
    if row.failure:
        return t(f"market.failed.{row.failure}")
    if row.closed:
        return t("export.note.closed")
    if row.stale:
        return t("market.stale")
    return None


def position_rows(priced: list[PricedClient], t: Translator) -> Iterator[tuple[Any, ...]]:
    """The positions dataset's rows, client by client, in each client's asset order."""
    for client in priced:
        for row in client.view.rows:
            yield (
                client.name,
                client.email,
                row.symbol,
                row.name,
                row.currency,
                None if row.failure == OVERSOLD else row.quantity,
                row.average_cost,
                row.price,
                row.market_value,
                row.unrealised,
                None if row.failure == OVERSOLD else row.realised,
                None if row.failure == OVERSOLD else row.income,
                row.total_return,
                row.total_return_pct,
                row.market_value_brl,
                row.weight,
                _note(row, t),
            )
