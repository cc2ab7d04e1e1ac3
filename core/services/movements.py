"""Ledger use cases beyond buying: sells, income typed by hand, editing and deleting any
movement, and the client's ledger as a filterable list.

Buys are still added through :mod:`core.services.allocations` (the lot API); here a buy can
be edited with its fees (:class:`core.trade_schemas.TradeIn`) or deleted like any movement. A sell
or income is for an asset the client's ledger already has (``validation.asset_not_held``).

Every write locks the client's book first, writes and flushes, then walks the client's
whole ledger for the asset (:func:`core.services.ledger_rules.check_holdings`): a sell of
more than is held on its date, or an edit or deletion leaving a later sell uncovered, is
refused with the quantities and the date in the message, and nothing is stored. The
client's stored figures are dropped from the change's earliest date on, and the change is
audited (entity ``movement``), in the same transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from core.analytics.ledger import DAY_ORDER, Kind, Line, Oversold, walk
from core.db import UnitOfWork
from core.errors import NotFound, ValidationFailed
from core.market.symbols import resolve_symbol
from core.models import Asset, AssetEvent, Movement
from core.schemas import parse
from core.services.allocations import check_client_invested, check_first_trade
from core.services.audit import audit_change
from core.services.integrity import MOVEMENT_FIELDS, translate_integrity_error
from core.services.ledger_rules import check_holdings, event_line, ledger_lines
from core.services.principal import Principal, require_admin
from core.trade_schemas import AllocationIn, IncomeIn, LedgerLineOut, MovementOut, SellIn, TradeIn

ENTITY = "movement"
LEDGER_KINDS = ("buy", "sell", "income", "event")  # what client_ledger filters by


def movement_out(movement: Movement, asset: Asset) -> MovementOut:
    """A stored movement as pages, audit entries and callers see it."""
    return MovementOut(
        id=movement.id,
        client_id=movement.client_id,
        symbol=asset.symbol,
        name=asset.name,
        currency=asset.currency,
        kind=movement.kind,  # type: ignore[arg-type]  # the database's CHECK holds it
        date=movement.date,
        quantity=movement.quantity,
        price=movement.price,
        fees=movement.fees,
        income_type=movement.income_type,  # type: ignore[arg-type]
        amount=movement.amount,
        tax=movement.tax,
    )


def _parsed(model: type[BaseModel], data: BaseModel | dict[str, Any]) -> Any:
    """``data`` as ``model``: kept when it already is one, else validated (message keys)."""
    if isinstance(data, model):
        return data
    raw = data.model_dump() if isinstance(data, BaseModel) else data
    return parse(model, raw)


def _held_asset(uow: UnitOfWork, client_id: int, symbol: str) -> Asset:
    """The asset with ``symbol`` when the client's ledger has it, else refused on symbol."""
    wanted = resolve_symbol(symbol) if isinstance(symbol, str) else ""
    asset = uow.assets.by_symbol(wanted) if wanted else None
    if asset is None or not uow.movements.holds_asset(client_id, asset.id):
        raise ValidationFailed.single("symbol", "validation.asset_not_held", symbol=wanted)
    return asset


def _locked_client(uow: UnitOfWork, client_id: int) -> None:
    """Lock the client's book (two ledger writes for one client take turns)."""
    if not uow.clients.lock_books([client_id]):
        raise NotFound()


def _add(
    uow: UnitOfWork, actor: Principal, client_id: int, symbol: str, columns: dict[str, Any]
) -> MovementOut:
    """Insert one movement for a held asset, check the ledger, refresh figures, audit."""
    with uow:
        _locked_client(uow, client_id)
        asset = _held_asset(uow, client_id, symbol)
        try:
            movement = uow.movements.add(
                Movement(client_id=client_id, asset_id=asset.id, **columns)
            )
        except IntegrityError as exc:
            raise translate_integrity_error(exc, MOVEMENT_FIELDS) from exc
        if movement.kind == "sell":  # income moves no shares
            check_holdings(uow, client_id, asset.id, written=movement.id)
        out = movement_out(movement, asset)
        uow.figures.invalidate_client(client_id, out.date)
        audit_change(uow, actor, "create", ENTITY, movement.id, None, out)
        uow.commit()
        return out


