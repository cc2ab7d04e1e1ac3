"""PostgreSQL advisory locks held by a unit of work's transaction.

A transaction-level advisory lock (``pg_advisory_xact_lock``) makes two transactions that
take the same one run one after the other (an import never interleaves with another); it is
released when the transaction commits or rolls back, so nothing has to unlock it.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """A stable 31-bit key for ``pg_advisory_lock`` and its kin."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


class LockRepository:
    """Takes advisory locks inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def hold(self, name: str) -> None:
        """Wait for the advisory lock ``name`` and hold it until the transaction ends."""
        self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})
