"""Brazilian taxpayer documents: CPF (people) and CNPJ (companies).

A document is stored normalised: upper-case, without punctuation. CPF has 11 digits. CNPJ
has 14 characters; since July 2026 the Receita Federal issues *alphanumeric* CNPJs, whose
first 12 characters may be letters, so each character counts as ``ord(c) - 48`` in the
modulo-11 check digits (for digits this is the classic algorithm). The same rule is
enforced by the database function ``anka_valid_document`` (see the first migration).
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"[\s./-]")
_CPF = re.compile(r"[0-9]{11}")
_CNPJ = re.compile(r"[0-9A-Z]{12}[0-9]{2}")

CPF_WEIGHTS = (range(10, 1, -1), range(11, 1, -1))
CNPJ_WEIGHTS = ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))


def normalize_document(raw: str) -> str:
    """Strip spaces, dots, slashes and dashes and upper-case, e.g. ``529.982.247-25``."""
    return _PUNCTUATION.sub("", raw).upper()


def _check_digit(values: list[int], weights: tuple[int, ...] | range) -> int:
    remainder = sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def is_valid_cpf(doc: str) -> bool:
    """True for an 11-digit CPF with correct check digits (repeated digits are invalid)."""
    if not _CPF.fullmatch(doc) or len(set(doc)) == 1:
        return False
    digits = [int(c) for c in doc]
    first = _check_digit(digits[:9], CPF_WEIGHTS[0])
    second = _check_digit([*digits[:9], first], CPF_WEIGHTS[1])
    return digits[9:] == [first, second]


def is_valid_cnpj(doc: str) -> bool:
    """True for a numeric or alphanumeric CNPJ with correct check digits."""
    if not _CNPJ.fullmatch(doc) or len(set(doc)) == 1:
        return False
    values = [ord(c) - 48 for c in doc]
    first = _check_digit(values[:12], CNPJ_WEIGHTS[0])
    second = _check_digit([*values[:12], first], CNPJ_WEIGHTS[1])
    return values[12:] == [first, second]


def is_valid_document(doc: str) -> bool:
    """True when a normalised document is a valid CPF or CNPJ."""
    return is_valid_cpf(doc) or is_valid_cnpj(doc)


def format_document(doc: str) -> str:
    """Format a normalised document for display: ``529.982.247-25``, ``12.ABC.345/01DE-35``."""
    if len(doc) == 11:
        return f"{doc[:3]}.{doc[3:6]}.{doc[6:9]}-{doc[9:]}"
    if len(doc) == 14:
        return f"{doc[:2]}.{doc[2:5]}.{doc[5:8]}/{doc[8:12]}-{doc[12:]}"
    return doc
