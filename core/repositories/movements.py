"""Queries and writes of a client's whole ledger: every movement (buys, sells, typed income)
and the events of the assets it holds (flushed, not committed).

:class:`core.repositories.assets.AllocationRepository` sees only the buys (the lot API);
this repository sees every kind, for the movement service, the positions and the check that
no sell exceeds what is held (:mod:`core.services.ledger_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from core.models import Asset, AssetEvent, Movement
from core.repositories import batches
from core.repositories.ids import holds, id_is
from core.repositories.marks import LEDGER_MARK


class MovementRepository:
    """Reads and writes ``movements`` of every kind, and reads ``asset_events``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, movement_id: int, *, for_update: bool = False) -> Movement | None:
        """The movement with ``movement_id``, of any kind (None for an id no row can have)."""
        stmt = select(Movement).where(id_is(Movement.id, movement_id))
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def client_of(self, movement_id: int) -> int | None:
        """The id of the client whose movement this is, read without locking the row, so a
        caller can lock the client's book first (the order a client's deletion locks)."""
        stmt = select(Movement.client_id).where(id_is(Movement.id, movement_id))
        return self.session.scalars(stmt).one_or_none()

    def of_asset(self, client_id: int, asset_id: int) -> list[Movement]:
        """The client's movements of one asset, in entry order (ids)."""
        stmt = (
            select(Movement)
            .where(id_is(Movement.client_id, client_id), id_is(Movement.asset_id, asset_id))
            .order_by(Movement.id)
        )
        return list(self.session.scalars(stmt))

    def for_client(self, client_id: int) -> list[tuple[Movement, Asset]]:
        """Every movement of the client with its asset, in entry order (ids)."""
        stmt = (
            select(Movement, Asset)
            .join(Asset, Asset.id == Movement.asset_id)
            .where(id_is(Movement.client_id, client_id))
            .order_by(Movement.id)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt)]

    def with_symbols(self, client_ids: Iterable[int]) -> list[tuple[Movement, str]]:
        """Every movement of these clients with its asset's symbol, in entry order (ids),
        in one query: what an import compares its rows with."""
        wanted = sorted(set(client_ids))
        if not wanted:
            return []
        stmt = (
            select(Movement, Asset.symbol)
            .join(Asset, Asset.id == Movement.asset_id)
            .where(Movement.client_id.in_(wanted))
            .order_by(Movement.id)
        )
        return [(movement, symbol) for movement, symbol in self.session.execute(stmt)]

    def count(self) -> int:
        """How many movements exist, of every client and kind."""
        return int(self.session.scalar(select(func.count()).select_from(Movement)) or 0)

    def holds_asset(self, client_id: int, asset_id: int) -> bool:
        """Whether the client's ledger has any movement of this asset."""
        stmt = (
            select(Movement.id)
            .where(id_is(Movement.client_id, client_id), id_is(Movement.asset_id, asset_id))
            .limit(1)
        )
        return self.session.scalars(stmt).first() is not None

    def holders(self, asset_ids: Iterable[int]) -> list[int]:
        """The clients with a movement of these assets (their figures use its closes)."""
        stmt = select(Movement.client_id).where(Movement.asset_id.in_(list(asset_ids))).distinct()
        return list(self.session.scalars(stmt))

    def ledger_mark(self, client_id: int) -> str | None:
        """The mark of everything the client's positions and lots are derived from (its
        row, movements, their assets and the assets' events: one small query,
        :data:`core.repositories.marks.LEDGER_MARK`); None when there is no such client."""
        return self.session.scalar(LEDGER_MARK, {"client": client_id})

    def events_of(self, asset_ids: Iterable[int]) -> list[AssetEvent]:
        """The events of these assets that are not dismissed, by asset, ex-date and id."""
        wanted = sorted({aid for aid in asset_ids if holds(AssetEvent.asset_id, aid)})
        if not wanted:
            return []
        stmt = (
            select(AssetEvent)
            .where(AssetEvent.asset_id.in_(wanted), AssetEvent.dismissed.is_(False))
            .order_by(AssetEvent.asset_id, AssetEvent.ex_date, AssetEvent.id)
        )
        return list(self.session.scalars(stmt))

    def add(self, movement: Movement) -> Movement:
        """Insert and flush so the database checks its rules now."""
        self.session.add(movement)
        self.session.flush()
        self.session.refresh(movement)
        return movement

    def add_all(self, movements: Iterable[Movement]) -> None:
        """Queue ``movements`` for insertion at the next flush or commit (no round trip now)."""
        self.session.add_all(movements)

    def insert_many(self, values: list[dict[str, Any]]) -> list[int]:
        """Insert one movement per dict of columns in batched statements and return the new
        ids, in no particular order; a refused row raises
        :class:`core.repositories.batches.RowRefused` naming it."""
        table = Movement.__table__
        assert isinstance(table, Table)
        return batches.insert_many(self.session, table, values)

    def refresh(self, movement: Movement) -> Movement:
        """Flush pending changes and re-read the row."""
        self.session.flush()
        self.session.refresh(movement)
        return movement

    def delete(self, movement: Movement) -> None:
        """Delete one movement (flushed, so a later read of the ledger no longer sees it)."""
        self.session.delete(movement)
        self.session.flush()
