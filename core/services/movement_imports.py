"""Importing a client's ledger (buys, sells, income) from a file: the checks against stored
data and the write, for :mod:`core.services.imports` (same preview, same all-or-nothing
commit under its lock, same audit entry).

- The client is named by e-mail or CPF/CNPJ and must exist, as in the allocations import.
- **Buys** follow the allocations import: a ticker not stored yet must be known to market
  data (checked by the caller in one batched call, outside any transaction) and is created
  at the commit; the date must not precede the asset's first trading day; the file's new
  buys are added, in walking order, to each client's invested total and the row that would
  take it to the limit (:mod:`core.book_limits`) is refused.
- **Sells and income** are for an asset the client's ledger has, stored or bought by an
  earlier row of the file (``validation.asset_not_held``).
- No sell exceeds what is held on its date: each client's ledger for each asset — stored
  movements, the asset's non-dismissed events and the file's rows accepted so far — is
  walked with :func:`core.analytics.ledger.walk`, the file's rows taken in walking order
  (date, then buys before sells before income, then row number). An offending sell is
  refused with the message the movement service gives (``validation.oversold``, or
  ``validation.oversold_later`` when it leaves a stored later sell uncovered), and later
  rows are judged without it.
- A row equal to a stored movement (client, ticker, kind, date and every figure) is
  ``unchanged`` (re-importing a file adds nothing); a row repeating an earlier row of the
  file is refused as a duplicate.

The clients' books are locked (as every ledger write does) before anything is counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from core.analytics.ledger import DAY_ORDER, Kind, Line, Oversold, walk
from core.book_limits import invested_fits, lot_cost, total
from core.db import UnitOfWork
from core.errors import ValidationFailed
from core.imports.report import ImportReport, RowResult
from core.imports.validation import mark_duplicates
from core.market.port import Quote
from core.models import Asset, AssetEvent, Movement
from core.services.allocations import check_first_trade
from core.services.ledger_rules import ledger_lines, oversold_error
from core.trade_schemas import AllocationIn

FIGURES = ("quantity", "price", "fees", "income_type", "amount", "tax")
DEFAULTS: dict[str, Any] = {
    "quantity": Decimal(0),
    "price": Decimal(0),
    "fees": Decimal(0),
    "income_type": None,
    "amount": Decimal(0),
    "tax": Decimal(0),
}
FILE_REF = 10**12  # file rows walk after stored movements of the same day and kind


@dataclass(slots=True)
class MovementPlan:
    """What a commit of a movements file writes: each row's client, the stored assets."""

    client_ids: dict[int, int] = field(default_factory=dict)  # row -> client id
    assets: dict[str, Asset] = field(default_factory=dict)  # symbol -> stored asset


def movement_values(row: RowResult) -> dict[str, Any]:
    """The row's figures with the zeros (and no income type) of what its kind lacks."""
    return {**DEFAULTS, **{f: row.values[f] for f in FIGURES if f in row.values}}


def _key(client_id: int, symbol: str, kind: str, day: date, figures: dict[str, Any]) -> tuple:
    # Decimal equality ignores trailing zeros, and so does its hash.
    numbers = tuple(Decimal(figures[f]) if f != "income_type" else figures[f] for f in FIGURES)
    return (client_id, symbol, kind, day, *numbers)


def _row_key(plan: MovementPlan, row: RowResult) -> tuple | None:
    if row.row not in plan.client_ids:
        return None
    values = row.values
    return _key(
        plan.client_ids[row.row],
        str(values["symbol"]),
        str(values["kind"]),
        values["date"],
        movement_values(row),
    )


def _stored_key(movement: Movement, symbol: str) -> tuple:
    figures = {f: getattr(movement, f) for f in FIGURES}
    return _key(movement.client_id, symbol, movement.kind, movement.date, figures)


def _line(row: RowResult) -> Line:
    values = movement_values(row)
    kind = Kind(str(row.values["kind"]))
    day: date = row.values["date"]
    ref = FILE_REF + row.row
    if kind == Kind.INCOME:
        return Line(kind, day, amount=values["amount"], tax=values["tax"], ref=ref)
    return Line(
        kind, day, quantity=values["quantity"], price=values["price"], fees=values["fees"], ref=ref
    )


def _walking_order(row: RowResult) -> tuple[date, int, int]:
    return row.values["date"], DAY_ORDER[Kind(str(row.values["kind"]))], row.row


def _check_symbol(
    row: RowResult,
    plan: MovementPlan,
    quotes: dict[str, Quote],
    refused: dict[str, tuple[str, dict[str, Any]]],
) -> None:
    """A buy's ticker known (stored or to market data) and its date after the first trade."""
    symbol = str(row.values["symbol"])
    asset = plan.assets.get(symbol)
    quote = quotes.get(symbol)
    if asset is not None:
        first_trade = asset.first_trade_date
    elif quote is not None:
        first_trade = quote.first_trade_date
    else:
        key, params = refused.get(symbol, ("validation.symbol_unknown", {}))
        row.refuse(key, "symbol", **params)
        return
    lot = AllocationIn.model_construct(
        quantity=row.values["quantity"], buy_price=row.values["price"], buy_date=row.values["date"]
    )
    try:
        check_first_trade(first_trade, lot)
    except ValidationFailed as error:
        for name, (key, params) in error.field_errors.items():
            row.refuse(key, "date" if name == "buy_date" else name, **params)


