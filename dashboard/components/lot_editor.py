"""The client page's lot forms (admins): add a lot, edit one, delete one after a
confirmation. Each goes through the allocations service, which checks the role itself."""

from __future__ import annotations

import streamlit as st

from core.errors import ValidationFailed
from core.formatting import format_date
from core.i18n import Translator
from core.market.port import MarketData
from core.services import allocations as allocation_service
from core.services.portfolio import AllocationRow
from core.services.principal import Principal
from dashboard import runtime
from dashboard.components.feedback import field_hint, show_field_errors
from dashboard.components.form_outcome import attempted, form_errors, form_key, refuse, succeed
from dashboard.components.lot_form import history_note, lot_inputs, read_lot
from dashboard.components.markdown import escape_markdown
from dashboard.components.pick import select_by_id
from dashboard.components.portfolio_table import quantity_text

CONFIRM_KEY = "detail_confirm_delete"


def add_lot(client_id: int, market: MarketData, actor: Principal, t: Translator) -> None:
    """The "add a lot" form: a ticker, its quantity, price, date and fees (admins)."""
    form = f"detail_add_{client_id}"
    errors = form_errors(form)
    with st.expander(t("detail.add"), expanded=attempted(form)):
        st.caption(t("detail.go_assets"))
        if errors:
            show_field_errors(errors, t)
        with st.form(form_key(form)):  # a new key after each success: the form starts empty
            symbol = st.text_input(t("field.symbol"), max_chars=24)
            field_hint(errors, "symbol")
            values = lot_inputs(t, errors)
            submitted = st.form_submit_button(t("detail.save"), type="primary")
        if not submitted:
            return
        try:
            lot = read_lot(values)
            added = allocation_service.add_allocation(
                runtime.uow(), market, actor, client_id, {"symbol": symbol}, lot
            )
        except ValidationFailed as error:
            refuse(form, error, t)  # run again: each message is drawn under its field
        note = history_note(added, market, actor, t)  # a new ticker's closes, at once
        succeed(form, f"{t('detail.added')} {note}".strip())


def edit_lots(rows: list[AllocationRow], actor: Principal, t: Translator) -> None:
    """Pick a lot, edit it or delete it (after a confirmation); admins."""
    if not rows:
        return
    by_id = {row.allocation_id: row for row in rows}
    forms = {aid: f"detail_edit_{aid}" for aid in by_id}
    open_ = CONFIRM_KEY in st.session_state or attempted(*forms.values())
    with st.expander(t("detail.edit"), expanded=open_):
        chosen = select_by_id(
            t("detail.pick_lot"),
            {
                aid: f"{row.symbol} · {quantity_text(row.quantity, t)}"
                f" · {format_date(row.buy_date, t.locale)}"
                for aid, row in by_id.items()
            },
            key="detail_lot_pick",
        )
        row = by_id[chosen]
        form = forms[chosen]
        errors = form_errors(form)
        if errors:
            show_field_errors(errors, t)
        with st.form(form_key(form)):
            values = lot_inputs(
                t,
                errors,
                quantity=row.quantity,
                buy_price=row.buy_price,
                buy_date=row.buy_date,
                fees=row.fees,
            )
            submitted = st.form_submit_button(t("detail.save"), type="primary")
        if submitted:
            try:
                lot = read_lot(values)
                allocation_service.update_allocation(runtime.uow(), actor, row.allocation_id, lot)
            except ValidationFailed as error:
                refuse(form, error, t)
            succeed(form, t("detail.updated"))
        _delete(row, actor, t)


def _delete(row: AllocationRow, actor: Principal, t: Translator) -> None:
    if st.session_state.get(CONFIRM_KEY) != row.allocation_id:
        if st.button(t("detail.delete"), key="detail_delete"):
            st.session_state[CONFIRM_KEY] = row.allocation_id
            st.rerun()
        return
    # Not clients.delete_confirm: that one warns about deleting *all* of a client's lots.
    symbol = escape_markdown(row.symbol)
    lot = f"{symbol} · {quantity_text(row.quantity, t)} · {format_date(row.buy_date, t.locale)}"
    st.warning(f"{t('detail.delete')}: {lot}?")
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button(t("clients.delete_yes"), type="primary", key="detail_delete_yes"):
        st.session_state.pop(CONFIRM_KEY, None)
        allocation_service.delete_allocation(runtime.uow(), actor, row.allocation_id)
        runtime.flash(t("detail.deleted"))
        st.rerun()
    if no.button(t("clients.cancel"), key="detail_delete_no"):
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()
