"""Who is acting, and the role check every write performs itself."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import PermissionDenied
from core.models import Role

SYSTEM_EMAIL = "system"


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user (or the system) on whose behalf a service runs."""

    user_id: int | None
    email: str
    role: Role

    @property
    def is_admin(self) -> bool:
        """True when this principal may write."""
        return self.role == Role.ADMIN


SYSTEM = Principal(user_id=None, email=SYSTEM_EMAIL, role=Role.ADMIN)


def require_admin(actor: Principal) -> None:
    """Refuse the action unless ``actor`` is an admin; pages hide controls, this enforces."""
    if not actor.is_admin:
        raise PermissionDenied()
