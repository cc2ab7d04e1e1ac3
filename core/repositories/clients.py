"""Client queries: lookup, contains-search with paging, and writes (flushed, not committed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, delete, func, or_, select
from sqlalchemy.orm import Session

from core.models import Client
from core.repositories import batches
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

    def add_all(self, clients: Iterable[Client]) -> None:
        """Queue ``clients`` for insertion at the next flush or commit (no round trip now)."""
        self.session.add_all(clients)

    def insert_many(self, values: list[dict[str, Any]]) -> list[int]:
        """Insert one client per dict of columns in batched statements and return the new
        ids, in no particular order; a refused row raises
        :class:`core.repositories.batches.RowRefused` naming it."""
        table = Client.__table__
        assert isinstance(table, Table)
        return batches.insert_many(self.session, table, values)

    def update_many(self, values: list[dict[str, Any]]) -> None:
        """Update clients by id (each dict holds ``id`` and the new columns) in one
        executemany; a refused row raises :class:`core.repositories.batches.RowRefused`."""
        batches.update_many(self.session, Client, values)

    def by_keys(self, emails: Iterable[str], documents: Iterable[str]) -> list[Client]:
        """The clients whose e-mail (ignoring case; pass them lower-case) or CPF/CNPJ is
        among these: how an import finds the clients its rows name."""
        wanted_emails, wanted_documents = sorted(emails), sorted(documents)
        if not wanted_emails and not wanted_documents:
            return []
        stmt = select(Client).where(
            or_(
                func.lower(Client.email).in_(wanted_emails),
                Client.document.in_(wanted_documents),
            )
        )
        return list(self.session.scalars(stmt))

    def names(self, client_ids: Iterable[int]) -> dict[int, str]:
        """The names of ``client_ids`` (a run names the clients whose figures it could not
        store)."""
        ids = list(client_ids)
        if not ids:
            return {}
        rows = self.session.execute(select(Client.id, Client.name).where(Client.id.in_(ids)))
        return {int(client_id): str(name) for client_id, name in rows}

    def active(self) -> list[Client]:
        """Every active client, by id."""
        stmt = select(Client).where(Client.status == "active").order_by(Client.id)
        return list(self.session.scalars(stmt))

    def active_ids(self) -> list[int]:
        """Every active client's id, in order (no rows loaded)."""
        stmt = select(Client.id).where(Client.status == "active").order_by(Client.id)
        return list(self.session.scalars(stmt))

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

    def count(self, *, search: str = "", status: str | None = None) -> int:
        """How many clients contain ``search`` (already folded) and have ``status`` (every
        client when neither is given)."""
        stmt = select(func.count()).select_from(Client).where(*self.filters(search, status))
        return int(self.session.scalar(stmt) or 0)
