"""Client queries: lookup, contains-search with paging, and writes (flushed, not committed)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session

from core.models import Client
from core.repositories.ids import holds, id_is


def escape_like(term: str) -> str:
    """Escape LIKE wildcards so a user's ``%`` or ``_`` matches itself."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ClientRepository:
    """Reads and writes ``clients`` inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, client_id: int, *, for_update: bool = False) -> Client | None:
        """The client with ``client_id``, optionally locked for an update (None for an id
        no client can have, like any unknown one)."""
        stmt = select(Client).where(id_is(Client.id, client_id))
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def lock_books(self, client_ids: Iterable[int]) -> set[int]:
        """Lock these clients' rows (``FOR NO KEY UPDATE``, in id order) until the
        transaction ends, and return the ids that exist.

        Whoever adds or changes a client's lots takes this lock before totalling the
        client's book (:mod:`core.book_limits`), so two such transactions take turns and the
        second one counts the first one's lots. It is weaker than ``FOR UPDATE``: it does
        not block inserting a lot (whose foreign key takes ``FOR KEY SHARE``), only another
        lock on the same book, an edit of the client or its deletion.
        """
        wanted = sorted({cid for cid in client_ids if holds(Client.id, cid)})
        if not wanted:
            return set()
        stmt = (
            select(Client.id)
            .where(Client.id.in_(wanted))
            .order_by(Client.id)
            .with_for_update(key_share=True)
        )
        return set(self.session.scalars(stmt))

    def add(self, client: Client) -> Client:
        """Insert ``client`` and flush so constraints and defaults apply now."""
        self.session.add(client)
        self.session.flush()
        self.session.refresh(client)
        return client

    def refresh(self, client: Client) -> Client:
        """Flush pending changes and re-read database-computed columns."""
        self.session.flush()
        self.session.refresh(client)
        return client

    def delete(self, client_id: int) -> None:
        """Delete the client; allocations and figures go with it (ON DELETE CASCADE)."""
        self.session.execute(delete(Client).where(id_is(Client.id, client_id)))

    def fold(self, text: str) -> str:
        """Fold accents and case exactly as the stored ``search_text`` was folded."""
        return str(self.session.scalar(select(func.anka_fold(text))))

    @staticmethod
    def filters(folded_search: str, status: str | None) -> list[ColumnElement[bool]]:
        """The WHERE conditions of a search (already folded) and status; exports reuse them
        so a file holds exactly the clients the list shows."""
        # The pattern is a plain bound value (not an expression) so the planner sees it and
        # can use the trigram index; ``folded_search`` comes from :meth:`fold`.
        conditions: list[ColumnElement[bool]] = []
        if folded_search:
            pattern = f"%{escape_like(folded_search)}%"
            conditions.append(Client.search_text.like(pattern, escape="\\"))
        if status:
            conditions.append(Client.status == status)
        return conditions

    def page(self, *, search: str, status: str | None, offset: int, limit: int) -> list[Client]:
        """One page of matching clients, ordered by folded name then id (stable)."""
        stmt: Select[tuple[Client]] = (
            select(Client)
            .where(*self.filters(search, status))
            .order_by(Client.sort_name, Client.id)
            .offset(offset)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def count(self, *, search: str, status: str | None) -> int:
        """How many clients contain ``search`` (already folded) and have ``status``."""
        stmt = select(func.count()).select_from(Client).where(*self.filters(search, status))
        return int(self.session.scalar(stmt) or 0)
