"""User use cases against the real PostgreSQL (each test rolls back)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import bcrypt
import pytest
from sqlalchemy import select

from core.db import UnitOfWork
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry, User
from core.schemas import UserOut
from core.services.principal import Principal
from core.services.users import (
    change_role,
    create_user,
    list_users,
    reset_password,
    set_active,
    verify_password,
)

MakeUow = Callable[[], UnitOfWork]
PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "another-long-secret"


def new_user(
    make_uow: MakeUow,
    actor: Principal,
    email: str,
    role: str = "read_only",
    password: str = PASSWORD,
) -> UserOut:
    data = {"email": email, "name": email.split("@")[0].title(), "role": role, "password": password}
    return create_user(make_uow(), actor, data)


def stored_hash(make_uow: MakeUow, user_id: int) -> str:
    with make_uow() as uow:
        return str(uow.session.scalar(select(User.password_hash).where(User.id == user_id)))


def user_audit(make_uow: MakeUow) -> list[tuple[str, str, Any, Any]]:
    """(action, entity_id, before, after) of every user audit entry, oldest first."""
    stmt = select(AuditEntry).where(AuditEntry.entity == "user").order_by(AuditEntry.id)
    with make_uow() as uow:
        return [(e.action, e.entity_id, e.before, e.after) for e in uow.session.scalars(stmt)]


def user_count(make_uow: MakeUow) -> int:
    with make_uow() as uow:
        return len(list(uow.session.scalars(select(User.id))))


# --- create ------------------------------------------------------------------------------


def test_create_stores_a_bcrypt_hash_never_the_password(
    make_uow: MakeUow, admin: Principal
) -> None:
    user = new_user(make_uow, admin, "ops@example.com", role="admin")
    assert user.email == "ops@example.com"
    assert user.role == "admin"
    assert user.is_active is True

    password_hash = stored_hash(make_uow, user.id)
    assert password_hash.startswith("$2b$")
    assert PASSWORD not in password_hash
    assert bcrypt.checkpw(PASSWORD.encode(), password_hash.encode())
    assert not bcrypt.checkpw(b"wrong-password", password_hash.encode())


def test_two_users_with_the_same_password_get_different_hashes(
    make_uow: MakeUow, admin: Principal
) -> None:
    first = new_user(make_uow, admin, "a@example.com")
    second = new_user(make_uow, admin, "b@example.com")
    assert stored_hash(make_uow, first.id) != stored_hash(make_uow, second.id)


def test_user_out_has_no_hash(make_uow: MakeUow, admin: Principal) -> None:
    user = new_user(make_uow, admin, "ops@example.com")
    assert "password_hash" not in user.model_dump()
    assert "password" not in user.model_dump()


def test_create_defaults_to_read_only(make_uow: MakeUow, admin: Principal) -> None:
    data = {"email": "ro@example.com", "name": "Ro", "password": PASSWORD}
    assert create_user(make_uow(), admin, data).role == "read_only"


def test_duplicate_email_ignoring_case_is_a_conflict(make_uow: MakeUow, admin: Principal) -> None:
    new_user(make_uow, admin, "ops@example.com")
    with pytest.raises(Conflict) as info:
        new_user(make_uow, admin, "OPS@EXAMPLE.COM")
    assert info.value.field_errors == {"email": ("validation.email_taken", {})}
    assert user_count(make_uow) == 1


def test_too_short_password_is_refused_and_nothing_stored(
    make_uow: MakeUow, admin: Principal
) -> None:
    with pytest.raises(ValidationFailed) as info:
        new_user(make_uow, admin, "ops@example.com", password="short")
    assert info.value.field_errors == {"password": ("validation.password_short", {"min": 10})}
    assert user_count(make_uow) == 0


def test_list_users_is_ordered_by_email(make_uow: MakeUow, admin: Principal) -> None:
    new_user(make_uow, admin, "zoe@example.com")
    new_user(make_uow, admin, "Ana@example.com")
    new_user(make_uow, admin, "bob@example.com")
    emails = [u.email for u in list_users(make_uow(), admin)]
    assert emails == ["Ana@example.com", "bob@example.com", "zoe@example.com"]


# --- roles -------------------------------------------------------------------------------


def test_change_role(make_uow: MakeUow, admin: Principal) -> None:
    new_user(make_uow, admin, "boss@example.com", role="admin")
    user = new_user(make_uow, admin, "ops@example.com")
    assert change_role(make_uow(), admin, user.id, "admin").role == "admin"
    assert change_role(make_uow(), admin, user.id, "read_only").role == "read_only"
    roles = {u.email: u.role for u in list_users(make_uow(), admin)}
    assert roles == {"boss@example.com": "admin", "ops@example.com": "read_only"}


@pytest.mark.parametrize("role", ["superuser", "ADMIN", ""])
def test_invalid_role_is_refused(make_uow: MakeUow, admin: Principal, role: str) -> None:
    user = new_user(make_uow, admin, "ops@example.com")
    with pytest.raises(ValidationFailed) as info:
        change_role(make_uow(), admin, user.id, role)
    assert info.value.field_errors == {"role": ("validation.choice", {})}
    assert list_users(make_uow(), admin)[0].role == "read_only"


def test_change_role_of_unknown_user_is_not_found(make_uow: MakeUow, admin: Principal) -> None:
    with pytest.raises(NotFound):
        change_role(make_uow(), admin, 987654, "admin")


# --- last admin --------------------------------------------------------------------------


def test_last_active_admin_cannot_be_demoted(make_uow: MakeUow, admin: Principal) -> None:
    boss = new_user(make_uow, admin, "boss@example.com", role="admin")
    new_user(make_uow, admin, "ro@example.com")
    with pytest.raises(ValidationFailed) as info:
        change_role(make_uow(), admin, boss.id, "read_only")
    assert info.value.field_errors == {"role": ("validation.last_admin", {})}
    assert {u.email: u.role for u in list_users(make_uow(), admin)}["boss@example.com"] == "admin"


def test_last_active_admin_cannot_be_deactivated(make_uow: MakeUow, admin: Principal) -> None:
    boss = new_user(make_uow, admin, "boss@example.com", role="admin")
    with pytest.raises(ValidationFailed) as info:
        set_active(make_uow(), admin, boss.id, active=False)
    assert info.value.field_errors == {"role": ("validation.last_admin", {})}
    assert verify_password(make_uow(), "boss@example.com", PASSWORD) is not None


def test_an_inactive_admin_does_not_count_as_another_admin(
    make_uow: MakeUow, admin: Principal
) -> None:
    boss = new_user(make_uow, admin, "boss@example.com", role="admin")
    old = new_user(make_uow, admin, "old@example.com", role="admin")
    set_active(make_uow(), admin, old.id, active=False)
    with pytest.raises(ValidationFailed) as info:
        change_role(make_uow(), admin, boss.id, "read_only")
    assert info.value.field_errors == {"role": ("validation.last_admin", {})}


def test_one_of_two_admins_can_be_demoted_and_deactivated(
    make_uow: MakeUow, admin: Principal
) -> None:
    new_user(make_uow, admin, "boss@example.com", role="admin")
    deputy = new_user(make_uow, admin, "deputy@example.com", role="admin")
    assert change_role(make_uow(), admin, deputy.id, "read_only").role == "read_only"
    change_role(make_uow(), admin, deputy.id, "admin")
    assert set_active(make_uow(), admin, deputy.id, active=False).is_active is False


def test_last_admin_keeps_the_admin_role_when_set_to_admin_again(
    make_uow: MakeUow, admin: Principal
) -> None:
    boss = new_user(make_uow, admin, "boss@example.com", role="admin")
    assert change_role(make_uow(), admin, boss.id, "admin").role == "admin"


def test_last_admin_can_reset_their_password(make_uow: MakeUow, admin: Principal) -> None:
    boss = new_user(make_uow, admin, "boss@example.com", role="admin")
    reset_password(make_uow(), admin, boss.id, NEW_PASSWORD)
    assert verify_password(make_uow(), "boss@example.com", NEW_PASSWORD) is not None


# --- active / passwords ------------------------------------------------------------------


def test_verify_password_with_the_right_password(make_uow: MakeUow, admin: Principal) -> None:
    user = new_user(make_uow, admin, "ops@example.com")
    verified = verify_password(make_uow(), "OPS@example.com", PASSWORD)
    assert verified is not None
    assert verified.id == user.id


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ops@example.com", "wrong-password-1"),
        ("ops@example.com", ""),
        ("nobody@example.com", PASSWORD),
    ],
)
def test_verify_password_refuses_wrong_credentials(
    make_uow: MakeUow, admin: Principal, email: str, password: str
) -> None:
    new_user(make_uow, admin, "ops@example.com")
    assert verify_password(make_uow(), email, password) is None


def test_deactivated_user_cannot_sign_in_and_reactivated_can(
    make_uow: MakeUow, admin: Principal
) -> None:
    user = new_user(make_uow, admin, "ops@example.com")
    assert set_active(make_uow(), admin, user.id, active=False).is_active is False
    assert verify_password(make_uow(), "ops@example.com", PASSWORD) is None
    assert set_active(make_uow(), admin, user.id, active=True).is_active is True
    assert verify_password(make_uow(), "ops@example.com", PASSWORD) is not None


def test_reset_password_replaces_the_old_one(make_uow: MakeUow, admin: Principal) -> None:
    user = new_user(make_uow, admin, "ops@example.com")
    old_hash = stored_hash(make_uow, user.id)
    reset_password(make_uow(), admin, user.id, NEW_PASSWORD)
    assert stored_hash(make_uow, user.id) != old_hash
    assert verify_password(make_uow(), "ops@example.com", NEW_PASSWORD) is not None
    assert verify_password(make_uow(), "ops@example.com", PASSWORD) is None


def test_reset_to_a_too_short_password_is_refused(make_uow: MakeUow, admin: Principal) -> None:
    user = new_user(make_uow, admin, "ops@example.com")
    old_hash = stored_hash(make_uow, user.id)
    with pytest.raises(ValidationFailed) as info:
        reset_password(make_uow(), admin, user.id, "123456789")
    assert info.value.field_errors == {"password": ("validation.password_short", {"min": 10})}
    assert stored_hash(make_uow, user.id) == old_hash


def test_reset_password_of_unknown_user_is_not_found(make_uow: MakeUow, admin: Principal) -> None:
    with pytest.raises(NotFound):
        reset_password(make_uow(), admin, 987654, NEW_PASSWORD)


# --- read-only actors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda uow, actor, uid: create_user(
            uow, actor, {"email": "new@example.com", "name": "New", "password": PASSWORD}
        ),
        lambda uow, actor, uid: change_role(uow, actor, uid, "admin"),
        lambda uow, actor, uid: set_active(uow, actor, uid, active=False),
        lambda uow, actor, uid: reset_password(uow, actor, uid, NEW_PASSWORD),
        lambda uow, actor, uid: list_users(uow, actor),
    ],
    ids=["create", "change_role", "deactivate", "reset_password", "list"],
)
def test_read_only_actor_is_refused(
    make_uow: MakeUow,
    admin: Principal,
    reader: Principal,
    call: Callable[[UnitOfWork, Principal, int], object],
) -> None:
    user = new_user(make_uow, admin, "ops@example.com")
    hash_before = stored_hash(make_uow, user.id)
    audit_before = user_audit(make_uow)

    with pytest.raises(PermissionDenied):
        call(make_uow(), reader, user.id)

    assert [(u.email, u.role, u.is_active) for u in list_users(make_uow(), admin)] == [
        ("ops@example.com", "read_only", True)
    ]
    assert stored_hash(make_uow, user.id) == hash_before
    assert user_audit(make_uow) == audit_before


# --- audit -------------------------------------------------------------------------------


def test_every_user_change_is_audited_without_the_hash_or_password(
    make_uow: MakeUow, admin: Principal
) -> None:
    new_user(make_uow, admin, "boss@example.com", role="admin")
    user = new_user(make_uow, admin, "ops@example.com")
    hashes = [stored_hash(make_uow, user.id)]
    change_role(make_uow(), admin, user.id, "admin")
    set_active(make_uow(), admin, user.id, active=False)
    reset_password(make_uow(), admin, user.id, NEW_PASSWORD)
    hashes.append(stored_hash(make_uow, user.id))

    entries = [e for e in user_audit(make_uow) if e[1] == str(user.id)]
    assert [e[0] for e in entries] == ["create", "update", "update", "update"]
    create, role, active, _reset = entries
    assert create[2] is None
    assert create[3]["role"] == "read_only"
    assert (role[2]["role"], role[3]["role"]) == ("read_only", "admin")
    assert (active[2]["is_active"], active[3]["is_active"]) == (True, False)

    dumped = json.dumps(user_audit(make_uow))
    for secret in (*hashes, PASSWORD, NEW_PASSWORD, "password_hash", "$2b$"):
        assert secret not in dumped
