"""The create/edit client form, with each field's validation message under it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.documents import format_document
from core.i18n import Translator
from core.schemas import EMAIL_MAX, NAME_MAX, NOTES_MAX, PHONE_MAX, ClientOut
from dashboard.components.feedback import FieldErrors, field_hint, show_field_errors
from dashboard.components.form_outcome import form_errors, form_key

STATUSES = ("active", "inactive")


def client_form(
    form: str, t: Translator, *, initial: ClientOut | None, submit_label: str
) -> dict[str, Any] | None:
    """Render the form; return the entered values when submitted, else None.

    The messages of the form's refused attempt, when it made the last one (see
    :mod:`dashboard.components.form_outcome`), are shown above the form and under each
    field; after a success the form is drawn afresh (empty, or the saved client). Inputs
    are limited to a little more than the allowed length, so an overlong value is refused
    with a message instead of being silently cut.
    """
    errors: FieldErrors = form_errors(form)
    if errors:
        show_field_errors(errors, t)
    with st.form(form_key(form), clear_on_submit=False):
        name = st.text_input(
            t("field.name"), value=initial.name if initial else "", max_chars=NAME_MAX + 50
        )
        field_hint(errors, "name")
        email = st.text_input(
            t("field.email"), value=initial.email if initial else "", max_chars=EMAIL_MAX + 50
        )
        field_hint(errors, "email")
        document = st.text_input(
            t("field.document"),
            value=format_document(initial.document) if initial and initial.document else "",
            max_chars=24,
        )
        field_hint(errors, "document")
        phone = st.text_input(
            t("field.phone"),
            value=(initial.phone or "") if initial else "",
            max_chars=PHONE_MAX + 10,
        )
        field_hint(errors, "phone")
        status = st.selectbox(
            t("field.status"),
            STATUSES,
            index=STATUSES.index(initial.status) if initial else 0,
            format_func=lambda s: t(f"status.{s}"),
        )
        notes = st.text_area(
            t("field.notes"),
            value=(initial.notes or "") if initial else "",
            max_chars=NOTES_MAX + 100,
        )
        field_hint(errors, "notes")
        submitted = st.form_submit_button(submit_label, type="primary")
    if not submitted:
        return None
    return {
        "name": name,
        "email": email,
        "document": document,
        "phone": phone,
        "status": status,
        "notes": notes,
    }
