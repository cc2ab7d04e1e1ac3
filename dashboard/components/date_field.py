"""The one date field of every form: the date as typed, read strictly in the user's locale.

Not ``st.date_input``: its checks happen in the browser, where Python cannot see them. A date
typed outside ``min_value``/``max_value`` gets Streamlit's English "Date set outside allowed
range" and the widget keeps sending its previous value (today, or the stored date), so the
form saves a date the user did not type; its segmented field also clamps the day to the month
(31/02/2025 arrives as 28/02/2025). A text input sends exactly what was typed; this module
reads it or says why not, in the catalogue's words, and the page shows that like any other
field message (:mod:`dashboard.components.feedback`).

Accepted: ``dd/mm/aaaa`` in pt-BR (``-`` or ``.`` also separate), and ISO ``yyyy-mm-dd`` in
either language (the only form in English, where ``03/04/2025`` could be either month). The
year has four digits: ``10/03/25`` is refused, not guessed. A day the month does not have is
refused, never moved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from core.formatting import format_date
from core.i18n import Translator
from dashboard.components.feedback import FieldErrors, field_hint

MAX_CHARS = 20  # a little more than dd/mm/aaaa: too long is refused with a message, not cut

_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_DAY_FIRST = re.compile(r"^([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]+)$")

Problem = tuple[str, dict[str, Any]]  # a message key and its parameters


class DateRefused(ValueError):
    """The text is not a date (``key`` is the catalogue message saying why)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse_date(text: str, locale: str) -> date | None:
    """The date ``text`` names in ``locale``, None when blank; :class:`DateRefused` otherwise."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if match := _ISO.match(cleaned):
        year, month, day = (int(part) for part in match.groups())
    elif locale == "pt_BR" and (match := _DAY_FIRST.match(cleaned)):
        day, _, month, year_text = match.groups()
        if len(year_text) != 4:
            raise DateRefused("validation.date_year")
        year, month, day = int(year_text), int(month), int(day)
    else:
        raise DateRefused("validation.date")
    try:
        return date(year, month, day)
    except ValueError as exc:  # 31/02, month 13, day 0, year 0
        raise DateRefused("validation.no_such_date") from exc


@dataclass(frozen=True, slots=True)
class DateEntry:
    """What was typed in a date field: the date it names, or why it names none."""

    field: str
    text: str
    value: date | None
    problem: Problem | None = None

    @property
    def field_errors(self) -> dict[str, Problem]:
        """``{field: (key, params)}`` when refused (as in ``ValidationFailed``), else empty."""
        return {self.field: self.problem} if self.problem else {}


def read_date(
    field: str,
    text: str,
    locale: str,
    *,
    required: bool = True,
    earliest: date | None = None,
    latest: date | None = None,
) -> DateEntry:
    """Read ``text`` as the value of ``field``; out of ``[earliest, latest]`` is refused."""
    try:
        value = parse_date(text, locale)
    except DateRefused as refused:
        return DateEntry(field, text, None, (refused.key, {}))
    if value is None:
        return DateEntry(field, text, None, ("validation.required", {}) if required else None)
    if latest is not None and value > latest:
        return DateEntry(field, text, None, ("validation.future_date", {}))
    if earliest is not None and value < earliest:
        return DateEntry(field, text, None, ("validation.too_old", {}))
    return DateEntry(field, text, value)


def date_field(
    label: str,
    field: str,
    t: Translator,
    *,
    errors: FieldErrors | None = None,
    value: date | None = None,
    key: str | None = None,
    required: bool = True,
    earliest: date | None = None,
    latest: date | None = None,
) -> DateEntry:
    """Draw a date text input (pre-filled with ``value`` in the locale's format) and read it.

    ``errors`` are the form's messages from its last attempt, drawn under the field like the
    other fields' ones. Without them (a field outside a form, or a form that shows its
    outcome in the same run) the field's own reading problem is drawn under it right away.
    """
    text = st.text_input(
        label,
        value=format_date(value, t.locale) if value else "",
        placeholder=t("date.placeholder"),
        max_chars=MAX_CHARS,
        key=key,
    )
    entry = read_date(field, text, t.locale, required=required, earliest=earliest, latest=latest)
    if errors is None:
        errors = {f: t(k, **params) for f, (k, params) in entry.field_errors.items()}
    field_hint(errors, field)
    return entry
