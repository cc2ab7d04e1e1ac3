"""Reading the audit log (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.db import UnitOfWork
from core.repositories.audit import AuditFilter
from core.services.principal import Principal, require_admin


class AuditOut(BaseModel):
    """One audit entry as the admin page shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_email: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


Snapshot = dict[str, Any] | BaseModel | None


def _json(snapshot: Snapshot) -> dict[str, Any] | None:
    return snapshot.model_dump(mode="json") if isinstance(snapshot, BaseModel) else snapshot


def audit_change(
    uow: UnitOfWork,
    actor: Principal,
    action: str,
    entity: str,
    entity_id: int | str,
    before: Snapshot,
    after: Snapshot,
) -> None:
    """Record who changed what inside ``uow``, so the entry commits with the change."""
    uow.audit.record(
        actor_id=actor.user_id,
        actor_email=actor.email,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=_json(before),
        after=_json(after),
    )


def latest_changes(uow: UnitOfWork, actor: Principal, flt: AuditFilter) -> list[AuditOut]:
    """The newest audit entries matching ``flt``."""
    require_admin(actor)
    with uow:
        return [AuditOut.model_validate(e) for e in uow.audit.latest(flt)]
