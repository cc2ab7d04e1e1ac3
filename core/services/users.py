"""User use cases: create, change role, deactivate/reactivate, reset and verify passwords.

Only admins manage users, and the last active admin can be neither demoted nor
deactivated, so nobody can lock the office out of its own dashboard.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.errors import NotFound, ValidationFailed
from core.models import Role, User
from core.schemas import RoleName, UserCreate, UserOut, check_password_rules, parse
from core.security import hash_password
from core.services.audit import audit_change
from core.services.integrity import translate_integrity_error
from core.services.principal import Principal, require_admin
from core.services.sessions import end_user_sessions, password_matches

ENTITY = "user"
# A new password, role or activity ends the user's open sessions on the server.
SESSION_ENDING_CHANGES = frozenset({"password_hash", "role", "is_active"})


def _snapshot(user: User) -> dict[str, Any]:
    return UserOut.model_validate(user).model_dump(mode="json")


def create_user(uow: UnitOfWork, actor: Principal, data: UserCreate | dict[str, Any]) -> UserOut:
    """Create a user with a bcrypt-hashed password; duplicate e-mails are a Conflict."""
    require_admin(actor)
    payload = data if isinstance(data, UserCreate) else parse(UserCreate, data)
    with uow:
        user = User(
            email=payload.email,
            name=payload.name,
            role=payload.role,
            password_hash=hash_password(payload.password),
        )
        try:
            uow.users.add(user)
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from exc
        after = _snapshot(user)
        audit_change(uow, actor, "create", ENTITY, user.id, None, after)
        uow.commit()
        return UserOut.model_validate(after)


def list_users(uow: UnitOfWork, actor: Principal) -> list[UserOut]:
    """Every user (admins only: the list is part of the admin pages)."""
    require_admin(actor)
    with uow:
        return [UserOut.model_validate(u) for u in uow.users.list()]


def _change(uow: UnitOfWork, actor: Principal, user_id: int, **changes: Any) -> UserOut:
    require_admin(actor)
    with uow:
        user = uow.users.get(user_id, for_update=True)
        if user is None:
            raise NotFound()
        before = _snapshot(user)
        losing_admin = (
            user.role == Role.ADMIN
            and user.is_active
            and (changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("is_active") is False)
        )
        if losing_admin and uow.users.count_active_admins() <= 1:
            raise ValidationFailed.single("role", "validation.last_admin")
        for field, value in changes.items():
            setattr(user, field, value)
        if SESSION_ENDING_CHANGES & changes.keys():
            # Whoever holds a cookie of this user signs in again, under the new rules.
            end_user_sessions(uow, user_id)
        user.updated_at = func.now()
        uow.users.refresh(user)
        after = _snapshot(user)
        # The hash is never audited; a password change shows as an update with equal fields.
        audit_change(uow, actor, "update", ENTITY, user_id, before, after)
        uow.commit()
        return UserOut.model_validate(after)


def change_role(uow: UnitOfWork, actor: Principal, user_id: int, role: str) -> UserOut:
    """Give a user another role."""
    checked: RoleName = parse_role(role)
    return _change(uow, actor, user_id, role=checked)


def parse_role(role: str) -> RoleName:
    """Validate a role name or raise ValidationFailed."""
    if role not in {r.value for r in Role}:
        raise ValidationFailed.single("role", "validation.choice")
    return role  # type: ignore[return-value]


def set_active(uow: UnitOfWork, actor: Principal, user_id: int, *, active: bool) -> UserOut:
    """Deactivate (cannot sign in any more, history kept) or reactivate a user."""
    return _change(uow, actor, user_id, is_active=active)


def reset_password(uow: UnitOfWork, actor: Principal, user_id: int, new_password: str) -> UserOut:
    """Set a new password for a user (admins reset anyone's, including their own)."""
    password = check_password_rules(new_password)
    return _change(uow, actor, user_id, password_hash=hash_password(password))


def verify_password(uow: UnitOfWork, email: str, password: str) -> UserOut | None:
    """The active user with this e-mail and password, or None (same answer for any failure)."""
    with uow:
        user = uow.users.by_email(email)
        if not password_matches(user, password):
            return None
        return UserOut.model_validate(user)
