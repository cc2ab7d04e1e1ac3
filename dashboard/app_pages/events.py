"""Assets' events (admins only): the splits, bonus shares and income per share that apply to
every holder, and the admin's corrections — retype a dividend as JCP, fix an amount or a
date, dismiss or restore an event, add one market data missed.

Each change recomputes every holder's past figures in the same transaction
(:mod:`core.services.events`); the page only draws and reads inputs. The table is a
``st.dataframe`` (stored text shown as it is); anything stored that reaches Markdown (the
success messages) is escaped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from core.errors import PermissionDenied, ValidationFailed
from core.event_schemas import EVENT_KINDS, EventOut
from core.formatting import format_date, format_number, format_percent, ungroup_number
from core.services import events as event_service
from core.trade_schemas import EARLIEST_DATE, SYMBOL_MAX, today_in_brazil
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.date_field import DateEntry, date_field
from dashboard.components.feedback import field_hint, guarded, show_field_errors
from dashboard.components.form_outcome import attempted, form_errors, form_key, refuse, succeed
from dashboard.components.lot_form import editable_number
from dashboard.components.markdown import escape_markdown
from dashboard.components.pick import select_by_id

NEW_FORM = "events_new"
ALL = "all"
NUMBER_MAX = 40

t = runtime.translator()
actor = runtime.principal()


def _places(number: Decimal, least: int = 2) -> int:
    """Decimals worth showing: at least ``least``, the stored ones that matter, at most 8."""
    exponent = int(number.normalize().as_tuple().exponent)
    return min(8, max(least, -exponent))


def kind_label(kind: str, ratio: Decimal) -> str:
    """The kind in the user's words; a split is a desdobramento or a grupamento by ratio."""
    if kind == "split":
        return t("event_kind.split_up" if ratio > 1 else "event_kind.split_down")
    return t(f"event_kind.{kind}")


def ratio_text(kind: str, ratio: Decimal) -> str:
    """A split as "2 por 1"; bonus shares and the rate withheld on income as percentages."""
    if kind == "split":
        shown = format_number(ratio, t.locale, _places(ratio, 0))
        return t("events.split_ratio", ratio=shown)
    return format_percent(ratio, t.locale, _places(ratio * 100))


def _flag(value: bool) -> str:
    return t("events.yes" if value else "events.no")


def events_frame(events: list[EventOut]) -> pd.DataFrame:
    """The events table, formatted in the user's language (text shown as it is)."""
    return pd.DataFrame(
        [
            {
                t("events.col.symbol"): e.symbol,
                t("events.col.name"): e.name,
                t("events.col.kind"): kind_label(e.kind, e.ratio),
                t("events.col.ex_date"): format_date(e.ex_date, t.locale),
                t("events.col.ratio"): ratio_text(e.kind, e.ratio),
                t("events.col.value"): format_number(e.value, t.locale, _places(e.value)),
                t("events.col.source"): t(f"event_source.{e.source}"),
                t("events.col.corrected"): _flag(e.corrected),
                t("events.col.dismissed"): _flag(e.dismissed),
                t("events.col.holders"): e.holders,
            }
            for e in events
        ]
    )


def _kind_input(current: str, key: str) -> str:
    chosen: str = st.selectbox(
        t("field.kind"),
        EVENT_KINDS,
        index=EVENT_KINDS.index(current),
        format_func=lambda k: t(f"event_kind.{k}"),
        key=key,
    )
    return chosen


def _numbers(errors: dict[str, str], value: Decimal | None, key: str) -> dict[str, str]:
    """The value and ratio inputs (the ratio blank: the stored one, or the kind's default)."""
    typed_value = st.text_input(
        t("field.value"),
        value=editable_number(value, t.locale),
        max_chars=NUMBER_MAX,
        help=t("events.value_help"),
        key=f"{key}_value",
    )
    field_hint(errors, "value")
    typed_ratio = st.text_input(
        t("field.ratio"), max_chars=NUMBER_MAX, help=t("events.ratio_help"), key=f"{key}_ratio"
    )
    field_hint(errors, "ratio")
    return {
        "value": ungroup_number(typed_value, t.locale),
        "ratio": ungroup_number(typed_ratio, t.locale),
    }


def _checked_date(form: str, when: DateEntry) -> Any:
    """The typed ex-date, or the form refused with its message (nothing is sent)."""
    if when.problem:
        refuse(form, ValidationFailed(when.field_errors), t)
    return when.value


def _done(key: str, event: EventOut) -> str:
    return t(
        key,
        symbol=escape_markdown(event.symbol),
        date=format_date(event.ex_date, t.locale),
        holders=event.holders,
    )


def _event_label(event: EventOut) -> str:
    """A select box option (plain text, not Markdown): ticker · ex-date · kind."""
    date_text = format_date(event.ex_date, t.locale)
    return f"{event.symbol} · {date_text} · {kind_label(event.kind, event.ratio)}"


