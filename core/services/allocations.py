"""Allocation use cases: add a lot (creating its asset from a search result), edit, delete.

Changing a lot drops the client's stored daily returns and metrics from the lot's buy date
on, in the same transaction; the scheduler's next run recomputes them from there.

A ticker is checked against market data the first time it is held, so an unknown or
mistyped ticker is refused instead of silently created; the asset takes its name, exchange,
currency and first trading day from the search result and the quote. The buy date may not
precede the asset's first trading day when that is known.

A lot may not take its client's invested total (quantity × buy price summed over the
client's lots, each in its asset's currency) to :data:`core.book_limits.CLIENT_INVESTED_LIMIT`:
the stored figures could not hold that book. The client's row is locked while the total is
counted, so two lots saved at once for one client are judged one after the other.

Editing or deleting a lot is refused when a later sell of the client's ledger would then
exceed what is held (:func:`core.services.ledger_rules.check_holdings`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from core.book_limits import invested_fits, lot_cost, total
from core.db import UnitOfWork
from core.errors import NotFound, ValidationFailed
from core.market.cache import one_off_quotes
from core.market.port import MarketData, Quote
from core.models import Asset, Movement
from core.schemas import parse
from core.services.audit import audit_change
from core.services.integrity import translate_integrity_error
from core.services.ledger_rules import check_holdings
from core.services.principal import Principal, require_admin
from core.trade_schemas import AllocationIn, AllocationOut, AssetIn

ENTITY = "allocation"
# Column sizes of the descriptive asset labels. They come from a search result or a quote
# (not typed by the user), so a longer label is clipped rather than refused.
LABEL_MAX = {"name": 200, "exchange": 64, "asset_type": 32, "currency": 8}


def _label(field: str, value: str | None) -> str | None:
    return value[: LABEL_MAX[field]] if value else None


def _out(allocation: Movement, asset: Asset) -> AllocationOut:
    return AllocationOut(
        id=allocation.id,
        client_id=allocation.client_id,
        symbol=asset.symbol,
        name=asset.name,
        currency=asset.currency,
        quantity=allocation.quantity,
        buy_price=allocation.price,
        buy_date=allocation.date,
        fees=allocation.fees,
    )


def _columns(lot: AllocationIn) -> dict[str, Any]:
    """A lot's fields as the columns of its buy in the ledger.

    Fees are written when the lot states them (the lot form always does): a caller that
    leaves them out edits a buy without zeroing the fees an import stored for it.
    """
    columns: dict[str, Any] = {
        "quantity": lot.quantity,
        "price": lot.buy_price,
        "date": lot.buy_date,
    }
    if "fees" in lot.model_fields_set:
        columns["fees"] = lot.fees
    return columns


def check_first_trade(first_trade_date: date | None, lot: AllocationIn) -> None:
    """Refuse a buy date before the asset's first trading day (when that day is known)."""
    if first_trade_date and lot.buy_date < first_trade_date:
        raise ValidationFailed.single(
            "buy_date",
            "validation.before_first_trade",
            date=first_trade_date.isoformat(),
        )


def check_client_invested(
    uow: UnitOfWork,
    client_id: int,
    lot: AllocationIn,
    *,
    replacing: Movement | None = None,
) -> None:
    """Refuse (on ``buy_price``) a lot that would take its client's invested total to the
    limit (:mod:`core.book_limits`), counting the client's stored lots through the
    repository; ``replacing`` is the stored lot an edit changes (left out of the count).

    An edit that does not raise the total is accepted even over the limit, so a book
    stored before the limit existed can be brought down. Lock the client first
    (:meth:`core.repositories.clients.ClientRepository.lock_books`) when the answer
    decides a write.
    """
    excluding = replacing.id if replacing is not None else None
    stored = uow.allocations.invested_by_client([client_id], excluding=excluding)
    others = stored.get(client_id, Decimal(0))
    after = total((others, lot_cost(lot.quantity, lot.buy_price)))
    if invested_fits(after):
        return
    if replacing is not None:
        before = total((others, lot_cost(replacing.quantity, replacing.price)))
        if after <= before:
            return
    raise ValidationFailed.single("buy_price", "validation.client_invested_too_large")


def verify_new_symbols(
    market: MarketData, symbols: list[str]
) -> tuple[dict[str, Quote], dict[str, tuple[str, dict[str, Any]]]]:
    """Ask market data about tickers not held yet, in one batched call.

    Returns the quotes of the known tickers and, for the others, why (a message key and its
    params): unknown to market data, or market data unable to answer right now (rate limit,
    outage), which must not be reported as an unknown ticker.

    A one-off action, not a page refresh: with Redis down the source is still asked (once),
    since nobody polls a ticker nobody holds (see :func:`core.market.cache.one_off_quotes`).
    """
    if not symbols:
        return {}, {}
    batch = one_off_quotes(market, symbols)
    refused: dict[str, tuple[str, dict[str, Any]]] = {}
    for symbol in symbols:
        if symbol in batch.quotes:
            continue
        reason = batch.failed.get(symbol, "not_found")
        if reason in {"not_found", "no_data"}:
            refused[symbol] = ("validation.symbol_unknown", {"symbol": symbol})
        else:
            # Yahoo is down or rate limiting: say so instead of calling the ticker unknown.
            refused[symbol] = (f"market.failed.{reason}", {})
    wanted = set(symbols)
    return {s: q for s, q in batch.quotes.items() if s in wanted}, refused


