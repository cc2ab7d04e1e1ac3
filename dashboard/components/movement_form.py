"""The ledger's forms (admins): record a sell, record income typed by hand, and edit or
delete a sell or an income.

Buys stay with the lot form (:mod:`dashboard.components.lot_form`, "Nova alocação" and
"Editar alocação"): one way to add, edit and delete a buy. The forms follow
:mod:`dashboard.components.form_outcome`: a refusal keeps the form open with its messages
(the oversold one included, under the quantity), a success gives the form a new key, so a
second click stores nothing more. Dates are typed (:mod:`dashboard.components.date_field`);
select box options (tickers) are plain text, and a ticker shown in a message is escaped.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypeVar, get_args

import streamlit as st
from pydantic import BaseModel

from core.errors import ValidationFailed
from core.formatting import format_date, ungroup_number
from core.i18n import Translator
from core.schemas import parse
from core.services import movements as movement_service
from core.services.principal import Principal
from core.trade_schemas import IncomeIn, IncomeType, MovementOut, SellIn, today_in_brazil
from dashboard import runtime
from dashboard.components.date_field import DateEntry, date_field
from dashboard.components.feedback import FieldErrors, field_hint, show_field_errors
from dashboard.components.form_outcome import attempted, form_errors, form_key, refuse, succeed
from dashboard.components.lot_form import editable_number
from dashboard.components.markdown import escape_markdown
from dashboard.components.pick import select_by_id
from dashboard.components.portfolio_table import money, quantity_text

M = TypeVar("M", bound=BaseModel)
INCOME_TYPES: tuple[str, ...] = get_args(IncomeType)
CONFIRM_KEY = "detail_confirm_delete_movement"


def _number(t: Translator, errors: FieldErrors, field: str, value: Any = None) -> str:
    """A number typed as text in either locale (a lone thousands separator read as such)."""
    text = st.text_input(t(f"field.{field}"), value=editable_number(value, t.locale), max_chars=40)
    field_hint(errors, field)
    return ungroup_number(text, t.locale)


def trade_inputs(
    t: Translator, errors: FieldErrors, movement: MovementOut | None = None
) -> dict[str, Any]:
    """Quantity, price, fees and date of a sell (prefilled from ``movement`` when edited)."""
    return {
        "quantity": _number(t, errors, "quantity", movement.quantity if movement else None),
        "price": _number(t, errors, "price", movement.price if movement else None),
        "fees": _number(t, errors, "fees", movement.fees if movement else None),
        "date": _date(t, errors, movement.date if movement else None),
    }


def income_inputs(
    t: Translator, errors: FieldErrors, movement: MovementOut | None = None
) -> dict[str, Any]:
    """Income type, gross amount, tax withheld and date (prefilled when edited)."""
    current = movement.income_type if movement and movement.income_type else INCOME_TYPES[0]
    kind = st.selectbox(
        t("field.income_type"),
        INCOME_TYPES,
        index=INCOME_TYPES.index(current),
        format_func=lambda k: t(f"income_type.{k}"),
    )
    field_hint(errors, "income_type")
    return {
        "income_type": kind,
        "amount": _number(t, errors, "amount", movement.amount if movement else None),
        "tax": _number(t, errors, "tax", movement.tax if movement else None),
        "date": _date(t, errors, movement.date if movement else None),
    }


def _date(t: Translator, errors: FieldErrors, value: date | None) -> DateEntry:
    return date_field(t("field.date"), "date", t, errors=errors, value=value or today_in_brazil())


def read_entry(model: type[M], values: dict[str, Any]) -> M:
    """``values`` as ``model``, or ValidationFailed naming every refused field (an
    unreadable date with its own message, as :func:`dashboard.components.lot_form.read_lot`)."""
    when: DateEntry = values["date"]
    try:
        entry = parse(model, {**values, "date": when.value})
    except ValidationFailed as error:
        raise ValidationFailed(error.field_errors | when.field_errors) from error
    if when.field_errors:  # not reached (no date, no entry); stated so it cannot become one
        raise ValidationFailed(when.field_errors)
    return entry


def sell_form(client_id: int, held: list[str], actor: Principal, t: Translator) -> None:
    """Record a sell of one of the ``held`` tickers (those with a quantity now)."""
    form = f"detail_sell_{client_id}"
    errors = form_errors(form)
    with st.expander(t("movement.sell"), expanded=attempted(form)):
        if not held:
            st.caption(t("movement.no_holdings"))
            return
        if errors:
            show_field_errors(errors, t)
        with st.form(form_key(form)):
            symbol = st.selectbox(t("field.symbol"), held)
            field_hint(errors, "symbol")
            values = trade_inputs(t, errors)
            submitted = st.form_submit_button(t("movement.sell_save"), type="primary")
        if not submitted:
            return
        try:
            sell = read_entry(SellIn, values)
            movement_service.add_sell(runtime.uow(), actor, client_id, symbol, sell)
        except ValidationFailed as error:
            refuse(form, error, t)
        succeed(form, t("movement.sold"))


def income_form(client_id: int, symbols: list[str], actor: Principal, t: Translator) -> None:
    """Record income typed by hand for one of the ledger's ``symbols``."""
    form = f"detail_income_{client_id}"
    errors = form_errors(form)
    with st.expander(t("movement.income"), expanded=attempted(form)):
        if errors:
            show_field_errors(errors, t)
        with st.form(form_key(form)):
            symbol = st.selectbox(t("field.symbol"), symbols)
            field_hint(errors, "symbol")
            values = income_inputs(t, errors)
            submitted = st.form_submit_button(t("movement.income_save"), type="primary")
        if not submitted:
            return
        try:
            income = read_entry(IncomeIn, values)
            movement_service.add_income(runtime.uow(), actor, client_id, symbol, income)
        except ValidationFailed as error:
            refuse(form, error, t)
        succeed(form, t("movement.income_added"))


