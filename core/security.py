"""Password hashing with bcrypt, and generation of strong random passwords."""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

import bcrypt

from core.config import get_settings

_ALPHABET = string.ascii_letters + string.digits


def hash_password(password: str, *, rounds: int | None = None) -> str:
    """A bcrypt hash of ``password`` (salted; what the sign-in checks against).

    The cost comes from ``ANKA_BCRYPT_ROUNDS`` (12 by default; tests lower it for speed).
    """
    cost = rounds if rounds is not None else get_settings().bcrypt_rounds
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()


def check_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches ``password_hash``; malformed hashes never match."""
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def generate_password(length: int = 20) -> str:
    """A random password for first start, printed once and never stored in clear."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def local_secret(path: Path) -> str:
    """A random secret kept in ``path`` (created once, owner-only), for development runs.

    Production must configure its secrets; this only spares a laptop from inventing one.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