def _correct(events: list[EventOut]) -> None:
    by_id = {e.id: e for e in events}
    corrects = {eid: f"events_correct_{eid}" for eid in by_id}
    toggles = {eid: f"events_toggle_{eid}" for eid in by_id}
    with st.expander(
        t("events.correct"), expanded=attempted(*corrects.values(), *toggles.values())
    ):
        chosen = select_by_id(
            t("events.pick"), {eid: _event_label(e) for eid, e in by_id.items()}, key="events_pick"
        )
        event = by_id[chosen]
        st.caption(
            t(
                "events.current",
                kind=kind_label(event.kind, event.ratio),
                date=format_date(event.ex_date, t.locale),
                ratio=ratio_text(event.kind, event.ratio),
                value=format_number(event.value, t.locale, _places(event.value)),
                source=t(f"event_source.{event.source}"),
            )
        )
        form = corrects[event.id]
        errors = form_errors(form)
        if errors:
            show_field_errors(errors, t)
        keys = form_key(form)  # the inputs are new widgets after a success: the stored values
        with st.form(keys):
            kind = _kind_input(event.kind, f"{keys}_kind")
            field_hint(errors, "kind")
            when = date_field(
                t("field.ex_date"),
                "ex_date",
                t,
                errors=errors,
                value=event.ex_date,
                key=f"{keys}_ex_date",
                earliest=EARLIEST_DATE,
                latest=today_in_brazil(),
            )
            numbers = _numbers(errors, event.value, keys)
            submitted = st.form_submit_button(t("events.correct_submit"), type="primary")
        if submitted:
            data = {"kind": kind, "ex_date": _checked_date(form, when), **numbers}
            try:
                out = event_service.correct_event(runtime.uow(), actor, event.id, data)
            except ValidationFailed as error:
                refuse(form, error, t)
            succeed(form, _done("events.corrected_done", out))
        _toggle(event, toggles[event.id])


def _toggle(event: EventOut, form: str) -> None:
    """Dismiss a live event, or restore a dismissed one."""
    errors = form_errors(form)
    if errors:
        show_field_errors(errors, t)
    label = t("events.restore" if event.dismissed else "events.dismiss")
    if not st.button(label, key="events_toggle"):
        return
    try:
        if event.dismissed:
            out = event_service.restore_event(runtime.uow(), actor, event.id)
        else:
            out = event_service.dismiss_event(runtime.uow(), actor, event.id)
    except ValidationFailed as error:
        refuse(form, error, t)
    succeed(
        form, _done("events.restored_done" if event.dismissed else "events.dismissed_done", out)
    )


def _add() -> None:
    errors = form_errors(NEW_FORM)
    with st.expander(t("events.new"), expanded=attempted(NEW_FORM)):
        if errors:
            show_field_errors(errors, t)
        with st.form(form_key(NEW_FORM)):
            symbol = st.text_input(t("field.symbol"), max_chars=SYMBOL_MAX + 10)
            field_hint(errors, "symbol")
            kind = _kind_input("dividend", f"{form_key(NEW_FORM)}_kind")
            field_hint(errors, "kind")
            when = date_field(
                t("field.ex_date"),
                "ex_date",
                t,
                errors=errors,
                value=today_in_brazil(),
                key=f"{form_key(NEW_FORM)}_ex_date",
                earliest=EARLIEST_DATE,
                latest=today_in_brazil(),
            )
            numbers = _numbers(errors, None, form_key(NEW_FORM))
            submitted = st.form_submit_button(t("events.add_submit"), type="primary")
        if not submitted:
            return
        data = {"symbol": symbol, "kind": kind, "ex_date": _checked_date(NEW_FORM, when), **numbers}
        try:
            out = event_service.add_event(runtime.uow(), actor, data)
        except ValidationFailed as error:
            refuse(NEW_FORM, error, t)
        succeed(NEW_FORM, _done("events.added", out))


def _filters() -> dict[str, Any]:
    symbol_col, kind_col, dismissed_col = st.columns(3)
    symbol = symbol_col.text_input(
        t("events.filter_symbol"), max_chars=SYMBOL_MAX + 10, key="events_symbol"
    )
    kinds = (ALL, *EVENT_KINDS)
    kind = kind_col.selectbox(
        t("events.filter_kind"),
        kinds,
        format_func=lambda k: t("events.all_kinds" if k == ALL else f"event_kind.{k}"),
        key="events_kind",
    )
    dismissed = dismissed_col.checkbox(t("events.include_dismissed"), key="events_dismissed")
    return {
        "symbol": symbol or None,
        "kind": None if kind == ALL else kind,
        "include_dismissed": dismissed,
    }


st.title(t("events.title"))
runtime.show_flash()
with guarded(t):
    if not actor.is_admin:  # not registered for readers; refuse anyway if reached
        raise PermissionDenied()
    st.caption(t("events.intro"))
    found = event_service.list_events(runtime.uow(), actor, **_filters())
    if found:
        columns.table(events_frame(found), hide_index=True, width="stretch")
        _correct(found)
    else:
        st.info(t("events.empty"))
    _add()
