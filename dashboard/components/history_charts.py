"""The client page's history charts (value, cumulative TWR, daily returns) and its returns
beside the benchmarks, built once per version of the stored series and kept in the server
process.

The charts come from the days the scheduler stored, which change once per close (or when
a ledger edit has a client's figures recomputed); without a cache every full run of the
client page (any click on it) would read the whole series again and build the three
figures again, point by point. They are kept with :func:`streamlit.cache_resource`, which
hands back the very objects it stored: ``st.cache_data`` would unpickle a copy on every
hit, and unpickling a plotly figure costs about as much as building it. The key is the
client, the series' :class:`~core.services.figures.HistoryVersion` (one small aggregate
query a run: the number of days, the latest, a checksum of the rows) and the locale, so a
new close or a recompute is drawn at once and nothing stale is ever shown; the benchmark
lines on the TWR chart join the key with the benchmarks' own version (a new or revised
value redraws them); anything else drawn into these figures must join it too; a few dozen sets at
most are kept, for an hour. Whoever gets the figures must not change them
(``st.plotly_chart`` only reads them). The live part of the page (current prices) is a
fragment that reruns on its own and never reaches these charts.
"""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import streamlit as st

from core.i18n import Translator
from core.services.figures import HistoryVersion, client_history, history_version
from core.services.period_returns import (
    ClientReturns,
    benchmarks_version,
    client_benchmark_curves,
    client_returns,
)
from dashboard import runtime
from dashboard.components import charts

MAX_ENTRIES = 32
TTL = timedelta(hours=1)


@st.cache_resource(max_entries=MAX_ENTRIES, ttl=TTL, show_spinner=False)
def _built(
    client_id: int, version: HistoryVersion, benchmarks: tuple[int, str], locale: str
) -> tuple[go.Figure, ...]:
    """The three figures of the client's stored series as of ``version`` (none without
    stored days), the TWR with the benchmarks beside it as of ``benchmarks``; both
    versions are only the cache key."""
    if not version.days:
        return ()
    history = client_history(runtime.uow(), client_id)
    curves = client_benchmark_curves(runtime.uow(), [point.date for point in history])
    t = Translator(locale)
    # Looked up on the module at call time, so a test can count the builds.
    return (
        charts.value_chart(history, t),
        charts.twr_chart(history, t, curves),
        charts.daily_returns_chart(history, t),
    )


def history_figures(client_id: int, t: Translator) -> tuple[go.Figure, ...]:
    """The value, TWR and daily-return figures of the client's stored days, in ``t``'s
    language; empty before the client's first close."""
    version = history_version(runtime.uow(), client_id)
    return _built(client_id, version, benchmarks_version(runtime.uow()), t.locale)


@st.cache_resource(max_entries=MAX_ENTRIES, ttl=TTL, show_spinner=False)
def _returns(client_id: int, version: HistoryVersion, benchmarks: tuple[int, str]) -> ClientReturns:
    """The client's returns over the periods and the monthly grid as of ``version`` and
    ``benchmarks`` (only the cache key): they are computed from nothing else."""
    return client_returns(runtime.uow(), client_id)


def kept_returns(client_id: int) -> ClientReturns:
    """The client's returns beside CDI, Ibovespa and IPCA, computed once per version of
    the stored series and of the benchmarks (whoever gets them must not change them)."""
    version = history_version(runtime.uow(), client_id)
    return _returns(client_id, version, benchmarks_version(runtime.uow()))


def forget() -> None:
    """Drop every kept figure and return (tests start from an empty cache)."""
    _built.clear()
    _returns.clear()
