"""The allocation (lot) inputs: quantity, price and fees as text (either locale), the buy
date as typed (:mod:`dashboard.components.date_field`)."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

import streamlit as st

from core.errors import ValidationFailed
from core.formatting import ungroup_number
from core.i18n import Translator
from core.market.port import MarketData
from core.schemas import parse
from core.services.asset_history import fetch_new_asset_history
from core.services.principal import Principal
from core.trade_schemas import AllocationIn, AllocationOut, today_in_brazil
from dashboard import runtime
from dashboard.components.date_field import DateEntry, date_field
from dashboard.components.feedback import FieldErrors, field_hint
from dashboard.components.markdown import escape_markdown

log = logging.getLogger(__name__)


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
    fees: Any = None,
) -> dict[str, Any]:
    """Render quantity, buy price, buy date and fees inputs; return the entered values.

    A new lot's date starts at today; an edited one's at its stored date. Fees (brokerage,
    exchange) are blank for a new lot (read as zero) and the stored ones for an edited lot,
    so saving an edit keeps the fees an import recorded. The date is a :class:`DateEntry`:
    pass the values to :func:`read_lot`.
    """
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
    when = date_field(
        t("field.buy_date"), "buy_date", t, errors=errors, value=buy_date or today_in_brazil()
    )
    costs = st.text_input(
        t("field.fees"),
        value=editable_number(fees, t.locale) if fees else "",
        max_chars=40,
    )
    field_hint(errors, "fees")
    return {
        "quantity": ungroup_number(qty, t.locale),
        "buy_price": ungroup_number(price, t.locale),
        "buy_date": when,
        "fees": ungroup_number(costs, t.locale),
    }


def read_lot(values: dict[str, Any]) -> AllocationIn:
    """The lot of :func:`lot_inputs`' values, or ValidationFailed naming every refused field.

    An unreadable date is refused with its own message (31/02: no such date), never read as
    another date: the schema is given no date, so it refuses the lot as well, and reports the
    other fields (quantity 0...) in the same answer. The buy-date rules themselves (not in
    the future, not before 1900) are the schema's.
    """
    when: DateEntry = values["buy_date"]
    try:
        lot = parse(AllocationIn, {**values, "buy_date": when.value})
    except ValidationFailed as error:
        raise ValidationFailed(error.field_errors | when.field_errors) from error
    if when.field_errors:  # not reached (no date, no lot); stated so it cannot become one
        raise ValidationFailed(when.field_errors)
    return lot


def history_note(added: AllocationOut, market: MarketData, actor: Principal, t: Translator) -> str:
    """After a buy is saved: fetch its asset's price history when none is stored since the
    buy date (:func:`core.services.asset_history.fetch_new_asset_history`), so the figures
    value a new ticker at its closes rather than its buy price at once.

    Returns the note to add to the success message: empty when the history was stored or
    not needed; when market data could not answer, that the next scheduled close fetches
    it. The buy is saved either way, and nothing here raises.
    """
    try:
        with st.spinner(t("history.fetching", symbol=escape_markdown(added.symbol))):
            outcome = fetch_new_asset_history(
                runtime.uow(), market, actor, added.symbol, added.buy_date
            )
        pending = outcome.pending
    except Exception:  # the buy is saved: a failure here only leaves the history pending
        log.exception("history of %s left for the scheduler", added.symbol)
        pending = True
    return t("history.pending", symbol=escape_markdown(added.symbol)) if pending else ""
