"""The client page's history charts (value, cumulative TWR, daily returns), built once per
version of the stored series and kept in the server process.

The charts come from the days the scheduler stored, which change once per close (or when
a ledger edit has a client's figures recomputed); without a cache every full run of the
client page (any click on it) would read the whole series again and build the three
figures again, point by point. They are kept with :func:`streamlit.cache_resource`, which
hands back the very objects it stored: ``st.cache_data`` would unpickle a copy on every
hit, and unpickling a plotly figure costs about as much as building it. The key is the
client, the series' :class:`~core.services.figures.HistoryVersion` (one small aggregate
query a run: the number of days, the latest, a checksum of the rows) and the locale, so a
new close or a recompute is drawn at once and nothing stale is ever shown (anything else
drawn into these figures, benchmark lines say, must join the key); a few dozen sets at
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
from dashboard import runtime
from dashboard.components import charts

MAX_ENTRIES = 32
TTL = timedelta(hours=1)


@st.cache_resource(max_entries=MAX_ENTRIES, ttl=TTL, show_spinner=False)
def _built(client_id: int, version: HistoryVersion, locale: str) -> tuple[go.Figure, ...]:
    """The three figures of the client's stored series as of ``version`` (none without
    stored days); ``version`` is only the cache key."""
    if not version.days:
        return ()
    history = client_history(runtime.uow(), client_id)
    t = Translator(locale)
    # Looked up on the module at call time, so a test can count the builds.
    builders = (charts.value_chart, charts.twr_chart, charts.daily_returns_chart)
    return tuple(build(history, t) for build in builders)


def history_figures(client_id: int, t: Translator) -> tuple[go.Figure, ...]:
    """The value, TWR and daily-return figures of the client's stored days, in ``t``'s
    language; empty before the client's first close."""
    return _built(client_id, history_version(runtime.uow(), client_id), t.locale)


def forget() -> None:
    """Drop every kept figure (tests start from an empty cache)."""
    _built.clear()
