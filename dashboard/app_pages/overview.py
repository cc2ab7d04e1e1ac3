"""Overview (the landing page): assets under management, clients, today's movers, latest runs.

Assets under management is the plain sum of the market values the scheduler stored at its
latest close, labelled in reais (the book is B3; other currencies are added unconverted and
the help text says so). Movers come from one batched quote call over the held tickers.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.formatting import DASH, format_date
from core.services.figures import Mover, overview
from core.services.job_runs import latest_runs
from core.services.office_returns import office_returns
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.feedback import guarded
from dashboard.components.job_runs import runs_config, runs_frame
from dashboard.components.market import source_banner
from dashboard.components.metrics import FIGURES_CURRENCY
from dashboard.components.portfolio_table import money, movers_config, movers_frame
from dashboard.components.returns_view import show_office_returns

MOVERS = 5
RUNS = 5

t = runtime.translator()
market = runtime.market()


def _movers(column: DeltaGenerator, title_key: str, movers: list[Mover], empty_key: str) -> None:
    with column:
        st.subheader(t(title_key))
        if movers:
            columns.table(
                movers_frame(movers, t),
                hide_index=True,
                width="stretch",
                column_config=movers_config(t),
            )
        else:
            st.caption(t(empty_key))


def _office() -> None:
    office = overview(runtime.uow(), market, movers=MOVERS)
    aum_col, clients_col = st.columns(2)
    if office.aum_as_of is None:
        aum_col.metric(t("overview.aum"), DASH, help=t("overview.aum_help"))
        aum_col.caption(t("overview.no_figures"))
    else:
        aum_col.metric(
            t("overview.aum"),
            money(office.assets_under_management, FIGURES_CURRENCY, t),
            help=t("overview.aum_help"),
        )
        aum_col.caption(t("overview.as_of", date=format_date(office.aum_as_of, t.locale)))
    clients_col.metric(t("overview.clients"), f"{office.active_clients} / {office.clients}")
    best_col, worst_col = st.columns(2)
    _movers(best_col, "overview.best", office.best, "overview.no_best")
    _movers(worst_col, "overview.worst", office.worst, "overview.no_worst")
    if office.unpriced:
        st.caption(f":orange[{t('overview.unpriced', count=office.unpriced)}]")


def _runs() -> None:
    st.subheader(t("overview.runs"))
    runs = latest_runs(runtime.engine(), limit=RUNS)
    if runs:
        columns.table(
            runs_frame(runs, t, compact=True),
            hide_index=True,
            width="stretch",
            column_config=runs_config(t),
            placeholder=DASH,  # a run still going has no finish time
        )
    else:
        st.caption(t("overview.no_runs"))


st.title(t("overview.title"))
source_banner(market.name, t)
# Two guarded blocks: a market-data failure must not hide the job runs, nor the reverse.
with guarded(t):
    _office()
with guarded(t):
    show_office_returns(office_returns(runtime.uow()), t)
with guarded(t):
    _runs()