class _Ledgers:
    """Each (client, asset) ledger walked so far: stored lines plus accepted file rows."""

    def __init__(
        self, uow: UnitOfWork, assets: dict[str, Asset], stored: list[tuple[Movement, str]]
    ) -> None:
        self.assets = assets
        self.events: dict[int, list[AssetEvent]] = defaultdict(list)
        for event in uow.movements.events_of({asset.id for asset in assets.values()}):
            self.events[event.asset_id].append(event)
        by_pair: dict[tuple[int, str], list[Movement]] = defaultdict(list)
        for movement, symbol in stored:
            if symbol in assets:  # the file's tickers only
                by_pair[(movement.client_id, symbol)].append(movement)
        self.lines: dict[tuple[int, str], list[Line]] = {
            pair: ledger_lines(movements, self.events[movements[0].asset_id])
            for pair, movements in by_pair.items()
        }

    def _of(self, client_id: int, symbol: str) -> list[Line]:
        pair = (client_id, symbol)
        if pair not in self.lines:  # nothing stored: the asset's events still apply
            asset = self.assets.get(symbol)
            self.lines[pair] = ledger_lines([], self.events[asset.id] if asset else [])
        return self.lines[pair]

    def holds(self, client_id: int, symbol: str) -> bool:
        """Whether the ledger has any line of the client's own (stored or accepted)."""
        own = (Kind.BUY, Kind.SELL, Kind.INCOME)
        return any(line.kind in own for line in self._of(client_id, symbol))

    def accept(self, client_id: int, symbol: str, row: RowResult) -> None:
        """Add the row to the ledger; a sell is judged first and refused when oversold."""
        lines = self._of(client_id, symbol)
        line = _line(row)
        if line.kind == Kind.SELL:
            try:
                walk([*lines, line])
            except Oversold as exc:
                error = oversold_error(exc, written=line.ref, field="quantity")
                for name, (key, params) in error.field_errors.items():
                    row.refuse(key, name, **params)
                return
        lines.append(line)


def check_movements(
    uow: UnitOfWork,
    report: ImportReport,
    client_ids: dict[int, int],
    quotes: dict[str, Quote],
    refused: dict[str, tuple[str, dict[str, Any]]],
    lock_books: Callable[[set[int]], Any],
) -> MovementPlan:
    """Judge every valid row against stored data (see the module docstring); set each
    valid row's action. ``client_ids`` maps the rows whose client was found."""
    plan = MovementPlan(client_ids=client_ids)
    rows = [row for row in report.rows if row.valid]
    symbols = sorted({str(row.values["symbol"]) for row in rows})
    plan.assets = uow.assets.by_symbols(symbols)
    for row in rows:
        if row.row in client_ids and row.values["kind"] == "buy":
            _check_symbol(row, plan, quotes, refused)
    mark_duplicates(rows, None, lambda r: _row_key(plan, r))
    wanted = {client_ids[row.row] for row in rows if row.valid and row.row in client_ids}
    lock_books(wanted)  # as every ledger write, before counting
    stored = uow.movements.with_symbols(wanted)
    existing = {_stored_key(movement, symbol) for movement, symbol in stored}
    invested = uow.allocations.invested_by_client(wanted)
    ledgers = _Ledgers(uow, plan.assets, stored)
    for row in sorted((r for r in rows if r.valid), key=_walking_order):
        client_id = client_ids[row.row]
        symbol = str(row.values["symbol"])
        if _row_key(plan, row) in existing:
            row.action = "unchanged"
            continue
        kind = row.values["kind"]
        if kind != "buy" and not ledgers.holds(client_id, symbol):
            row.refuse("validation.asset_not_held", "symbol", symbol=symbol)
            continue
        if kind == "buy":
            cost = lot_cost(row.values["quantity"], row.values["price"])
            after = total((invested.get(client_id, Decimal(0)), cost))
            if not invested_fits(after):
                row.refuse("validation.client_invested_too_large", "price")
                continue
            invested[client_id] = after
        ledgers.accept(client_id, symbol, row)
        if row.valid:
            row.action = "create"
    return plan


def movement_rows(report: ImportReport, plan: MovementPlan) -> tuple[list[RowResult], list[dict]]:
    """The rows a commit inserts and their ``movements`` columns (assets already stored)."""
    rows = [row for row in report.rows if row.action == "create"]
    values = [
        {
            "client_id": plan.client_ids[row.row],
            "asset_id": plan.assets[str(row.values["symbol"])].id,
            "kind": row.values["kind"],
            "date": row.values["date"],
            **movement_values(row),
        }
        for row in rows
    ]
    return rows, values
