"""The audit log: every change, who made it, and the row before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit entries to show (all fields optional)."""

    entity: str | None = None
    action: str | None = None
    actor_email: str | None = None
    since: datetime | None = None
    limit: int = 200


class AuditRepository:
    """Appends to and reads ``audit_log`` inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        actor_id: int | None,
        actor_email: str,
        action: str,
        entity: str,
        entity_id: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        """Add one entry; it commits or rolls back with the change it describes."""
        self.session.add(
            AuditEntry(
                actor_id=actor_id,
                actor_email=actor_email,
                action=action,
                entity=entity,
                entity_id=entity_id,
                before=before,
                after=after,
            )
        )

    def latest(self, flt: AuditFilter) -> list[AuditEntry]:
        """Newest entries first, filtered."""
        stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if flt.entity:
            stmt = stmt.where(AuditEntry.entity == flt.entity)
        if flt.action:
            stmt = stmt.where(AuditEntry.action == flt.action)
        if flt.actor_email:
            stmt = stmt.where(
                func.lower(AuditEntry.actor_email).contains(
                    flt.actor_email.strip().lower(), autoescape=True
                )
            )
        if flt.since:
            stmt = stmt.where(AuditEntry.at >= flt.since)
        return list(self.session.scalars(stmt.limit(flt.limit)))
