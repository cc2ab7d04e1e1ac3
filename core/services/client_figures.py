"""Figures always current: a ledger change recomputes its clients at once.

A change to a client's ledger (a buy, sell or income added, edited or deleted; an import)
marks the client's figures stale from the change's earliest date
(:meth:`core.repositories.figures.FigureRepository.invalidate`). Before the unit of work commits,
:func:`refresh_stale` recomputes those clients' daily series and metrics from there up to
the day every other client's figures are stored through — with the closes already stored,
the same computation as the scheduler (:mod:`core.services.recompute`) — and writes them in
the same transaction as the change. Other sessions keep seeing the previous figures until
that commit, never "not computed yet", and the client never drops out of the overview.

Nothing here asks market data: a ticker with no stored close yet is valued at its buy price
until its history is fetched — by the page right after the buy is saved
(:mod:`core.services.asset_history`), else by the scheduler's next run. If the
recomputation fails (no stored exchange rate for a new currency, say), the change still
commits: the figures stay invalidated from that date, the scheduler's next run computes
them, and the log says why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

import numpy as np

from core import calendars
from core.analytics.entries import ledger_entries, split_matrix
from core.analytics.metrics import client_metrics
from core.analytics.returns import (
    book_from_entries,
    carried_closes_and_days,
    portfolio_series,
)
from core.db import UnitOfWork
from core.repositories.figures import DAILY_COLUMNS, STALE, THROUGH
from core.services.recompute import Unstorable, in_reais, state_before

log = logging.getLogger(__name__)


def refresh_stale(uow: UnitOfWork) -> int:
    """Recompute the clients the unit of work marked stale (see the module docstring);
    returns the rows written. Runs in a savepoint: on failure it rolls back to the
    invalidation."""
    stale: dict[int, date] = uow.session.info.pop(STALE, {})
    through: date | None = uow.session.info.pop(THROUGH, None)
    if not stale:
        return 0
    try:
        with uow.savepoint():
            return refresh_clients(uow, stale, through=through)
    except Exception:  # logged, never raised: the ledger change itself must go through
        log.exception("figures of clients %s left for the scheduler", sorted(stale))
        return 0


def refresh_clients(
    uow: UnitOfWork, since: Mapping[int, date], *, through: date | None = None
) -> int:
    """Recompute the figures of the clients in ``since`` from their date on, through
    ``through`` (by default the latest day stored for anyone, or the latest stored close
    when no figures are stored yet), and replace them."""
    # ``through`` is read before the stale figures were deleted (they might have been the
    # latest anyone had); without it, now.
    through = through or uow.figures.latest_day() or uow.prices.latest_day()
    if through is None:  # nothing computed nor fetched yet: the scheduler's first run does it
        return 0
    ids = sorted(since)
    snapshot = uow.ledger.book_snapshot(ids)
    entries, splits, _oversold = ledger_entries(snapshot.movements, snapshot.events)
    if not len(entries["client_id"]) or min(since.values()) > through:
        uow.figures.replace_clients(since, _no_rows(), None, None)
        return 0
    entries, rates_on = in_reais(uow, entries, snapshot.currencies, {}, through)
    book = book_from_entries(entries)
    first = book.day[book.group_starts]  # each client's first entry
    start = max(min(since.values()), first.min().item())
    days = calendars.sessions(start, through)
    if not days:
        uow.figures.replace_clients(since, _no_rows(), None, None)
        return 0
    stored = uow.figures.series_state(days[0], [int(c) for c in book.client_ids])
    state = state_before(stored, book, days[0])
    closes = uow.prices.closes_columns(list(book.asset_ids), days[0], days[-1])
    matrix, close_days = carried_closes_and_days(closes, days, book.asset_ids)
    frame, state = portfolio_series(
        book,
        matrix,
        days,
        state,
        rates_on(days),
        close_days,
        split_matrix(splits, days, book.asset_ids),
    )
    metrics = client_metrics(book, state, days[-1])
    unstorable = Unstorable()
    frame = unstorable.daily(frame)
    metrics = unstorable.metrics(metrics, days[-1])
    if unstorable.found:  # the scheduler's next run names them in its record
        log.warning("figures not stored for clients %s", sorted(unstorable.since))
    redo = {client_id: min(day, days[0]) for client_id, day in since.items()}
    return uow.figures.replace_clients(redo, frame, metrics, days[-1])


def _no_rows() -> dict[str, np.ndarray]:
    return {name: np.zeros(0) for name in DAILY_COLUMNS}
