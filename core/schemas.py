"""Pydantic v2 input and output schemas: validation lives here.

Validators raise ``PydanticCustomError`` whose *type* is a message key of the catalogue in
:mod:`core.i18n`; :func:`validation_failed` turns a ``ValidationError`` into
:class:`core.errors.ValidationFailed` with one message key per field, in any language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from core import passwords
from core.documents import is_valid_document, normalize_document
from core.errors import ValidationFailed

NAME_MAX = 200
USER_NAME_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 30
NOTES_MAX = 2000
SEARCH_MAX = 100
PAGE_SIZE_MAX = 100
PASSWORD_MIN = passwords.MIN_LENGTH
PASSWORD_MAX = passwords.MAX_BYTES

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"^\+?[0-9 ()-]{8,30}$")

# Pydantic's own error types mapped to catalogue keys.
_BUILTIN_KEYS = {
    "missing": "validation.required",
    "string_type": "validation.required",
    "literal_error": "validation.choice",
    "int_parsing": "validation.integer",
    "int_type": "validation.integer",
    "greater_than_equal": "validation.min",
    "less_than_equal": "validation.max",
    "extra_forbidden": "validation.unknown_field",
    "date_parsing": "validation.date",
    "date_from_datetime_parsing": "validation.date",
    "date_from_datetime_inexact": "validation.date",
    "date_type": "validation.date",
}


def clean_text(text: str) -> str:
    """Free text as it is stored: NFC-normalised, control characters dropped, and trimmed of
    every Unicode space and line break (U+00A0, U+2003, U+3000, U+205F, U+2028...), not only
    the ASCII ones."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def _clean_text(value: Any) -> Any:
    """:func:`clean_text` for a text value (anything else is left for the type to refuse)."""
    if not isinstance(value, str):
        return value
    return clean_text(value)


# -- formula-like text ----------------------------------------------------------------------
# Text that a spreadsheet would run as a formula, or a CSV injection attempt
# ("=HYPERLINK(...)", "@SUM(...)", "+cmd|' /C calc'!A0", "-2+3"), is refused in every
# free-text field, typed in a form or read from an import file: one rule, one message, so
# whatever a form stores, Anka's own export imports back. It starts (after NFKC, so the
# full-width and small forms ＝ ＠ ＋ － ﹦ ﹫ ﹢ ﹣ count) with one of these ...
FORMULA_START = ("=", "@", "+", "-")
CALL_START = ("=", "@")
# ... except a sign followed only by digits and number/phone punctuation, or a lone sign:
# "-5" is a negative number (an amount refuses it as such) and "+55 (11) 98765-4321" a phone.
_SIGNED_NUMBER_OR_PHONE = re.compile(r"^[+-]([0-9][0-9 ().,/-]*)?$")
# The validation context key naming the fields whose text its author marked as text.
MARKED_AS_TEXT = "marked_as_text"


def formula_like(text: str, *, marked_as_text: bool = False) -> bool:
    """True for text that a spreadsheet would run as a formula (see :data:`FORMULA_START`).

    The start is judged on the text as it would be stored (:func:`clean_text`: no leading
    no-break, em, ideographic or other Unicode space can hide it), skipping invisible format
    characters too (a zero-width space or a byte-order mark before ``=``).

    Text ``marked_as_text`` by its author (a spreadsheet cell's leading ``'``, which Anka's
    CSV export writes; or text Anka already stores, given back unchanged) may start with a
    sign — ``- ligar na segunda`` — but never with ``=`` or ``@``.
    """
    stored = clean_text(text)
    skip = 0
    while skip < len(stored) and (
        stored[skip].isspace() or unicodedata.category(stored[skip]) == "Cf"
    ):
        skip += 1
    visible = stored[skip:]
    first = unicodedata.normalize("NFKC", visible[:1])
    if marked_as_text:
        return first.startswith(CALL_START)
    return first.startswith(FORMULA_START) and not _SIGNED_NUMBER_OR_PHONE.match(visible)


def _not_formula(value: str | None, info: ValidationInfo) -> str | None:
    """Refuse formula-like text (see :func:`formula_like`) with the import's message."""
    if value:
        marked = info.field_name in (info.context or {}).get(MARKED_AS_TEXT, ())
        if formula_like(value, marked_as_text=marked):
            raise PydanticCustomError("validation.formula", "formula-like text")
    return value


def _required_text(max_len: int) -> Any:
    def check(value: str) -> str:
        if not value:
            raise PydanticCustomError("validation.required", "required")
        if len(value) > max_len:
            raise PydanticCustomError("validation.too_long", "too long", {"max": max_len})
        return value

    return check


def _optional_text(max_len: int) -> Any:
    def check(value: str | None) -> str | None:
        if not value:
            return None
        if len(value) > max_len:
            raise PydanticCustomError("validation.too_long", "too long", {"max": max_len})
        return value

    return check


