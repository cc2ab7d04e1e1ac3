"""The allocation (lot) inputs: quantity and price as text (either locale), date picker."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from core.formatting import format_number
from core.i18n import Translator
from core.schemas import EARLIEST_DATE, today_in_brazil
from dashboard.components.feedback import FieldErrors, field_hint

DATE_FORMATS = {"pt_BR": "DD/MM/YYYY", "en": "YYYY-MM-DD"}


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
        value=(
            ""
            if quantity is None
            else format_number(quantity, t.locale, 8).rstrip("0").rstrip(",.")
        ),
        max_chars=40,
    )
    field_hint(errors, "quantity")
    price = st.text_input(
        t("field.buy_price"),
        value=(
            ""
            if buy_price is None
            else format_number(buy_price, t.locale, 8).rstrip("0").rstrip(",.")
        ),
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
    return {"quantity": qty, "buy_price": price, "buy_date": when}
