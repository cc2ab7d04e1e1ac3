"""Password hashing with bcrypt, and generation of strong random passwords."""

from __future__ import annotations

import secrets
import string

import bcrypt

BCRYPT_ROUNDS = 12
_ALPHABET = string.ascii_letters + string.digits


def hash_password(password: str, *, rounds: int = BCRYPT_ROUNDS) -> str:
    """A bcrypt hash of ``password`` (salted; what streamlit-authenticator checks against)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def check_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches ``password_hash``; malformed hashes never match."""
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def generate_password(length: int = 20) -> str:
    """A random password for first start, printed once and never stored in clear."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
