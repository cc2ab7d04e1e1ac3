"""Clients: search, filter by status, page through, and (admins) create, edit and delete."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import ValidationFailed
from core.formatting import format_number
from core.schemas import PAGE_SIZE_MAX, SEARCH_MAX, ClientOut, ClientPage
from core.services import clients as client_service
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.client_form import client_form
from dashboard.components.exports import download_button
from dashboard.components.feedback import guarded
from dashboard.components.form_outcome import attempted, refuse, succeed
from dashboard.components.markdown import escape_markdown
from dashboard.components.pick import select_by_id
from dashboard.components.tables import clients_config, clients_frame, picked_client

PAGE_SIZES = (10, 20, 50, PAGE_SIZE_MAX)
STATUS_FILTERS = ("all", "active", "inactive")
PAGE_KEY = "clients_page"
CONFIRM_KEY = "clients_confirm_delete"
TABLE_KEY = "clients_table"  # its selection: the row clicked
ROW_PX = 35  # st.dataframe's row height: show the whole page without an inner scrollbar

t = runtime.translator()
actor = runtime.principal()


def _int_param(name: str, default: int) -> int:
    try:
        return max(1, int(st.query_params.get(name, default)))
    except (TypeError, ValueError):
        return default


def _filters() -> tuple[str, str | None, int]:
    params = st.query_params
    status_param = params.get("status", "all")
    size_param = _int_param("size", 20)
    col_search, col_status, col_size = st.columns([4, 1, 1])
    search = col_search.text_input(
        t("clients.search"), value=params.get("q", ""), max_chars=SEARCH_MAX, key="clients_q"
    )
    status = col_status.selectbox(
        t("clients.status_filter"),
        STATUS_FILTERS,
        index=STATUS_FILTERS.index(status_param) if status_param in STATUS_FILTERS else 0,
        format_func=lambda s: t(f"status.{s}"),
        key="clients_status",
    )
    size = col_size.selectbox(
        t("clients.page_size"),
        PAGE_SIZES,
        index=PAGE_SIZES.index(size_param) if size_param in PAGE_SIZES else 1,
        key="clients_size",
    )
    # Filters live in the URL so a view can be shared; a new filter starts at page 1.
    filters = {"q": search, "status": status, "size": str(size)}
    if any(
        params.get(k, d) != v for (k, v), d in zip(filters.items(), ("", "all", "20"), strict=True)
    ):
        st.session_state[PAGE_KEY] = 1
    for key, value in filters.items():
        st.query_params[key] = value
    return search, None if status == "all" else status, size


def _load(search: str, status: str | None, size: int) -> ClientPage:
    page = st.session_state.get(PAGE_KEY) or _int_param("page", 1)
    query = {"search": search, "status": status, "page": page, "page_size": size}
    try:
        result = client_service.list_clients(runtime.uow(), query)
    except ValidationFailed as error:
        if "page" not in error.field_errors:
            raise
        pages = error.field_errors["page"][1]["pages"]
        st.info(t("clients.page_clamped", asked=page, page=pages))
        result = client_service.list_clients(runtime.uow(), {**query, "page": pages})
    st.session_state[PAGE_KEY] = result.page
    st.query_params["page"] = str(result.page)
    return result


def _pager(result: ClientPage) -> None:
    total = format_number(result.total, t.locale, 0)  # 13.791, not 13791
    st.caption(t("clients.total", total=total, page=result.page, pages=result.pages))
    if result.items:
        st.caption(t("clients.click_to_open"))
    prev_col, next_col, _ = st.columns([1, 1, 6])
    if prev_col.button(t("clients.prev"), disabled=result.page <= 1, key="clients_prev"):
        st.session_state[PAGE_KEY] = result.page - 1
        st.rerun()
    if next_col.button(t("clients.next"), disabled=result.page >= result.pages, key="clients_next"):
        st.session_state[PAGE_KEY] = result.page + 1
        st.rerun()


def _submit(form: str, values: dict[str, Any], client: ClientOut | None) -> None:
    try:
        if client is None:
            saved = client_service.create_client(runtime.uow(), actor, values)
            done = t("clients.created", name=escape_markdown(saved.name))
        else:
            saved = client_service.update_client(runtime.uow(), actor, client.id, values)
            done = t("clients.updated", name=escape_markdown(saved.name))
    except ValidationFailed as error:
        # Run again so the form draws each message under its field (it reads them first).
        refuse(form, error, t)
    succeed(form, done)


def _table(items: list[ClientOut]) -> None:
    """The page's clients; clicking a row opens that client's page."""
    event = columns.table(
        clients_frame(items, t),
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(items) + 1) + 3,
        column_config=clients_config(t),
        on_select="rerun",
        selection_mode="single-row",
        key=TABLE_KEY,
    )
    chosen = picked_client(event.selection.rows, items)
    if chosen is not None:
        st.switch_page("app_pages/client_detail.py", query_params={"client": str(chosen)})


def _open(items: list[ClientOut]) -> None:
    """Pick a client of this page and open their portfolio."""
    if not items:
        return
    by_id = {c.id: c for c in items}
    pick_col, link_col = st.columns([3, 1], vertical_alignment="bottom")
    chosen = select_by_id(
        t("detail.open"),
        {cid: f"{c.name} · {c.email}" for cid, c in by_id.items()},
        key="clients_open_pick",
        container=pick_col,
    )
    link_col.page_link(
        "app_pages/client_detail.py",
        label=t("detail.open"),
        icon=":material/account_balance_wallet:",
        query_params={"client": str(chosen)},
    )


def _export(search: str, status: str | None, total: int) -> None:
    """CSV and Excel downloads of every client of the current filter (not just the page)."""
    query = {"dataset": "clients", "search": search, "status": status}
    csv_col, xlsx_col, note_col = st.columns([1, 1, 4], vertical_alignment="center")
    for fmt, column in (("csv", csv_col), ("xlsx", xlsx_col)):
        download_button(
            f"export.{fmt}",
            make_uow=runtime.uow,
            actor=actor,
            queries=[query],
            fmt=fmt,
            t=t,
            key=f"clients_export_{fmt}",
            help_key=f"export.help.{fmt}",
            container=column,
        )
    note_col.caption(t("export.filtered", total=total))


def _create() -> None:
    with st.expander(t("clients.new"), expanded=attempted("client_new")):
        values = client_form("client_new", t, initial=None, submit_label=t("clients.create"))
        if values is not None:
            _submit("client_new", values, None)


def _edit(items: list[ClientOut]) -> None:
    if not items:
        return
    by_id = {c.id: c for c in items}
    forms = {cid: f"client_edit_{cid}" for cid in by_id}
    open_ = CONFIRM_KEY in st.session_state or attempted(*forms.values())
    with st.expander(t("clients.edit"), expanded=open_):
        chosen = select_by_id(
            t("clients.select"),
            {cid: f"{c.name} · {c.email}" for cid, c in by_id.items()},
            key="clients_edit_pick",
        )
        client = by_id[chosen]
        values = client_form(forms[chosen], t, initial=client, submit_label=t("clients.save"))
        if values is not None:
            _submit(forms[chosen], values, client)
        _delete(client)


def _delete(client: ClientOut) -> None:
    if st.session_state.get(CONFIRM_KEY) != client.id:
        if st.button(t("clients.delete"), key="clients_delete"):
            st.session_state[CONFIRM_KEY] = client.id
            st.rerun()
        return
    st.warning(t("clients.delete_confirm", name=escape_markdown(client.name)))
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button(t("clients.delete_yes"), type="primary", key="clients_delete_yes"):
        st.session_state.pop(CONFIRM_KEY, None)
        client_service.delete_client(runtime.uow(), actor, client.id)
        runtime.flash(t("clients.deleted", name=escape_markdown(client.name)))
        st.rerun()
    if no.button(t("clients.cancel"), key="clients_delete_no"):
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()


st.title(t("clients.title"))
runtime.show_flash()
with guarded(t):
    search, status, size = _filters()
    result = _load(search, status, size)
    if result.items:
        _table(result.items)
    else:
        st.info(t("clients.empty"))
    _pager(result)
    _export(search, status, result.total)
    _open(result.items)
    if actor.is_admin:
        _create()
        _edit(result.items)
