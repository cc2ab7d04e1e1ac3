"""Assets' events as an admin keeps them right: list, correct, dismiss, restore, add.

Market data reports splits and dividends
(:meth:`~core.repositories.ledger.LedgerRepository.store_events`),
and every holder's figures apply the events that are not dismissed. Yahoo's "dividend" may
really be JCP (15 % withheld), or carry a wrong amount or date: an admin corrects it here.
A corrected event (``corrected``) keeps the admin's values when the scheduler reports the
event again; a dismissed one stays ignored.

When a correction moves an event off the key market data reports it under (its kind or
ex-date: a dividend retyped as JCP), a dismissed, corrected copy of the reported event is
left at the old key, so the next fetch of the same dividend lands on it (and stays
ignored) instead of coming back beside the JCP and paying the holders twice.

Every write is admin-only, locks the books of the asset's holders (as a ledger write does),
is audited (entity ``asset_event``) and drops those clients' figures from the earliest
ex-date it touches; the unit of work recomputes them before it commits
(:mod:`core.services.client_figures`), so every holder's past figures change at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.errors import NotFound, ValidationFailed
from core.event_schemas import (
    EVENT_KINDS,
    EventAudit,
    EventIn,
    EventOut,
    NewEventIn,
    default_ratio,
)
from core.models import Asset, AssetEvent
from core.schemas import parse
from core.services.audit import audit_change
from core.services.integrity import translate_integrity_error
from core.services.principal import Principal, require_admin

ENTITY = "asset_event"
FIELDS = ("kind", "ex_date", "value", "ratio")


def _out(event: AssetEvent, asset: Asset, holders: int) -> EventOut:
    return EventOut(
        id=event.id,
        asset_id=asset.id,
        symbol=asset.symbol,
        name=asset.name,
        kind=event.kind,  # type: ignore[arg-type]  # the database's CHECK holds it
        ex_date=event.ex_date,
        ratio=event.ratio,
        value=event.value,
        source=event.source,
        dismissed=event.dismissed,
        corrected=event.corrected,
        holders=holders,
        updated_at=event.updated_at,
    )


def _snapshot(event: AssetEvent, asset: Asset) -> EventAudit:
    return EventAudit(
        symbol=asset.symbol,
        kind=event.kind,
        ex_date=event.ex_date,
        ratio=event.ratio,
        value=event.value,
        source=event.source,
        dismissed=event.dismissed,
        corrected=event.corrected,
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _raw(data: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    return data.model_dump() if isinstance(data, BaseModel) else dict(data)


def _refresh_holders(uow: UnitOfWork, holders: list[int], since: date) -> None:
    """Mark the holders' figures stale from ``since``: the unit of work recomputes them
    before it commits, as for any ledger write (:mod:`core.services.client_figures`)."""
    uow.figures.invalidate({client_id: since for client_id in holders})


def _flush(uow: UnitOfWork, event: AssetEvent) -> None:
    try:
        uow.events.refresh(event)
    except IntegrityError as exc:
        raise translate_integrity_error(exc) from exc


def _add(uow: UnitOfWork, event: AssetEvent) -> None:
    try:
        uow.events.add(event)
    except IntegrityError as exc:
        raise translate_integrity_error(exc) from exc


def _locked(uow: UnitOfWork, event_id: int) -> tuple[AssetEvent, Asset, list[int]]:
    """The event (locked) with its asset and holders, their books locked first."""
    asset_id = uow.events.asset_of(event_id)
    if asset_id is None:
        raise NotFound()
    holders = uow.events.holders(asset_id)
    uow.clients.lock_books(holders)
    event = uow.events.get(event_id, for_update=True)
    if event is None:
        raise NotFound()
    asset = uow.assets.get(event.asset_id)
    assert asset is not None  # the foreign key holds it
    return event, asset, holders


def list_events(
    uow: UnitOfWork,
    actor: Principal,
    *,
    symbol: str | None = None,
    kind: str | None = None,
    include_dismissed: bool = False,
) -> list[EventOut]:
    """Events newest first with their asset and holder count; ``symbol`` matches part of
    the ticker (``petr4`` finds PETR4.SA), ``kind`` keeps one kind."""
    require_admin(actor)
    if kind is not None and kind not in EVENT_KINDS:
        raise ValidationFailed.single("kind", "validation.choice")
    wanted = symbol.strip().upper() if symbol and symbol.strip() else None
    with uow:
        rows = uow.events.listing(symbol=wanted, kind=kind, include_dismissed=include_dismissed)
        return [_out(event, asset, holders) for event, asset, holders in rows]


def _corrected_fields(event: AssetEvent, data: Mapping[str, Any]) -> EventIn:
    """``data`` over the stored event: a field not given keeps its value; a ratio not
    given keeps the stored one unless the kind changes, when it takes the new kind's default
    (15 % withheld on JCP, none on other income, typed for a split or bonus)."""
    raw = dict(data)
    kind_given = not _blank(raw.get("kind"))
    kind = raw["kind"] if kind_given else event.kind
    changed_kind = kind != event.kind
    merged: dict[str, Any] = {**raw, "kind": kind}
    if _blank(raw.get("ex_date")):
        merged["ex_date"] = event.ex_date
    if raw.get("value") is None:
        merged["value"] = 0 if changed_kind and kind == "split" else event.value
    if _blank(raw.get("ratio")):
        merged["ratio"] = default_ratio(kind) if changed_kind else event.ratio
    return parse(EventIn, merged)


def _leave_reported_copy(uow: UnitOfWork, actor: Principal, before: AssetEvent) -> None:
    """A dismissed, corrected copy of a reported event at its old key (module docstring)."""
    copy = AssetEvent(
        asset_id=before.asset_id,
        kind=before.kind,
        ex_date=before.ex_date,
        ratio=before.ratio,
        value=before.value,
        source=before.source,
        dismissed=True,
        corrected=True,
    )
    _add(uow, copy)
    asset = uow.assets.get(copy.asset_id)
    assert asset is not None
    audit_change(uow, actor, "create", ENTITY, copy.id, None, _snapshot(copy, asset))


def _free_key(
    uow: UnitOfWork, actor: Principal, asset: Asset, kind: str, ex_date: date, keep: int
) -> None:
    """Make room for an event at (kind, ex_date): a dismissed event there is removed
    (audited), a live one refuses the change."""
    there = uow.events.at_key(asset.id, kind, ex_date)
    if there is None or there.id == keep:
        return
    if not there.dismissed:
        raise ValidationFailed.single("ex_date", "validation.event_exists")
    audit_change(uow, actor, "delete", ENTITY, there.id, _snapshot(there, asset), None)
    uow.events.delete(there)


def correct_event(
    uow: UnitOfWork,
    actor: Principal,
    event_id: int,
    data: EventIn | Mapping[str, Any],
) -> EventOut:
    """Change an event's kind, ex-date, value or ratio (a field not given stays; see
    :func:`_corrected_fields`); the event becomes ``corrected`` and keeps its source.
    Refused (``validation.event_exists``) when the asset already has a live event of that
    kind on that date."""
    require_admin(actor)
    raw = _raw(data)
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ValidationFailed.single(unknown[0], "validation.unknown_field")
    with uow:
        event, asset, holders = _locked(uow, event_id)
        fields = _corrected_fields(event, raw)
        before = _snapshot(event, asset)
        reported = AssetEvent(
            asset_id=event.asset_id,
            kind=event.kind,
            ex_date=event.ex_date,
            ratio=event.ratio,
            value=event.value,
            source=event.source,
        )
        moved = (fields.kind, fields.ex_date) != (event.kind, event.ex_date)
        if moved:
            _free_key(uow, actor, asset, fields.kind, fields.ex_date, event.id)
        event.kind, event.ex_date = fields.kind, fields.ex_date
        event.value, event.ratio = fields.value, fields.ratio
        event.corrected = True
        event.updated_at = func.now()
        _flush(uow, event)
        if moved and reported.source != "admin":
            _leave_reported_copy(uow, actor, reported)
        after = _snapshot(event, asset)
        audit_change(uow, actor, "update", ENTITY, event.id, before, after)
        _refresh_holders(uow, holders, min(before.ex_date, after.ex_date))
        out = _out(event, asset, len(holders))
        uow.commit()
        return out


def _set_dismissed(uow: UnitOfWork, actor: Principal, event_id: int, dismissed: bool) -> EventOut:
    """Dismiss or restore an event (nothing is written when it already is so)."""
    require_admin(actor)
    with uow:
        event, asset, holders = _locked(uow, event_id)
        if event.dismissed == dismissed:
            return _out(event, asset, len(holders))
        before = _snapshot(event, asset)
        event.dismissed = dismissed
        event.updated_at = func.now()
        _flush(uow, event)
        # The log's actions are create/update/delete (a CHECK): the flag tells which.
        audit_change(uow, actor, "update", ENTITY, event.id, before, _snapshot(event, asset))
        _refresh_holders(uow, holders, event.ex_date)
        out = _out(event, asset, len(holders))
        uow.commit()
        return out


def dismiss_event(uow: UnitOfWork, actor: Principal, event_id: int) -> EventOut:
    """Ignore an event in every holder's figures (it stays listed, and a later fetch of it
    stays ignored)."""
    return _set_dismissed(uow, actor, event_id, True)


def restore_event(uow: UnitOfWork, actor: Principal, event_id: int) -> EventOut:
    """Apply a dismissed event again."""
    return _set_dismissed(uow, actor, event_id, False)


def add_event(uow: UnitOfWork, actor: Principal, data: NewEventIn | Mapping[str, Any]) -> EventOut:
    """Record an event market data missed, for a known asset (``symbol``): source
    ``admin``, ``corrected``. A ratio not given takes the kind's default (JCP 15 %)."""
    require_admin(actor)
    raw = _raw(data)
    if _blank(raw.get("ratio")):
        raw["ratio"] = default_ratio(raw.get("kind"))
    fields = parse(NewEventIn, raw)
    with uow:
        asset = uow.assets.by_symbol(fields.symbol)
        if asset is None:
            raise ValidationFailed.single(
                "symbol", "validation.event_asset_unknown", symbol=fields.symbol
            )
        holders = uow.events.holders(asset.id)
        uow.clients.lock_books(holders)
        if uow.events.at_key(asset.id, fields.kind, fields.ex_date) is not None:
            raise ValidationFailed.single("ex_date", "validation.event_exists")
        event = AssetEvent(
            asset_id=asset.id,
            kind=fields.kind,
            ex_date=fields.ex_date,
            ratio=fields.ratio,
            value=fields.value,
            source="admin",
            corrected=True,
        )
        _add(uow, event)
        audit_change(uow, actor, "create", ENTITY, event.id, None, _snapshot(event, asset))
        _refresh_holders(uow, holders, event.ex_date)
        out = _out(event, asset, len(holders))
        uow.commit()
        return out
