"""Map PostgreSQL constraint violations to domain errors the user can read."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError

from core.errors import AnkaError, Conflict, ValidationFailed

# constraint name -> (field, message key, is a uniqueness conflict)
CONSTRAINTS: dict[str, tuple[str, str, bool]] = {
    "uq_clients_email_lower": ("email", "validation.email_taken", True),
    "uq_clients_document": ("document", "validation.document_taken", True),
    "uq_users_email_lower": ("email", "validation.email_taken", True),
    "ck_clients_document_valid": ("document", "validation.document", False),
    "ck_clients_status": ("status", "validation.choice", False),
    "ck_clients_name_length": ("name", "validation.required", False),
    "ck_clients_email_shape": ("email", "validation.email", False),
    "ck_users_role": ("role", "validation.choice", False),
    # The ledger: a buy's fields are named as the lot form names them.
    "ck_movements_quantity": ("quantity", "validation.positive", False),
    "ck_movements_price": ("buy_price", "validation.positive", False),
    "ck_movements_date_past": ("buy_date", "validation.future_date", False),
    "fk_movements_client_id_clients": ("client_id", "error.not_found", False),
    "ck_movements_fees": ("fees", "validation.non_negative", False),
    "ck_movements_income": ("amount", "validation.invalid", False),
    "fk_movements_asset_id_assets": ("symbol", "error.not_found", False),
    # Assets' events (core.services.events): the schema checks these first.
    "uq_asset_events_asset_id_kind_ex_date": ("ex_date", "validation.event_exists", True),
    "ck_asset_events_kind": ("kind", "validation.choice", False),
    "ck_asset_events_ratio": ("ratio", "validation.invalid", False),
    "ck_asset_events_value": ("value", "validation.invalid", False),
}
# Sells and typed income name the ledger's own fields (the lot form says buy_price/buy_date).
MOVEMENT_FIELDS = {"buy_price": "price", "buy_date": "date"}


def translate_integrity_error(
    exc: IntegrityError, fields: Mapping[str, str] | None = None
) -> AnkaError:
    """The domain error for a constraint the database refused (unknown ones stay generic);
    ``fields`` renames the field a message goes under (e.g. :data:`MOVEMENT_FIELDS`)."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    if name in CONSTRAINTS:
        field, key, conflict = CONSTRAINTS[name]
        field = (fields or {}).get(field, field)
        error_type = Conflict if conflict else ValidationFailed
        return error_type({field: (key, {})})
    return ValidationFailed.single("__root__", "validation.rejected_by_database")
