"""Reports (every role): export clients, allocations with live figures, daily returns, the
portfolio summary, the ledger (every movement) or positions (from the ledger, with live
figures), as CSV or as an Excel workbook with a summary sheet; the monthly statements the
scheduler stored, and a client's statement for any period on demand
(:mod:`dashboard.components.stored_statements`).

The choices are validated while the page is drawn (a bad date range shows its message and
no buttons); the files are generated only when a download button is clicked (see
:mod:`dashboard.components.exports`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from core.errors import ValidationFailed
from core.exports.datasets import DATASET_NAMES
from core.formatting import format_number
from core.schemas import SEARCH_MAX
from core.services import clients as client_service
from core.services import exports as export_service
from core.trade_schemas import today_in_brazil
from dashboard import runtime
from dashboard.components.date_field import date_field
from dashboard.components.exports import download_button
from dashboard.components.feedback import guarded
from dashboard.components.market import source_banner
from dashboard.components.stored_statements import on_demand, stored_list

STATUS_FILTERS = ("all", "active", "inactive")
PICK_LIMIT = 50

t = runtime.translator()
actor = runtime.principal()
market = runtime.market()


def _client_filters() -> dict[str, Any]:
    search_col, status_col = st.columns([3, 1])
    search = search_col.text_input(t("clients.search"), max_chars=SEARCH_MAX, key="reports_q")
    status = status_col.selectbox(
        t("clients.status_filter"),
        STATUS_FILTERS,
        format_func=lambda s: t(f"status.{s}"),
        key="reports_status",
    )
    return {"search": search, "status": None if status == "all" else status}


def _client_pick(prefix: str = "reports") -> int | None:
    """One client (found by a contains-search) or every client; ``prefix`` names the
    widgets' keys and labels (the exports' and the statements' are told apart)."""
    search_col, pick_col = st.columns([2, 3])
    search = search_col.text_input(
        t(f"{prefix}.client_search"), max_chars=SEARCH_MAX, key=f"{prefix}_client_q"
    )
    found = client_service.list_clients(
        runtime.uow(), {"search": search, "page_size": PICK_LIMIT}
    ).items
    by_id = {c.id: c for c in found}
    options: list[int | None] = [None, *by_id]
    return pick_col.selectbox(
        t(f"{prefix}.client"),
        options,
        format_func=lambda cid: (
            t(f"{prefix}.all_clients") if cid is None else f"{by_id[cid].name} · {by_id[cid].email}"
        ),
        key=f"{prefix}_client",
    )


def _dates() -> dict[str, date | None]:
    """The typed range (either end may be blank); an unreadable date refuses the choice."""
    start_col, end_col = st.columns(2)
    with start_col:
        start = date_field(t("reports.start"), "start", t, key="reports_start", required=False)
    with end_col:
        end = date_field(t("reports.end"), "end", t, key="reports_end", required=False)
    if start.problem or end.problem:
        raise ValidationFailed(start.field_errors | end.field_errors)  # its message, no buttons
    return {"start": start.value, "end": end.value}


st.title(t("reports.title"))
st.caption(t("reports.intro"))
with guarded(t):
    dataset = st.selectbox(
        t("reports.dataset"),
        DATASET_NAMES,
        format_func=lambda d: t(f"export.dataset.{d}"),
        key="reports_dataset",
    )
    st.caption(t(f"reports.hint.{dataset}"))
    query: dict[str, Any] = {"dataset": dataset}
    if dataset in ("clients", "portfolio_summary"):
        query |= _client_filters()
    else:
        query["client_id"] = _client_pick()
        if dataset == "daily_returns":
            query |= _dates()
    if dataset in export_service.PRICED:
        source_banner(market.name, t)
    export_service.check_queries([query], "csv")  # a refused choice: its message, no buttons
    rows = (
        export_service.daily_rows(runtime.uow(), query)
        if dataset == "daily_returns" and query["client_id"] is None
        else 0
    )
    if rows > export_service.DASHBOARD_MAX_ROWS:
        limit = format_number(export_service.DASHBOARD_MAX_ROWS, t.locale, 0)
        st.warning(t("export.too_large", rows=format_number(rows, t.locale, 0), max=limit))
    else:
        csv_col, xlsx_col, _ = st.columns([1, 1, 3])
        for fmt, column in (("csv", csv_col), ("xlsx", xlsx_col)):
            download_button(
                f"export.{fmt}",
                make_uow=runtime.uow,
                market=market,
                actor=actor,
                queries=[query],
                fmt=fmt,
                t=t,
                key=f"reports_{fmt}",
                help_key=f"export.help.{fmt}",
                container=column,
            )

st.divider()
with guarded(t):
    st.header(t("statements.title"))
    st.caption(t("statements.intro"))
    statement_client = _client_pick("statements")
    stored_list(actor, statement_client, t)
    on_demand(market, actor, statement_client, today_in_brazil(), t)
