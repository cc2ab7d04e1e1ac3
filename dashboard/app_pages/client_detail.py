"""A client's portfolio: stored figures (value, return, TWR, IRR) as of the last close, live
figures per allocation, the positions from the ledger (one row per asset), the history and
allocation charts, income received per month, the ledger, and (admins) lot editing and the
ledger's forms (sells, typed income, editing or deleting a sell or an income).

The metrics and the history charts come from what the scheduler stored; the table, totals
and the allocation donut from live quotes. The charts are lazy tabs in a fragment of their
own: only the open tab's chart is drawn, and opening another reruns the charts alone. The
donut is drawn from the rows of the live fragment's last full run (the live fragment alone
refreshes every interval): weights move slowly, and redrawing a chart every few seconds
would reset the user's zoom. The positions are live too (drawn in
the fragment, after the lots); the income chart and the ledger are drawn on full runs from
the positions the fragment read, so a client whose ledger is empty gets neither.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.documents import format_document
from core.formatting import DASH, format_date
from core.market.port import QuoteBatch
from core.schemas import ClientOut
from core.services import clients as client_service
from core.services.figures import client_metrics
from core.services.movements import client_ledger
from core.services.portfolio import AllocationRow
from core.services.positions import PositionsView, ledger_mark
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.allocation_view import show_allocation
from dashboard.components.charts import allocation_charts
from dashboard.components.exports import download_button
from dashboard.components.feedback import (
    guarded,
    guarded_fragment,
)
from dashboard.components.history_charts import history_figures, kept_returns
from dashboard.components.income_chart import income_chart, income_frame
from dashboard.components.kept_ledger import live_lots, live_positions
from dashboard.components.ledger_view import (
    filtered,
    ledger_config,
    ledger_filters,
    ledger_frame,
)
from dashboard.components.lot_editor import add_lot, edit_lots
from dashboard.components.markdown import escape_markdown
from dashboard.components.market import (
    cache_caption,
    freshness_caption,
    quotes_freshness,
    source_banner,
)
from dashboard.components.metrics import metric_cards, mixes_currencies
from dashboard.components.movement_form import edit_form, income_form, sell_form
from dashboard.components.portfolio_table import (
    allocations_config,
    allocations_frame,
    reais_line,
    totals_lines,
)
from dashboard.components.positions_table import (
    oversold_count,
    position_totals_frame,
    positions_config,
    positions_frame,
    totals_config,
    weight_missing,
)
from dashboard.components.returns_view import show_returns
from dashboard.components.statement_download import statement_download

CHART_CONFIG = {"displaylogo": False}

t = runtime.translator()
actor = runtime.principal()
market = runtime.market()
interval_s = runtime.settings().live_interval_s


def _client_id() -> int | None:
    raw = st.query_params.get("client")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _pick_client() -> None:
    st.info(t("detail.choose"))
    query = st.text_input(t("assets.client_search"), max_chars=100, key="detail_clients_q")
    clients = client_service.list_clients(runtime.uow(), {"search": query, "page_size": 50}).items
    if not clients:
        st.info(t("clients.empty"))
        return
    by_id = {c.id: c for c in clients}
    chosen = st.selectbox(
        t("detail.pick"),
        list(by_id),
        format_func=lambda cid: f"{by_id[cid].name} · {by_id[cid].email}",
        key="detail_pick",
    )
    if st.button(t("detail.open"), key="detail_open"):
        st.query_params["client"] = str(chosen)
        st.rerun()


def _header(client: ClientOut) -> None:
    st.title(t("detail.title", name=escape_markdown(client.name)))
    parts = [escape_markdown(client.email), t(f"status.{client.status}")]
    if client.document:
        parts.insert(1, escape_markdown(format_document(client.document)))
    st.caption(" · ".join(parts))


def _figures(client_id: int, rows: list[AllocationRow]) -> None:
    """The stored metrics as of the last close, or why there are none yet."""
    metrics = client_metrics(runtime.uow(), client_id)
    if metrics is None:
        if rows:
            st.info(t("detail.no_figures"))
        return
    for column, (label, value, help_text) in zip(
        st.columns(4), metric_cards(metrics, t), strict=True
    ):
        column.metric(label, value, help=help_text)
    notes = [t("detail.metrics_as_of", date=format_date(metrics.as_of, t.locale))]
    if mixes_currencies(rows):
        notes.append(t("detail.mixed_currencies"))
    st.caption(" · ".join(notes))


@guarded_fragment(t)  # a tab switch reruns the charts alone, not the page
def _charts(client_id: int, rows: list[AllocationRow]) -> None:
    """History (value, TWR, daily returns) from stored figures, kept until they change
    (:mod:`~dashboard.components.history_charts`); allocation from live rows. Only the
    open tab's chart is drawn (lazy tabs): a page load draws one chart, not four."""
    history = history_figures(client_id, t)
    if not history and not rows:
        return
    value_tab, twr_tab, daily_tab, allocation_tab = st.tabs(
        [
            t("chart.tab.value"),
            t("chart.tab.twr"),
            t("chart.tab.daily"),
            t("chart.tab.allocation"),
        ],
        key=f"detail_chart_tab_{client_id}",
        on_change="rerun",
    )
    for index, tab in enumerate((value_tab, twr_tab, daily_tab)):
        if not tab.open:
            continue
        with tab:
            if history:
                st.plotly_chart(history[index], width="stretch", config=CHART_CONFIG)
            else:
                st.info(t("detail.charts_empty"))
    if allocation_tab.open:
        with allocation_tab:
            donuts = allocation_charts(rows, t)
            if not donuts:
                st.info(t("chart.no_priced"))
            for column, figure in zip(st.columns(len(donuts) or 1), donuts.values(), strict=False):
                column.plotly_chart(figure, width="stretch", config=CHART_CONFIG)


