"""Password hashing with bcrypt, and generation of strong random passwords."""

from __future__ import annotations

import secrets
import string

import bcrypt

from core.config import get_settings

_ALPHABET = string.ascii_letters + string.digits


def hash_password(password: str, *, rounds: int | None = None) -> str:
    """A bcrypt hash of ``password`` (salted; what streamlit-authenticator checks against).

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