def _verify_new_symbol(market: MarketData, symbol: str) -> Quote:
    quotes, refused = verify_new_symbols(market, [symbol])
    if symbol in quotes:
        return quotes[symbol]
    key, params = refused[symbol]
    raise ValidationFailed.single("symbol", key, **params)


def new_asset_values(asset_in: AssetIn, quote: Quote) -> dict[str, Any]:
    """The row of an asset held for the first time: labels from the search result when
    given, else from the quote; currency and first trading day from the quote."""
    return {
        "symbol": asset_in.symbol,
        "name": _label("name", asset_in.name or quote.name) or asset_in.symbol,
        "exchange": _label("exchange", asset_in.exchange or quote.exchange),
        "asset_type": _label("asset_type", asset_in.asset_type),
        "currency": _label("currency", quote.currency or asset_in.currency),
        "first_trade_date": quote.first_trade_date,
    }


def add_allocation(
    uow: UnitOfWork,
    market: MarketData,
    actor: Principal,
    client_id: int,
    asset: AssetIn | dict[str, Any],
    lot: AllocationIn | dict[str, Any],
) -> AllocationOut:
    """Add a lot (with its fees, 0 unless given) to a client's portfolio; the asset is
    created on first use."""
    require_admin(actor)
    asset_in = asset if isinstance(asset, AssetIn) else parse(AssetIn, asset)
    lot_in = lot if isinstance(lot, AllocationIn) else parse(AllocationIn, lot)
    with uow:
        if uow.clients.get(client_id) is None:
            raise NotFound()
        check_client_invested(uow, client_id, lot_in)  # before asking market data; again below
        known = uow.assets.by_symbol(asset_in.symbol)
    # The market call happens outside any transaction.
    quote = None if known else _verify_new_symbol(market, asset_in.symbol)
    with uow:
        if not uow.clients.lock_books([client_id]):
            raise NotFound()
        stored = uow.assets.by_symbol(asset_in.symbol)
        if stored is None:
            assert quote is not None
            stored = uow.assets.get_or_create(new_asset_values(asset_in, quote))
        check_first_trade(stored.first_trade_date, lot_in)
        check_client_invested(uow, client_id, lot_in)
        try:
            columns = _columns(lot_in) | {"fees": lot_in.fees}  # a new buy: 0 unless stated
            allocation = uow.allocations.add(
                Movement(client_id=client_id, asset_id=stored.id, kind="buy", **columns)
            )
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from exc
        out = _out(allocation, stored)
        uow.figures.invalidate_client(client_id, lot_in.buy_date)
        audit_change(uow, actor, "create", ENTITY, allocation.id, None, out)
        uow.commit()
        return out


def update_allocation(
    uow: UnitOfWork, actor: Principal, allocation_id: int, lot: AllocationIn | dict[str, Any]
) -> AllocationOut:
    """Change a lot's quantity, buy price, buy date and fees (kept when ``lot`` leaves
    them out); refused when the change would leave a later sell exceeding what is held
    (:mod:`core.services.ledger_rules`)."""
    require_admin(actor)
    lot_in = lot if isinstance(lot, AllocationIn) else parse(AllocationIn, lot)
    with uow:
        # The client's book first, then the lot: the order a client's deletion locks them.
        client_id = uow.allocations.client_of(allocation_id)
        if client_id is not None:
            uow.clients.lock_books([client_id])
        allocation = uow.allocations.get(allocation_id, for_update=True)
        if allocation is None:
            raise NotFound()
        asset = uow.assets.get(allocation.asset_id)
        assert asset is not None
        check_first_trade(asset.first_trade_date, lot_in)
        check_client_invested(uow, allocation.client_id, lot_in, replacing=allocation)
        before = _out(allocation, asset)
        for field, value in _columns(lot_in).items():
            setattr(allocation, field, value)
        allocation.updated_at = func.now()
        try:
            uow.allocations.refresh(allocation)
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from exc
        # A smaller or later buy may leave a later sell uncovered: judged on the whole ledger.
        check_holdings(uow, allocation.client_id, allocation.asset_id, written=allocation.id)
        after = _out(allocation, asset)
        since = min(before.buy_date, after.buy_date)
        uow.figures.invalidate_client(allocation.client_id, since)
        audit_change(uow, actor, "update", ENTITY, allocation_id, before, after)
        uow.commit()
        return after


def delete_allocation(uow: UnitOfWork, actor: Principal, allocation_id: int) -> None:
    """Remove a lot (the asset and its prices stay for other clients); refused when a
    later sell of the client's ledger needs its shares."""
    require_admin(actor)
    with uow:
        client_id = uow.allocations.client_of(allocation_id)
        if client_id is not None:
            uow.clients.lock_books([client_id])
        allocation = uow.allocations.get(allocation_id, for_update=True)
        if allocation is None:
            raise NotFound()
        asset = uow.assets.get(allocation.asset_id)
        assert asset is not None
        before = _out(allocation, asset)
        asset_id = allocation.asset_id
        uow.allocations.delete(allocation)
        # Refused when a later sell needs the shares this buy brought.
        check_holdings(uow, before.client_id, asset_id, field="__root__")
        uow.figures.invalidate_client(before.client_id, before.buy_date)
        audit_change(uow, actor, "delete", ENTITY, allocation_id, before, None)
        uow.commit()
