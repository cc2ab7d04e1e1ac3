"""The client page's lots and positions before prices, kept in the server process per
ledger mark, so a live refresh only prices them.

A live refresh (every few seconds, per open client page) used to read the client's lots,
movements and events and walk the ledger again, though they change only when someone
edits them. Here what they give (:class:`~core.services.portfolio.LotBases`,
:class:`~core.services.positions.PositionBases`) is kept with
:func:`streamlit.cache_resource` against the client's ledger mark
(:func:`core.services.positions.ledger_mark`: one small query a refresh, a hash over the
client's row, movements, their assets and the assets' events that PostgreSQL computes), so
an edit, an event or an asset's class correction is priced at the next refresh and nothing
stale is shown. The kept objects are immutable; whoever gets them prices copies.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from core.market.port import MarketData, QuoteBatch
from core.services.portfolio import LotBases, PortfolioView, lot_bases, price_lots
from core.services.positions import PositionBases, PositionsView, position_bases, price_positions
from dashboard import runtime

MAX_ENTRIES = 64
TTL = timedelta(hours=1)


@st.cache_resource(max_entries=MAX_ENTRIES, ttl=TTL, show_spinner=False)
def _lots(client_id: int, mark: str) -> LotBases:
    """The client's lots as of ``mark`` (only the cache key)."""
    return lot_bases(runtime.uow(), client_id)


@st.cache_resource(max_entries=MAX_ENTRIES, ttl=TTL, show_spinner=False)
def _positions(client_id: int, mark: str) -> PositionBases:
    """The client's ledger walked as of ``mark`` (only the cache key)."""
    return position_bases(runtime.uow(), client_id)


def live_lots(client_id: int, mark: str, market: MarketData) -> PortfolioView:
    """The client's lots priced now."""
    return price_lots(_lots(client_id, mark), market)


def live_positions(
    client_id: int, mark: str, market: MarketData, quotes: QuoteBatch | None
) -> PositionsView:
    """The client's positions priced now (with the lots' ``quotes`` when they cover them)."""
    return price_positions(_positions(client_id, mark), market, quotes=quotes)


def forget() -> None:
    """Drop every kept lot and position (tests start from an empty cache)."""
    _lots.clear()
    _positions.clear()
