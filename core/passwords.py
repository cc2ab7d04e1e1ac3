"""What makes a new password acceptable: length, no surrounding spaces, and strength.

Strength is zxcvbn's estimate (Dropbox's well-kept estimator: dictionaries of common
passwords, names and words, keyboard patterns, repeats, sequences, dates and l33t
substitutions); a password it scores below :data:`MIN_SCORE` ("safely unguessable" is 3 of
4) is refused, so ``aaaaaaaaaa``, ``1234567890`` and ``senha12345`` are. Surrounding spaces
are refused rather than trimmed: a trimmed password could not sign in with what the user
typed, and an untrimmed one would depend on a paste nobody can see.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_BYTES = 72  # bcrypt ignores bytes past 72
MIN_SCORE = 3
# Words an attacker tries first against this product, beside zxcvbn's own dictionaries.
PRODUCT_WORDS = ("anka", "admin", "senha", "portfolio", "carteira")


def problem(password: str, *, context: tuple[str, ...] = ()) -> tuple[str, dict[str, int]] | None:
    """The message key (and its parameters) that refuses ``password``, or None if it is fine.

    ``context`` holds words tied to the account (its e-mail, its name) that a password
    must not lean on.
    """
    if len(password) < MIN_LENGTH:
        return "validation.password_short", {"min": MIN_LENGTH}
    if len(password.encode()) > MAX_BYTES:
        return "validation.too_long", {"max": MAX_BYTES}
    if password != password.strip():
        return "validation.password_spaces", {}
    if zxcvbn(password, user_inputs=[*PRODUCT_WORDS, *context])["score"] < MIN_SCORE:
        return "validation.password_weak", {}
    return None