@guarded_fragment(t, run_every=interval_s)  # reruns alone: outside the page's guard
def _live(client_id: int) -> None:
    st.session_state.pop(_positions_key(client_id), None)  # set again once read
    mark = ledger_mark(runtime.uow(), client_id)
    view = live_lots(client_id, mark, market)
    st.session_state[_rows_key(client_id)] = view.rows
    if not view.rows:
        st.info(t("detail.no_allocations"))
        return
    for totals in view.totals:
        st.markdown(f"**{t('detail.totals_in', currency=escape_markdown(totals.currency))}**")
        cells = st.columns(4)
        for column, (label, value) in zip(cells, totals_lines(totals, t).items(), strict=True):
            column.metric(label, value)
        if totals.unpriced:
            st.caption(f":orange[{t('detail.unpriced', count=totals.unpriced)}]")
    in_reais = reais_line(view, t)
    if in_reais:
        st.markdown(in_reais)
    columns.table(
        allocations_frame(view.rows, t),
        hide_index=True,
        width="stretch",
        column_config=allocations_config(view.rows, t),
        placeholder=DASH,  # no quote: no price, no value (the note says why)
    )
    if view.cache:  # no quote on screen (none could be had): no update time to show
        freshness_caption(
            quotes_freshness(view.cache.values(), datetime.now(UTC), interval_s), interval_s, t
        )
    cache_caption(view.cache.values(), t)
    _positions(client_id, mark, view.quotes)


def _positions(client_id: int, mark: str, quotes: QuoteBatch | None) -> None:
    """One row per asset from the ledger, priced with the lots' quotes, with totals per
    currency."""
    view = live_positions(client_id, mark, market, quotes)
    st.session_state[_positions_key(client_id)] = view
    if not view.rows:
        return
    st.subheader(t("positions.title"))
    st.caption(t("positions.caption"))
    columns.table(
        positions_frame(view.rows, t),
        hide_index=True,
        width="stretch",
        column_config=positions_config(view.rows, t),
        placeholder=DASH,  # no quote, or an oversold ledger: the note says why
    )
    oversold = oversold_count(view.rows)
    if oversold:
        st.caption(f":orange[{t('positions.oversold_note', count=oversold)}]")
    if weight_missing(view):
        st.caption(f":orange[{t('positions.weight_missing')}]")
    st.markdown(f"**{t('positions.totals')}**")
    columns.table(
        position_totals_frame(view, t),
        hide_index=True,
        width="stretch",
        column_config=totals_config(t),
    )
    show_allocation(view, t)


