"""Tables as plain data: lists of schema objects in, localised DataFrames out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from core.documents import format_document
from core.formatting import DASH, format_date, format_number, format_timestamp
from core.i18n import Translator
from core.schemas import ClientOut, UserOut
from dashboard.components import columns


def clients_frame(clients: Sequence[ClientOut], t: Translator) -> pd.DataFrame:
    """The clients table with localised headers and status; the creation time stays a
    timestamp (São Paulo time), formatted by :func:`clients_config`, so it sorts."""
    rows = [
        {
            t("field.name"): c.name,
            t("field.email"): c.email,
            t("field.document"): format_document(c.document) if c.document else "",
            t("field.phone"): c.phone or "",
            t("field.status"): t(f"status.{c.status}"),
            t("field.created_at"): columns.local_time(c.created_at),
        }
        for c in clients
    ]
    return pd.DataFrame(
        rows, columns=_columns(t, "name", "email", "document", "phone", "status", "created_at")
    )


def clients_config(t: Translator) -> dict[str, Any]:
    """Widths that keep every column in view at 1,400 px (a CNPJ whole), the creation
    time in the locale's form, to the second."""
    return {
        t("field.name"): columns.text(width=200),
        t("field.email"): columns.text(width=240),
        t("field.document"): columns.text(width=150),
        t("field.phone"): columns.text(width=120),
        t("field.status"): columns.text(width=75),
        t("field.created_at"): columns.timestamp(t),
    }


def picked_client(rows: Sequence[int], clients: Sequence[ClientOut]) -> int | None:
    """The id of the client on the selected row of :func:`clients_frame` (None if none)."""
    if not rows or not 0 <= rows[0] < len(clients):
        return None
    return clients[rows[0]].id


def users_frame(users: Sequence[UserOut], t: Translator) -> pd.DataFrame:
    """The users table with localised headers and roles."""
    rows = [
        {
            t("field.email"): u.email,
            t("field.name"): u.name,
            t("field.role"): t(f"role.{u.role}"),
            t("field.active"): u.is_active,
            t("field.created_at"): format_timestamp(u.created_at, t.locale),
        }
        for u in users
    ]
    return pd.DataFrame(rows, columns=_columns(t, "email", "name", "role", "active", "created_at"))


def _columns(t: Translator, *fields: str) -> list[str]:
    return [t(f"field.{f}") for f in fields]


IGNORED = frozenset({"created_at", "updated_at", "id"})
# Never shown, whatever entry holds them: a password's hash, a session's token or ticket.
SECRET_PARTS = ("password", "token", "ticket", "secret", "hash")
NUMERIC = frozenset({"quantity", "buy_price", "price", "fees", "amount", "tax", "ratio", "value"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEX_HASH = re.compile(r"^[0-9a-f]{32,}$")
# Values that are catalogue choices: the field and the prefix of their keys.
CHOICES = {
    "status": "status",
    "role": "role",
    "income_type": "income_type",
    "event_kind": "event_kind",
}


def is_secret(field: str) -> bool:
    """A field whose value the audit never shows (its change is only said)."""
    return any(part in field.lower() for part in SECRET_PARTS)


def field_name(field: str, t: Translator) -> str:
    """A snapshot's key as the user reads it: ``audit.field.<key>``, else the form's
    ``field.<key>`` label, else the key itself."""
    for key in (f"audit.field.{field}", f"field.{field}"):
        label = t(key)
        if label != key:
            return label
    return field


def _choice(prefix: str, value: str, t: Translator) -> str:
    label = t(f"{prefix}.{value}")
    return value if label == f"{prefix}.{value}" else label


def field_value(field: str, value: Any, t: Translator, entity: str = "") -> str:
    """A snapshot's value in the user's words: yes/no, a status or role, a date and a
    number in the locale's form, an asset type translated; the rest as stored."""
    if isinstance(value, bool):
        return t("audit.yes") if value else t("audit.no")
    if value is None:
        return DASH
    if field == "datasets" and isinstance(value, list):
        return ", ".join(
            f"{_choice('export.dataset', str(d.get('dataset')), t)} ({d.get('rows')})"
            for d in value
            if isinstance(d, dict)
        )
    if isinstance(value, (dict, list)):
        return str(value)
    text = str(value)
    if field == "kind":
        prefix = {"movement": "movement_kind", "asset_event": "event_kind"}.get(entity)
        prefix = prefix or ("import.kind" if entity == "import" else "")
        return _choice(prefix, text, t) if prefix else text
    if field in CHOICES:
        return _choice(CHOICES[field], text, t)
    if field == "asset_type":
        return asset_type_label(text, t)
    if field == "document" and text:
        return format_document(text)
    if _ISO_DATE.match(text):
        return format_date(date.fromisoformat(text), t.locale)
    if field in NUMERIC or isinstance(value, (int, float)):
        try:
            number = Decimal(text)
        except ArithmeticError:
            return text
        places = max(0, -int(number.normalize().as_tuple().exponent))
        least = 2 if field in ("buy_price", "price", "fees", "amount", "tax", "value") else 0
        return format_number(number, t.locale, max(least, min(places, 8)))
    return text


def describe_changes(
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    t: Translator,
    entity: str = "",
) -> str:
    """A short 'Field: old → new' summary of an audit entry in the user's words (labels
    and values translated, timestamps and ids left out). A secret (a password's hash, a
    token) is never shown: a change to it reads "Senha: alterada"."""

    def name(key: str) -> str:
        return field_name(key, t)

    def shown(key: str, value: Any) -> str:
        return field_value(key, value, t, entity)

    if before is None and after is not None:
        lone = after
    elif after is None and before is not None:
        lone = before
    else:
        lone = None
    if lone is not None:
        return ", ".join(
            f"{name(k)}: {shown(k, v)}"
            for k, v in lone.items()
            if k not in IGNORED and not is_secret(k) and v not in (None, "", [], {})
        )
    if before is None or after is None:
        return ""
    parts = []
    for k in after:
        if k in IGNORED or before.get(k) == after.get(k):
            continue
        if is_secret(k):
            parts.append(f"{name(k)}: {t('audit.secret_changed')}")
        else:
            parts.append(f"{name(k)}: {shown(k, before.get(k))} → {shown(k, after.get(k))}")
    return ", ".join(parts)


def record_label(entity: str, entity_id: str, after: dict[str, Any] | None) -> str:
    """Which record an entry is about: an import by its file's name (its id is the file's
    SHA-256), a long hash cut to its first 8 characters, any other id as stored."""
    if entity == "import" and after and after.get("file_name"):
        return str(after["file_name"])
    if _HEX_HASH.match(entity_id):
        return f"{entity_id[:8]}…"
    return entity_id


def asset_type_label(asset_type: str | None, t: Translator) -> str:
    """The market's asset type (``Equity``, ``Cryptocurrency``) in the user's words; an
    unknown one as the market sends it; ``—`` for none."""
    if not asset_type:
        return DASH
    key = "asset_type." + re.sub(r"[^a-z0-9]+", "_", asset_type.lower()).strip("_")
    label = t(key)
    return asset_type if label == key else label
