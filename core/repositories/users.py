"""User queries and writes (flushed, not committed)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import User
from core.repositories.ids import id_is


class UserRepository:
    """Reads and writes ``users`` inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        """The user with ``user_id`` (None for an id no user can have, like any unknown one)."""
        stmt = select(User).where(id_is(User.id, user_id))
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def by_email(self, email: str) -> User | None:
        """The user whose e-mail matches ignoring case."""
        stmt = select(User).where(func.lower(User.email) == email.strip().lower())
        return self.session.scalars(stmt).one_or_none()

    def list(self) -> list[User]:
        """Every user, by e-mail."""
        return list(self.session.scalars(select(User).order_by(func.lower(User.email))))

    def count(self) -> int:
        """How many users exist (none: Anka's first start)."""
        return int(self.session.scalar(select(func.count()).select_from(User)) or 0)

    def count_active_admins(self) -> int:
        """How many active admins exist (the last one must not be demoted or deactivated)."""
        stmt = select(func.count()).select_from(User).where(User.is_active, User.role == "admin")
        return int(self.session.scalar(stmt) or 0)

    def add(self, user: User) -> User:
        """Insert ``user`` and flush so the unique e-mail index is checked now."""
        self.session.add(user)
        self.session.flush()
        self.session.refresh(user)
        return user

    def refresh(self, user: User) -> User:
        """Flush pending changes and re-read the row."""
        self.session.flush()
        self.session.refresh(user)
        return user
