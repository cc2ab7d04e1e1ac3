"""Queries on sign-in sessions and failed-sign-in counters (flushed, never committed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.models import SignInFailure, User, UserSession


class SessionRepository:
    """Reads and writes ``user_sessions`` and ``sign_in_failures`` in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: UserSession) -> UserSession:
        """Insert a session row and flush, so its id is known."""
        self.session.add(row)
        self.session.flush()
        return row

    def live(self, **where: object) -> tuple[UserSession, User] | None:
        """The unrevoked, unexpired session matching ``where`` (one column = value) and its
        user, locked for update; None when there is none or the user may not sign in."""
        ((column, value),) = where.items()
        stmt = (
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(
                getattr(UserSession, column) == value,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > func.now(),
                User.is_active,
            )
            .with_for_update(of=UserSession)
        )
        row = self.session.execute(stmt).one_or_none()
        return None if row is None else (row[0], row[1])

    def revoke(self, session_id: int) -> None:
        """End one session now."""
        self.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=func.now(), ticket_hash=None)
        )

    def revoke_user(self, user_id: int) -> int:
        """End every open session of a user; the number ended."""
        result = self.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=func.now(), ticket_hash=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def failures(self, keys: list[str]) -> tuple[dict[str, tuple[int, datetime]], datetime]:
        """Failure count and last failure time of each key that has any, and the database's
        clock (the one the failures were stamped with)."""
        stmt = select(SignInFailure).where(SignInFailure.key.in_(keys))
        counters = {
            row.key: (row.failures, row.last_failure_at) for row in self.session.scalars(stmt)
        }
        return counters, self.session.scalar(select(func.now()))

    def count_failure(self, key: str, *, window_s: int) -> None:
        """One more failure under ``key``; a count idle for ``window_s`` starts again at 1."""
        stmt = insert(SignInFailure).values(key=key, failures=1)
        stale = SignInFailure.last_failure_at <= func.now() - func.make_interval(
            0, 0, 0, 0, 0, 0, window_s
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[SignInFailure.key],
            set_={
                "failures": case((stale, 1), else_=SignInFailure.failures + 1),
                "last_failure_at": func.now(),
            },
        )
        self.session.execute(stmt)

    def forget_failures(self, keys: list[str]) -> None:
        """Clear the counters of ``keys`` (after a successful sign-in)."""
        self.session.execute(SignInFailure.__table__.delete().where(SignInFailure.key.in_(keys)))