def movement_label(movement: MovementOut, t: Translator) -> str:
    """Plain text naming a movement: date · kind · ticker · quantity or gross amount."""
    figure = (
        money(movement.amount, movement.currency, t)
        if movement.kind == "income"
        else quantity_text(movement.quantity, t)
    )
    kind = t(f"ledger.kind.{movement.kind}")
    return f"{format_date(movement.date, t.locale)} · {kind} · {movement.symbol} · {figure}"


def edit_form(movements: list[MovementOut], actor: Principal, t: Translator) -> None:
    """Pick a sell or an income, then edit it (prefilled) or delete it after confirming."""
    editable = [m for m in movements if m.kind in ("sell", "income")]
    if not editable:
        return
    by_id = {m.id: m for m in editable}
    forms = {mid: f"detail_movement_{mid}" for mid in by_id}
    open_ = CONFIRM_KEY in st.session_state or attempted(*forms.values())
    with st.expander(t("movement.edit"), expanded=open_):
        st.caption(t("movement.buys_in_lots"))
        chosen = select_by_id(
            t("movement.pick"),
            {mid: movement_label(m, t) for mid, m in by_id.items()},
            key="detail_movement_pick",
        )
        movement = by_id[chosen]
        form = forms[chosen]
        errors = form_errors(form)
        if errors:
            show_field_errors(errors, t)
        with st.form(form_key(form)):
            if movement.kind == "income":
                values = income_inputs(t, errors, movement)
            else:
                values = trade_inputs(t, errors, movement)
            submitted = st.form_submit_button(t("movement.save"), type="primary")
        if submitted:
            model: type[BaseModel] = IncomeIn if movement.kind == "income" else SellIn
            try:
                data = read_entry(model, values)
                movement_service.update_movement(runtime.uow(), actor, movement.id, data)
            except ValidationFailed as error:
                refuse(form, error, t)
            succeed(form, t("movement.updated"))
        _delete(movement, actor, t)


def _delete(movement: MovementOut, actor: Principal, t: Translator) -> None:
    """The delete button, then a confirmation naming the movement (escaped: a ticker)."""
    if st.session_state.get(CONFIRM_KEY) != movement.id:
        if st.button(t("movement.delete"), key="detail_movement_delete"):
            st.session_state[CONFIRM_KEY] = movement.id
            st.rerun()
        return
    st.warning(t("movement.delete_confirm", line=escape_markdown(movement_label(movement, t))))
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button(t("movement.delete_yes"), type="primary", key="detail_movement_delete_yes"):
        st.session_state.pop(CONFIRM_KEY, None)
        try:
            movement_service.delete_movement(runtime.uow(), actor, movement.id)
        except ValidationFailed as error:
            refuse(f"detail_movement_{movement.id}", error, t)
        runtime.flash(t("movement.deleted"))
        st.rerun()
    if no.button(t("movement.cancel"), key="detail_movement_delete_no"):
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()


def held_symbols(quantities: dict[str, Decimal]) -> list[str]:
    """The tickers with a quantity above zero, in order (what a sell may name)."""
    return sorted(symbol for symbol, quantity in quantities.items() if quantity > 0)
