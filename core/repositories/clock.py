"""The database's clock, as the rows a transaction writes are stamped with it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session


class ClockRepository:
    """Reads the time of the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def now(self) -> datetime:
        """The transaction's start time (``now()``: the same all through the transaction,
        the value a column defaulting to ``now()`` takes), so rows written by hand match
        the ones a form writes."""
        found = self.session.scalar(select(func.now()))
        assert found is not None  # now() is never NULL
        return found