def _positions_key(client_id: int) -> str:
    return f"detail_positions_{client_id}"


def _income(view: PositionsView) -> None:
    """Income received per month (net of tax), a bar chart and a table per currency."""
    if not view.income_by_month:
        return
    st.subheader(t("income.title"))
    st.caption(t("income.caption"))
    currencies = list(view.income_by_month.items())
    for column, (currency, by_month) in zip(st.columns(len(currencies)), currencies, strict=True):
        column.plotly_chart(
            income_chart(by_month, currency, t), width="stretch", config=CHART_CONFIG
        )
    columns.table(income_frame(view.income_by_month, t), hide_index=True)


def _ledger(client_id: int, view: PositionsView) -> None:
    """The ledger filtered by kind and ticker; for admins, its forms."""
    lines = client_ledger(runtime.uow(), actor, client_id)
    st.subheader(t("ledger.title"))
    symbols = sorted({row.symbol for row in view.rows})
    kind, symbol = ledger_filters(symbols, t, key="detail_ledger")
    shown = filtered(lines, kind, symbol)
    if shown:
        columns.table(
            ledger_frame(shown, t),
            hide_index=True,
            width="stretch",
            column_config=ledger_config(shown, t),
            placeholder="",  # an income has no quantity, a trade no tax
        )
    else:
        st.info(t("ledger.empty"))
    if not actor.is_admin:
        return
    held = sorted(row.symbol for row in view.rows if row.quantity > 0)
    sell_form(client_id, held, actor, t)
    income_form(client_id, symbols, actor, t)
    edit_form([line.movement for line in lines if line.movement is not None], actor, t)


def _exports(client_id: int) -> None:
    """This client's allocations (live figures) and daily returns: a CSV each, or both in
    one Excel workbook. Generated only when clicked."""
    st.subheader(t("export.title"))
    allocations = {"dataset": "allocations", "client_id": client_id}
    daily = {"dataset": "daily_returns", "client_id": client_id}
    buttons = (
        ("export.allocations_csv", [allocations], "csv", "export.help.csv"),
        ("export.daily_csv", [daily], "csv", "export.help.csv"),
        ("export.xlsx", [allocations, daily], "xlsx", "export.help.client_xlsx"),
    )
    for column, (label, queries, fmt, help_key) in zip(
        st.columns([1, 1, 1, 1]), buttons, strict=False
    ):
        download_button(
            label,
            make_uow=runtime.uow,
            market=market,
            actor=actor,
            queries=queries,
            fmt=fmt,
            t=t,
            key=f"detail_{label.replace('.', '_')}",
            help_key=help_key,
            container=column,
        )


def _rows_key(client_id: int) -> str:
    return f"detail_rows_{client_id}"


runtime.show_flash()
with guarded(t):
    client_id = _client_id()
    if client_id is None:
        st.title(t("nav.client_detail"))
        _pick_client()
    else:
        client = client_service.get_client(runtime.uow(), client_id)
        _header(client)
        source_banner(market.name, t)
        figures_slot = st.container()  # filled once the live rows are known
        _live(client_id)
        rows = st.session_state.get(_rows_key(client_id), [])
        with figures_slot:
            _figures(client_id, rows)
            show_returns(kept_returns(client_id), t)
        _charts(client_id, rows)
        positions = st.session_state.get(_positions_key(client_id))
        if positions is not None and positions.rows:
            _income(positions)
            _ledger(client_id, positions)
        _exports(client_id)
        statement_download(client_id, market, actor, t)
        if actor.is_admin:
            add_lot(client_id, market, actor, t)
            edit_lots(rows, actor, t)