def _email(value: str) -> str:
    if not value:
        raise PydanticCustomError("validation.required", "required")
    if len(value) > EMAIL_MAX:
        raise PydanticCustomError("validation.too_long", "too long", {"max": EMAIL_MAX})
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PydanticCustomError("validation.email", "invalid e-mail") from exc
    return checked.normalized


def _document(value: str | None) -> str | None:
    if not value:
        return None
    doc = normalize_document(value)
    if not is_valid_document(doc):
        raise PydanticCustomError("validation.document", "invalid CPF/CNPJ")
    return doc


def _phone(value: str | None) -> str | None:
    if not value:
        return None
    if not _PHONE.match(value):
        raise PydanticCustomError("validation.phone", "invalid phone")
    return value


Clean = BeforeValidator(_clean_text)
NotFormula = AfterValidator(_not_formula)  # last: a malformed e-mail or phone says so first
ClientName = Annotated[str, Clean, AfterValidator(_required_text(NAME_MAX)), NotFormula]
UserName = Annotated[str, Clean, AfterValidator(_required_text(USER_NAME_MAX)), NotFormula]
Email = Annotated[str, Clean, AfterValidator(_email), NotFormula]
Document = Annotated[str | None, Clean, AfterValidator(_document)]
Phone = Annotated[str | None, Clean, AfterValidator(_phone), NotFormula]
Notes = Annotated[str | None, Clean, AfterValidator(_optional_text(NOTES_MAX)), NotFormula]
Status = Literal["active", "inactive"]
RoleName = Literal["admin", "read_only"]


def _password(value: str) -> str:
    refused = passwords.problem(value)
    if refused is not None:
        key, params = refused
        raise PydanticCustomError(key, key, params)
    return value


Password = Annotated[str, AfterValidator(_password)]
M = TypeVar("M", bound=BaseModel)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ClientCreate(_Input):
    """A new client, or the full replacement of one."""

    name: ClientName
    email: Email
    document: Document = None
    phone: Phone = None
    status: Status = "active"
    notes: Notes = None


class ClientPatch(_Input):
    """A partial update: only the fields given change."""

    name: ClientName | None = None
    email: Email | None = None
    document: Document = None
    phone: Phone = None
    status: Status | None = None
    notes: Notes = None


class ClientQuery(_Input):
    """Search, filter and page for the clients list."""

    search: Annotated[str, Clean] = ""
    status: Status | None = None
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=PAGE_SIZE_MAX)

    def model_post_init(self, _context: Any) -> None:
        if len(self.search) > SEARCH_MAX:
            raise ValidationFailed.single("search", "validation.too_long", max=SEARCH_MAX)


class ClientOut(BaseModel):
    """A client as pages and exports see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    document: str | None
    phone: str | None
    status: Status
    notes: str | None
    created_at: datetime
    updated_at: datetime


class ClientPage(BaseModel):
    """One page of clients plus what the pager needs."""

    items: list[ClientOut]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so an empty list still has page 1)."""
        return max(1, -(-self.total // self.page_size))


class UserCreate(_Input):
    """A new user account."""

    email: Email
    name: UserName
    role: RoleName = "read_only"
    password: Password


class UserOut(BaseModel):
    """A user as the admin page sees it (never the hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: RoleName
    is_active: bool
    created_at: datetime


def validation_failed(exc: ValidationError) -> ValidationFailed:
    """Translate pydantic's errors into catalogue keys, one per field (the first wins)."""
    fields: dict[str, tuple[str, dict[str, Any]]] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "__root__"
        if field in fields:
            continue
        kind = error["type"]
        ctx = dict(error.get("ctx") or {})
        key = (
            kind
            if kind.startswith("validation.")
            else _BUILTIN_KEYS.get(kind, "validation.invalid")
        )
        params = {k: v for k, v in ctx.items() if k in {"max", "min", "ge", "le"}}
        fields[field] = (key, params)
    return ValidationFailed(fields)


def parse(model: type[M], data: Any, *, marked_as_text: Iterable[str] = ()) -> M:
    """Validate ``data`` as ``model`` or raise :class:`ValidationFailed` with message keys.

    ``marked_as_text`` names the fields whose text its author marked as text (see
    :func:`formula_like`): the import's quoted cells, an edit's unchanged stored text.
    """
    context = {MARKED_AS_TEXT: frozenset(marked_as_text)}
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise validation_failed(exc) from exc


_PASSWORD_ADAPTER: TypeAdapter[str] = TypeAdapter(Password)


def check_password_rules(password: str) -> str:
    """Validate a new password (see :func:`core.passwords.problem`) or raise ValidationFailed
    on ``password``."""
    try:
        return _PASSWORD_ADAPTER.validate_python(password)
    except ValidationError as exc:
        key, params = next(iter(validation_failed(exc).field_errors.values()))
        raise ValidationFailed({"password": (key, params)}) from exc
