"""Assets: search Yahoo Finance (or the demo catalogue) and add a result to a client."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.errors import ValidationFailed
from core.market.port import SymbolMatch
from core.market.symbols import search_query
from core.services import allocations as allocation_service
from core.services import clients as client_service
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.asset_classes_view import show_asset_classes
from dashboard.components.feedback import guarded, show_field_errors
from dashboard.components.form_outcome import form_errors, form_key, refuse, succeed
from dashboard.components.lot_form import history_note, lot_inputs, read_lot
from dashboard.components.markdown import escape_markdown
from dashboard.components.market import cache_caption, source_banner
from dashboard.components.pick import select_by_id
from dashboard.components.tables import asset_type_label

MIN_CHARS = 2
MAX_CHARS = 60
RESULTS = 10
ADD_FORM = "assets_add"

t = runtime.translator()
actor = runtime.principal()
market = runtime.market()


def _results(query: str) -> list[SymbolMatch]:
    """Show the matches for ``query`` (a bare B3 code is searched as its listing: ``petr4``
    finds ``PETR4.SA``, as the lot forms store it) and return them."""
    result = market.search(search_query(query), RESULTS)
    if not result.matches:
        st.info(t("assets.no_results", query=escape_markdown(query)))
        return []
    frame = pd.DataFrame(
        [
            {
                t("col.ticker"): m.symbol,
                t("assets.name"): m.name,
                t("assets.exchange"): m.exchange or "—",
                t("assets.type"): asset_type_label(m.asset_type, t),
                t("assets.currency"): m.currency or "—",
            }
            for m in result.matches
        ]
    )
    columns.table(frame, hide_index=True, width="stretch")
    if result.cache:
        cache_caption([result.cache], t)
    return result.matches


def _add(matches: list[SymbolMatch]) -> None:
    errors = form_errors(ADD_FORM)
    st.subheader(t("assets.add"))
    by_symbol = {m.symbol: m for m in matches}
    symbol = st.selectbox(
        t("assets.pick"),
        list(by_symbol),
        format_func=lambda s: f"{s} · {by_symbol[s].name}",
        key="assets_pick",
    )
    client_filter = st.text_input(t("assets.client_search"), max_chars=100, key="assets_clients_q")
    clients = client_service.list_clients(
        runtime.uow(), {"search": client_filter, "status": "active", "page_size": 50}
    ).items
    if not clients:
        st.info(t("assets.no_clients"))
        return
    by_id = {c.id: c for c in clients}
    if errors:
        show_field_errors(errors, t)
    with st.form(form_key(ADD_FORM)):  # a new key after each success: the form starts empty
        client_id = select_by_id(  # keyed: the client stays chosen for the next lot
            t("assets.client"),
            {cid: f"{c.name} · {c.email}" for cid, c in by_id.items()},
            key="assets_add_client",
        )
        values = lot_inputs(t, errors)
        submitted = st.form_submit_button(t("detail.save"), type="primary")
    if not submitted:
        return
    match = by_symbol[symbol]
    try:
        lot = read_lot(values)
        added = allocation_service.add_allocation(
            runtime.uow(), market, actor, client_id, asdict(match), lot
        )
    except ValidationFailed as error:
        refuse(ADD_FORM, error, t)  # run again: each message is drawn under its field
    added_text = t(
        "assets.added",
        quantity=escape_markdown(values["quantity"]),
        symbol=escape_markdown(added.symbol),
        client=escape_markdown(by_id[client_id].name),
    )
    note = history_note(added, market, actor, t)  # a new ticker's closes, at once
    succeed(ADD_FORM, f"{added_text} {note}".strip())


st.title(t("assets.title"))
runtime.show_flash()
with guarded(t):
    source_banner(market.name, t)
    query = st.text_input(t("assets.search"), max_chars=MAX_CHARS, key="assets_q").strip()
    if len(query) < MIN_CHARS:
        st.caption(t("assets.min_chars"))
    else:
        found = _results(query)
        if found and actor.is_admin:
            _add(found)
    show_asset_classes(actor, t)
