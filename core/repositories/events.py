"""Queries and writes of ``asset_events`` for the admin's event list and corrections
(flushed, never committed): the events with their asset and holder count, one event by id
or by its key, and the clients whose figures an event changes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Asset, AssetEvent, Movement
from core.repositories.ids import id_is

LIST_LIMIT = 500  # the page lists the newest events; a filter narrows the rest


def _like(text: str) -> str:
    """``text`` as a contains-pattern with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class EventRepository:
    """Reads and writes ``asset_events`` one event at a time."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def listing(
        self,
        *,
        symbol: str | None = None,
        kind: str | None = None,
        include_dismissed: bool = False,
        limit: int = LIST_LIMIT,
    ) -> list[tuple[AssetEvent, Asset, int]]:
        """Events newest first (ex-date, then id) with their asset and the number of
        clients whose ledger has that asset; ``symbol`` matches a part of the ticker."""
        holders = (
            select(Movement.asset_id, func.count(func.distinct(Movement.client_id)).label("n"))
            .group_by(Movement.asset_id)
            .subquery()
        )
        stmt = (
            select(AssetEvent, Asset, func.coalesce(holders.c.n, 0))
            .join(Asset, Asset.id == AssetEvent.asset_id)
            .outerjoin(holders, holders.c.asset_id == AssetEvent.asset_id)
            .order_by(AssetEvent.ex_date.desc(), AssetEvent.id.desc())
            .limit(limit)
        )
        if symbol:
            stmt = stmt.where(Asset.symbol.ilike(_like(symbol), escape="\\"))
        if kind:
            stmt = stmt.where(AssetEvent.kind == kind)
        if not include_dismissed:
            stmt = stmt.where(AssetEvent.dismissed.is_(False))
        return [(row[0], row[1], int(row[2])) for row in self.session.execute(stmt)]

    def get(self, event_id: int, *, for_update: bool = False) -> AssetEvent | None:
        """The event with ``event_id`` (None for an id no row can have)."""
        stmt = select(AssetEvent).where(id_is(AssetEvent.id, event_id))
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def asset_of(self, event_id: int) -> int | None:
        """The asset of an event, read without locking (to lock the holders' books first)."""
        stmt = select(AssetEvent.asset_id).where(id_is(AssetEvent.id, event_id))
        return self.session.scalars(stmt).one_or_none()

    def at_key(self, asset_id: int, kind: str, ex_date: date) -> AssetEvent | None:
        """The asset's event of ``kind`` on ``ex_date`` (the table's unique key), if any."""
        stmt = select(AssetEvent).where(
            AssetEvent.asset_id == asset_id,
            AssetEvent.kind == kind,
            AssetEvent.ex_date == ex_date,
        )
        return self.session.scalars(stmt).one_or_none()

    def holders(self, asset_id: int) -> list[int]:
        """The clients whose ledger has any movement of the asset, by id."""
        stmt = (
            select(Movement.client_id)
            .where(Movement.asset_id == asset_id)
            .distinct()
            .order_by(Movement.client_id)
        )
        return list(self.session.scalars(stmt))

    def add(self, event: AssetEvent) -> AssetEvent:
        """Insert and flush, so the table's rules are checked now."""
        self.session.add(event)
        self.session.flush()
        self.session.refresh(event)
        return event

    def refresh(self, event: AssetEvent) -> AssetEvent:
        """Flush pending changes and re-read the row."""
        self.session.flush()
        self.session.refresh(event)
        return event

    def delete(self, event: AssetEvent) -> None:
        """Delete one event (flushed)."""
        self.session.delete(event)
        self.session.flush()
