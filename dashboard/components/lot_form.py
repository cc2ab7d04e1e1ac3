"""The allocation (lot) inputs: quantity and price as text (either locale), date picker."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import streamlit as st

from core.formatting import ungroup_number
from core.i18n import Translator
from core.schemas import EARLIEST_DATE, today_in_brazil
from dashboard.components.feedback import FieldErrors, field_hint

DATE_FORMATS = {"pt_BR": "DD/MM/YYYY", "en": "YYYY-MM-DD"}


def editable_number(value: Any, locale: str) -> str:
    """An amount as the user would type it back: no thousands grouping, no trailing zeros.

    Grouped text would not survive the round trip: ``1.000`` (pt-BR) or ``1,000`` (en) is a
    lone separator, which the schema reads as a decimal mark, i.e. 1.
    """
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",") if locale == "pt_BR" else text


def lot_inputs(
    t: Translator,
    errors: FieldErrors,
    *,
    quantity: Any = None,
    buy_price: Any = None,
    buy_date: date | None = None,
) -> dict[str, Any]:
    """Render quantity, buy price and buy date inputs; return the raw entered values."""
    qty = st.text_input(
        t("field.quantity"),
        value=editable_number(quantity, t.locale),
        max_chars=40,
    )
    field_hint(errors, "quantity")
    price = st.text_input(
        t("field.buy_price"),
        value=editable_number(buy_price, t.locale),
        max_chars=40,
    )
    field_hint(errors, "buy_price")
    when = st.date_input(
        t("field.buy_date"),
        value=buy_date or today_in_brazil(),
        min_value=EARLIEST_DATE,
        max_value=today_in_brazil(),
        format=DATE_FORMATS.get(t.locale, "YYYY-MM-DD"),
    )
    field_hint(errors, "buy_date")
    return {
        "quantity": ungroup_number(qty, t.locale),
        "buy_price": ungroup_number(price, t.locale),
        "buy_date": when,
    }
