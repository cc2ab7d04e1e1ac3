"""Asset and allocation (buy) queries and writes (flushed, not committed).

An allocation is a buy in the client's ledger (``movements`` with kind ``buy``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.models import Asset, Movement
from core.repositories.ids import holds, id_is


class AssetRepository:
    """Reads and writes ``assets``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, asset_id: int) -> Asset | None:
        """The asset with ``asset_id`` (from the session's identity map when it is loaded
        already, as a lot's or an event's asset usually is)."""
        return self.session.get(Asset, asset_id)

    def by_symbol(self, symbol: str) -> Asset | None:
        """The asset with this (upper-case) symbol."""
        return self.session.scalars(select(Asset).where(Asset.symbol == symbol)).one_or_none()

    def by_symbols(self, symbols: Iterable[str]) -> dict[str, Asset]:
        """The stored assets among ``symbols``, by symbol (a symbol not stored is absent)."""
        stmt = select(Asset).where(Asset.symbol.in_(list(symbols)))
        return {asset.symbol: asset for asset in self.session.scalars(stmt)}

    def stored_symbols(self, symbols: Iterable[str]) -> set[str]:
        """Which of ``symbols`` are stored assets (an import asks market data about the
        others only)."""
        stmt = select(Asset.symbol).where(Asset.symbol.in_(list(symbols)))
        return set(self.session.scalars(stmt))

    def by_ids(self, asset_ids: Iterable[int]) -> list[Asset]:
        """The assets with these ids, in no particular order."""
        return list(self.session.scalars(select(Asset).where(Asset.id.in_(list(asset_ids)))))

    def all_by_symbol(self) -> list[Asset]:
        """Every stored asset (rate series included), by symbol: the list an admin corrects
        classes in."""
        return list(self.session.scalars(select(Asset).order_by(Asset.symbol)))

    def lock(self, asset_id: int) -> Asset | None:
        """The asset with ``asset_id``, locked (``FOR UPDATE``) until the transaction ends,
        so two admins correcting its class write one after the other (None: no such asset)."""
        stmt = select(Asset).where(id_is(Asset.id, asset_id)).with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def set_class(self, asset: Asset, asset_class: str | None) -> Asset:
        """Store an admin's class correction (None: back to the derived class), flushed."""
        asset.asset_class = asset_class
        self.session.flush()
        return asset

    def get_or_create(self, values: dict[str, object]) -> Asset:
        """The asset with ``values['symbol']``, inserted if missing (safe under concurrency)."""
        stmt = insert(Asset).values(**values).on_conflict_do_nothing(index_elements=["symbol"])
        self.session.execute(stmt)
        asset = self.by_symbol(str(values["symbol"]))
        assert asset is not None  # inserted above or by a concurrent transaction
        return asset


BUY = "buy"


class AllocationRepository:
    """Reads and writes the buys of ``movements`` (a lot: quantity, price, date)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, allocation_id: int, *, for_update: bool = False) -> Movement | None:
        """The buy with ``allocation_id`` (None for an id no lot can have)."""
        stmt = select(Movement).where(id_is(Movement.id, allocation_id), Movement.kind == BUY)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def for_client(self, client_id: int) -> list[tuple[Movement, Asset]]:
        """A client's buys with their assets, by symbol then date."""
        stmt = (
            select(Movement, Asset)
            .join(Asset, Asset.id == Movement.asset_id)
            .where(id_is(Movement.client_id, client_id), Movement.kind == BUY)
            .order_by(Asset.symbol, Movement.date, Movement.id)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt)]

    def client_of(self, allocation_id: int) -> int | None:
        """The id of the client holding this lot (None when there is no such lot), read
        without loading or locking the lot, so a caller can lock the client first."""
        stmt = select(Movement.client_id).where(
            id_is(Movement.id, allocation_id), Movement.kind == BUY
        )
        return self.session.scalars(stmt).one_or_none()

    def invested_by_client(
        self, client_ids: Iterable[int], *, excluding: int | None = None
    ) -> dict[int, Decimal]:
        """Each client's invested total: Σ quantity × buy price over the client's lots,
        each in its asset's own currency (not converted), exactly (numeric arithmetic).

        ``excluding`` leaves one lot out (the one being edited). A client without lots is
        absent from the answer. Lock the clients first (:meth:`ClientRepository.lock_books`)
        when the total decides whether a write may happen.
        """
        wanted = sorted({cid for cid in client_ids if holds(Movement.client_id, cid)})
        if not wanted:
            return {}
        cost = func.sum(Movement.quantity * Movement.price)
        stmt = (
            select(Movement.client_id, cost)
            .where(Movement.client_id.in_(wanted), Movement.kind == BUY)
            .group_by(Movement.client_id)
        )
        if excluding is not None:
            stmt = stmt.where(Movement.id != excluding)
        return {cid: Decimal(amount) for cid, amount in self.session.execute(stmt)}

    def lots_of(self, client_ids: Iterable[int]) -> list[tuple[int, str, date, Decimal, Decimal]]:
        """The buys of ``client_ids`` as (client_id, symbol, date, quantity, price): what an
        import compares its rows with, to tell a new lot from one already stored."""
        wanted = sorted(set(client_ids))
        if not wanted:
            return []
        stmt = (
            select(
                Movement.client_id, Asset.symbol, Movement.date, Movement.quantity, Movement.price
            )
            .join(Asset, Asset.id == Movement.asset_id)
            .where(Movement.client_id.in_(wanted), Movement.kind == BUY)
        )
        return [tuple(row) for row in self.session.execute(stmt)]  # type: ignore[misc]

    def add(self, allocation: Movement) -> Movement:
        """Insert and flush so the database checks its rules now."""
        self.session.add(allocation)
        self.session.flush()
        self.session.refresh(allocation)
        return allocation

    def refresh(self, allocation: Movement) -> Movement:
        """Flush pending changes and re-read the row."""
        self.session.flush()
        self.session.refresh(allocation)
        return allocation

    def delete(self, allocation: Movement) -> None:
        """Delete one lot."""
        self.session.delete(allocation)
        self.session.flush()
