"""Assets: search Yahoo Finance (or the demo catalogue) and add a result to a client."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.errors import ValidationFailed
from core.market.port import SymbolMatch
from core.services import allocations as allocation_service
from core.services import clients as client_service
from dashboard import runtime
from dashboard.components.feedback import guarded, show_field_errors, translate_field_errors
from dashboard.components.lot_form import lot_inputs
from dashboard.components.market import cache_caption, source_banner

MIN_CHARS = 2
MAX_CHARS = 60
RESULTS = 10
ADD_ERRORS = "assets_add_errors"

t = runtime.translator()
actor = runtime.principal()
market = runtime.market()


def _results(query: str) -> list[SymbolMatch]:
    result = market.search(query, RESULTS)
    if not result.matches:
        st.info(t("assets.no_results", query=query))
        return []
    frame = pd.DataFrame(
        [
            {
                t("col.ticker"): m.symbol,
                t("assets.name"): m.name,
                t("assets.exchange"): m.exchange or "—",
                t("assets.type"): m.asset_type or "—",
                t("assets.currency"): m.currency or "—",
            }
            for m in result.matches
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    if result.cache:
        cache_caption([result.cache], t)
    return result.matches


def _add(matches: list[SymbolMatch]) -> None:
    errors = st.session_state.get(ADD_ERRORS, {})
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
    with st.form("assets_add"):
        client_id = st.selectbox(
            t("assets.client"),
            list(by_id),
            format_func=lambda cid: f"{by_id[cid].name} · {by_id[cid].email}",
        )
        values = lot_inputs(t, errors)
        submitted = st.form_submit_button(t("detail.save"), type="primary")
    if not submitted:
        return
    match = by_symbol[symbol]
    try:
        added = allocation_service.add_allocation(
            runtime.uow(), market, actor, client_id, asdict(match), values
        )
    except ValidationFailed as error:
        # Run again so each message is drawn under its field (read before the form).
        st.session_state[ADD_ERRORS] = translate_field_errors(error, t)
        st.rerun()
    st.session_state.pop(ADD_ERRORS, None)
    runtime.flash(
        t(
            "assets.added",
            quantity=values["quantity"],
            symbol=added.symbol,
            client=by_id[client_id].name,
        )
    )
    st.rerun()


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
