"""Tables as plain data: lists of schema objects in, localised DataFrames out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from core.documents import format_document
from core.formatting import format_timestamp
from core.i18n import Translator
from core.schemas import ClientOut, UserOut


def clients_frame(clients: Sequence[ClientOut], t: Translator) -> pd.DataFrame:
    """The clients table with localised headers, status and dates."""
    rows = [
        {
            t("field.name"): c.name,
            t("field.email"): c.email,
            t("field.document"): format_document(c.document) if c.document else "",
            t("field.phone"): c.phone or "",
            t("field.status"): t(f"status.{c.status}"),
            t("field.created_at"): format_timestamp(c.created_at, t.locale),
        }
        for c in clients
    ]
    return pd.DataFrame(
        rows, columns=_columns(t, "name", "email", "document", "phone", "status", "created_at")
    )


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


def describe_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """A short 'field: old → new' summary of an audit entry (timestamps left out)."""
    ignored = {"created_at", "updated_at", "id"}
    if before is None and after is not None:
        return ", ".join(f"{k}: {v}" for k, v in after.items() if k not in ignored and v)
    if after is None and before is not None:
        return ", ".join(f"{k}: {v}" for k, v in before.items() if k not in ignored and v)
    if before is None or after is None:
        return ""
    return ", ".join(
        f"{k}: {before.get(k)} → {after.get(k)}"
        for k in after
        if k not in ignored and before.get(k) != after.get(k)
    )