def add_sell(
    uow: UnitOfWork,
    actor: Principal,
    client_id: int,
    symbol: str,
    sell: SellIn | dict[str, Any],
) -> MovementOut:
    """Record a sell of an asset the client holds; refused (``validation.oversold``) when
    it exceeds the quantity held on its date, counting splits and bonus shares."""
    require_admin(actor)
    sell_in: SellIn = _parsed(SellIn, sell)
    columns = {
        "kind": "sell",
        "quantity": sell_in.quantity,
        "price": sell_in.price,
        "fees": sell_in.fees,
        "date": sell_in.date,
    }
    return _add(uow, actor, client_id, symbol, columns)


def add_income(
    uow: UnitOfWork,
    actor: Principal,
    client_id: int,
    symbol: str,
    income: IncomeIn | dict[str, Any],
) -> MovementOut:
    """Record income typed by hand (dividend, JCP, rendimento, amortização: gross amount
    and tax withheld) for an asset in the client's ledger."""
    require_admin(actor)
    income_in: IncomeIn = _parsed(IncomeIn, income)
    columns = {
        "kind": "income",
        "quantity": 0,
        "price": 0,
        "fees": 0,
        "income_type": income_in.income_type,
        "amount": income_in.amount,
        "tax": income_in.tax,
        "date": income_in.date,
    }
    return _add(uow, actor, client_id, symbol, columns)


def _new_columns(
    uow: UnitOfWork, movement: Movement, asset: Asset, data: BaseModel | dict[str, Any]
) -> dict[str, Any]:
    """The edited columns of ``movement``, validated for its kind (a buy also against the
    asset's first trading day and the client's invested limit, as the lot form is)."""
    if movement.kind == "income":
        income_in: IncomeIn = _parsed(IncomeIn, data)
        return {
            "income_type": income_in.income_type,
            "amount": income_in.amount,
            "tax": income_in.tax,
            "date": income_in.date,
        }
    trade: TradeIn = _parsed(SellIn if movement.kind == "sell" else TradeIn, data)
    if movement.kind == "buy":
        lot = AllocationIn(quantity=trade.quantity, buy_price=trade.price, buy_date=trade.date)
        check_first_trade(asset.first_trade_date, lot)
        check_client_invested(uow, movement.client_id, lot, replacing=movement)
    return {
        "quantity": trade.quantity,
        "price": trade.price,
        "fees": trade.fees,
        "date": trade.date,
    }


def _locked_movement(uow: UnitOfWork, movement_id: int) -> tuple[Movement, Asset]:
    """The movement, locked after its client's book (the order a deletion locks them)."""
    client_id = uow.movements.client_of(movement_id)
    if client_id is not None:
        uow.clients.lock_books([client_id])
    movement = uow.movements.get(movement_id, for_update=True)
    if movement is None:
        raise NotFound()
    asset = uow.assets.get(movement.asset_id)
    assert asset is not None
    return movement, asset


def update_movement(
    uow: UnitOfWork,
    actor: Principal,
    movement_id: int,
    data: TradeIn | IncomeIn | dict[str, Any],
) -> MovementOut:
    """Change a movement's fields (its kind and asset stay): a buy or sell takes
    :class:`TradeIn`'s fields (a sell :class:`SellIn`), income :class:`IncomeIn`'s.

    Refused when the ledger would then sell more than it holds on some date — the edited
    sell itself (``validation.oversold``) or a later one (``validation.oversold_later``).
    """
    require_admin(actor)
    with uow:
        movement, asset = _locked_movement(uow, movement_id)
        columns = _new_columns(uow, movement, asset, data)
        before = movement_out(movement, asset)
        for name, value in columns.items():
            setattr(movement, name, value)
        movement.updated_at = func.now()
        try:
            uow.movements.refresh(movement)
        except IntegrityError as exc:
            raise translate_integrity_error(exc, MOVEMENT_FIELDS) from exc
        if movement.kind != "income":
            check_holdings(uow, movement.client_id, movement.asset_id, written=movement.id)
        after = movement_out(movement, asset)
        uow.figures.invalidate_client(movement.client_id, min(before.date, after.date))
        audit_change(uow, actor, "update", ENTITY, movement_id, before, after)
        uow.commit()
        return after


