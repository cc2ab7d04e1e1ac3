"""Signing in and out, with sessions kept on the server.

A successful sign-in creates a ``user_sessions`` row carrying a one-time *ticket* (valid
for a minute). The dashboard sends the browser to the ticket route of
:mod:`dashboard.server`, which redeems it (:func:`redeem_ticket`) for a random token,
stored only as its SHA-256, and sets that token as an HttpOnly cookie. Every run then looks
the session up again (:func:`current` or :func:`resume`), so a revoked row — sign-out, a
password change or reset, a deactivation, a role change — ends the session on the server,
whatever copy of the cookie somebody kept.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from core import login_throttle
from core.config import get_settings
from core.db import UnitOfWork
from core.models import Role, User, UserSession
from core.security import check_password, hash_password, local_secret
from core.services.principal import Principal

log = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(hours=12)
TICKET_LIFETIME = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session: who it belongs to, and its row id (kept in the Streamlit session)."""

    principal: Principal
    session_id: int


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """The answer to one sign-in attempt.

    ``signed_in`` and ``ticket`` are set on success; ``wait_s`` is positive when the attempt
    was refused unchecked because of earlier failures; otherwise the credentials were wrong.
    """

    signed_in: SignedIn | None = None
    ticket: str | None = None
    wait_s: int = 0


def _key() -> bytes:
    """``ANKA_COOKIE_KEY`` (or this laptop's own secret in development)."""
    settings = get_settings()
    if settings.cookie_key is not None:
        return settings.cookie_key.get_secret_value().encode()
    return _laptop_key(Path(settings.home_dir) / "cookie_key")


@lru_cache(maxsize=4)
def _laptop_key(path: Path) -> bytes:
    """The development key, read once per process (every run digests a token)."""
    return local_secret(path).encode()


def digest(secret: str) -> str:
    """What is stored for a token or ticket: its HMAC-SHA256 under the cookie key, never the
    secret itself (so a copy of the table opens no session, and a new key ends them all)."""
    return hmac.new(_key(), secret.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int | None) -> str:
    return hash_password(secrets.token_urlsafe(16), rounds=rounds)


def password_matches(user: User | None, password: str) -> bool:
    """Check ``password``, doing the same bcrypt work for an unknown or inactive user."""
    if user is None or not user.is_active:
        check_password(password, _dummy_hash(None))
        return False
    return check_password(password, user.password_hash)


def _principal(user: User) -> Principal:
    return Principal(user_id=user.id, email=user.email, role=Role(user.role))


def sign_in(uow: UnitOfWork, email: str, password: str, *, source: str | None) -> SignInOutcome:
    """Check credentials under the throttle (:mod:`core.login_throttle`) and open a session.

    Wrong, unknown and inactive accounts get the same answer after the same work. An attempt
    that must still wait is refused before any check and logged.
    """
    attempt_keys = login_throttle.keys(email, source)
    key_list = list(attempt_keys.values())
    with uow:
        counters, now = uow.sessions.failures(key_list)
        wait = login_throttle.wait_s(attempt_keys, counters, now)
        if wait > 0:
            log.warning(
                "sign-in throttled",
                extra={"account": attempt_keys[login_throttle.ACCOUNT], "source": source},
            )
            return SignInOutcome(wait_s=wait)
        user = uow.users.by_email(email)
        if not password_matches(user, password):
            for key in key_list:
                uow.sessions.count_failure(key, window_s=login_throttle.WINDOW_S)
            uow.commit()
            log.info("sign-in failed", extra={"source": source})
            return SignInOutcome()
        assert user is not None
        ticket = secrets.token_urlsafe(32)
        row = uow.sessions.add(
            UserSession(
                user_id=user.id,
                ticket_hash=digest(ticket),
                ticket_expires_at=datetime.now(UTC) + TICKET_LIFETIME,
                source=(source or None) and source[:64],
                expires_at=datetime.now(UTC) + SESSION_LIFETIME,
            )
        )
        uow.sessions.forget_failures(
            [attempt_keys[login_throttle.PAIR], attempt_keys[login_throttle.ACCOUNT]]
        )
        uow.commit()
        log.info("signed in", extra={"user_id": user.id, "source": source})
        return SignInOutcome(signed_in=SignedIn(_principal(user), row.id), ticket=ticket)


def redeem_ticket(uow: UnitOfWork, ticket: str) -> str | None:
    """Exchange a sign-in's one-time ticket for the session's cookie token (None if the
    ticket is unknown, used, expired, or its session has ended)."""
    with uow:
        found = uow.sessions.live(ticket_hash=digest(ticket))
        if found is None:
            return None
        row, _user = found
        valid = row.ticket_expires_at is not None and row.ticket_expires_at > datetime.now(UTC)
        row.ticket_hash = None
        row.ticket_expires_at = None
        token = secrets.token_urlsafe(32)
        if valid:
            row.token_hash = digest(token)
        uow.flush()
        uow.commit()
        return token if valid else None


def resume(uow: UnitOfWork, token: str) -> SignedIn | None:
    """The live session a cookie's token belongs to, or None (unknown, revoked, expired, or
    its user deactivated)."""
    with uow:
        found = uow.sessions.live(token_hash=digest(token))
        return None if found is None else SignedIn(_principal(found[1]), found[0].id)


def current(uow: UnitOfWork, session_id: int) -> Principal | None:
    """Who a live session belongs to now (the role as stored now), or None if it ended."""
    with uow:
        found = uow.sessions.live(id=session_id)
        return None if found is None else _principal(found[1])


def sign_out(uow: UnitOfWork, *, session_id: int | None = None, token: str | None = None) -> None:
    """End a session on the server, named by its id or by its cookie's token."""
    with uow:
        if session_id is None and token is not None:
            found = uow.sessions.live(token_hash=digest(token))
            session_id = None if found is None else found[0].id
        if session_id is not None:
            uow.sessions.revoke(session_id)
            uow.commit()
            log.info("signed out", extra={"session_id": session_id})


def end_user_sessions(uow: UnitOfWork, user_id: int) -> int:
    """Revoke every session of ``user_id`` inside the caller's open unit of work (the change
    that requires it commits both together); the number ended."""
    ended = uow.sessions.revoke_user(user_id)
    if ended:
        log.info("sessions ended", extra={"user_id": user_id, "sessions": ended})
    return ended