def delete_movement(uow: UnitOfWork, actor: Principal, movement_id: int) -> None:
    """Remove a movement of any kind; deleting a buy is refused when a later sell needs
    its shares (``validation.oversold_later``)."""
    require_admin(actor)
    with uow:
        movement, asset = _locked_movement(uow, movement_id)
        before = movement_out(movement, asset)
        uow.movements.delete(movement)
        if before.kind == "buy":
            check_holdings(uow, before.client_id, asset.id, field="__root__")
        uow.figures.invalidate_client(before.client_id, before.date)
        audit_change(uow, actor, "delete", ENTITY, movement_id, before, None)
        uow.commit()


def _applied_events(lines: list[Line], events: list[AssetEvent]) -> list[tuple[AssetEvent, Any]]:
    """The events that applied to a holding, each with the quantity held just before it
    (None when the stored ledger cannot be walked: the event is listed, quantity unknown)."""
    applied: list[tuple[AssetEvent, Any]] = []
    for event in events:
        key = event_line(event).sort_key
        try:
            held = walk([line for line in lines if line.sort_key < key]).quantity
        except Oversold:
            held = None
        if held is None or held > 0:
            applied.append((event, held))
    return applied


def _newest_first(line: LedgerLineOut) -> tuple[date, int, int]:
    """Sort key (reversed): date, the walk's order within a day, then id."""
    if line.movement is not None:
        return line.date, DAY_ORDER[Kind(line.movement.kind)], line.movement.id
    return line.date, DAY_ORDER[Kind(line.event_kind or "split")], line.event_id or 0


def _event_rows(
    rows: list[tuple[Movement, Asset]], events: list[AssetEvent], symbol: str | None
) -> list[LedgerLineOut]:
    """The events that applied to the client's holdings, one asset after another."""
    assets = {a.id: a for _, a in rows}
    out: list[LedgerLineOut] = []
    for asset_id, held_asset in assets.items():
        if symbol not in (None, held_asset.symbol):
            continue
        mine = [m for m, _ in rows if m.asset_id == asset_id]
        of_asset = [e for e in events if e.asset_id == asset_id]
        for event, held in _applied_events(ledger_lines(mine, of_asset), of_asset):
            out.append(
                LedgerLineOut(
                    date=event.ex_date,
                    symbol=held_asset.symbol,
                    is_event=True,
                    event_id=event.id,
                    event_kind=event.kind,
                    ratio=event.ratio,
                    value=event.value,
                    held=held,
                )
            )
    return out


def client_ledger(
    uow: UnitOfWork,
    actor: Principal,
    client_id: int,
    *,
    kind: str | None = None,
    asset: str | None = None,
) -> list[LedgerLineOut]:
    """Every movement of the client with its asset's symbol, and the asset events that
    applied to the client's holdings (``is_event``), newest first.

    ``kind`` keeps one of buy, sell, income or event; ``asset`` one symbol. Any signed-in
    role may read (``actor`` is who asks; reading changes nothing).
    """
    del actor  # read-only users may read a ledger, as they read the portfolio
    if kind is not None and kind not in LEDGER_KINDS:
        raise ValidationFailed.single("kind", "validation.choice")
    symbol = resolve_symbol(asset) if asset else None
    with uow:
        if uow.clients.get(client_id) is None:
            raise NotFound()
        rows = uow.movements.for_client(client_id)
        out = [
            LedgerLineOut(
                date=movement.date,
                symbol=held_asset.symbol,
                is_event=False,
                movement=movement_out(movement, held_asset),
            )
            for movement, held_asset in rows
            if kind in (None, movement.kind) and symbol in (None, held_asset.symbol)
        ]
        if kind in (None, "event"):
            events = uow.movements.events_of({a.id for _, a in rows})
            out += _event_rows(rows, events, symbol)
    return sorted(out, key=_newest_first, reverse=True)
