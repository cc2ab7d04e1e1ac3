"""Recomputing every client's figures from the closes: the scheduler's write path.

Days run from the earliest day some client lacks (or a given day) to the run's last day,
over B3 sessions, in chunks of dates; each chunk is one transaction with its closes and its
daily returns, and the last one also stores the metrics. Figures are in reais: lots in
another currency are converted with the daily closes of that currency's rate series
(``USDBRL=X``), at each day's rate for values and the buy date's rate for the money put in
(:mod:`core.analytics.fx`). A run without any rate for a currency somebody holds fails and
writes nothing, rather than adding dollars to reais.

One client's figures that its columns cannot hold (a market value of 10^12 reais or more,
a return beyond 10^12) are not written from the first such day on; every other client's
are, and the run names that client with the value that did not fit (partial). The next run
starts that client again from its last stored day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

import numpy as np

from core import calendars
from core.analytics import fx
from core.analytics.entries import ledger_entries, split_matrix
from core.analytics.metrics import client_metrics
from core.analytics.returns import (
    Book,
    Columns,
    SeriesState,
    book_from_entries,
    carried_closes_and_days,
    portfolio_series,
    positions_in,
)
from core.db import UnitOfWork
from core.limits import money_fits_array, ratio_fits_array
from core.repositories.figures import LotsChanged, StoredDays
from core.services.closes import Closes
from core.services.job_runs import RunReport, UnstoredClient

log = logging.getLogger(__name__)

CHUNK_DAYS = 20  # days computed together in memory during long recomputations
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()  # datetime64[D] counts days from here
Progress = Callable[[int, int], None]
# What each stored figure's column holds: Money (numeric(20, 8)) or Ratio (numeric(24, 12)).
DAILY_LIMITS = {
    "market_value": money_fits_array,
    "flow_in": money_fits_array,
    "flow_out": money_fits_array,
    "income": money_fits_array,
    "daily_return": ratio_fits_array,
    "cumulative_twr": ratio_fits_array,
}
METRIC_LIMITS = {
    "market_value": money_fits_array,
    "invested": money_fits_array,
    "accumulated_return": ratio_fits_array,
    "twr": ratio_fits_array,
}


class RatesMissing(RuntimeError):
    """Somebody holds an asset in a currency whose exchange rate has no close at all."""


def _noop(_done: int, _total: int) -> None:
    return None


class Unstorable:
    """The clients whose figures do not fit their columns, and from which day: their rows
    are held back from that day on, everyone else's go through."""

    def __init__(self) -> None:
        self.since: dict[int, date] = {}
        self.found: list[tuple[int, date, str, float]] = []

    def _mark(
        self, client_ids: np.ndarray, days: np.ndarray, column: str, values: np.ndarray
    ) -> None:
        for client_id, day, value in zip(
            client_ids.tolist(), days.tolist(), values.tolist(), strict=True
        ):
            if client_id not in self.since or day < self.since[client_id]:
                if client_id not in self.since:
                    self.found.append((client_id, day, column, float(value)))
                self.since[client_id] = day

    def daily(self, frame: Columns) -> Columns:
        """``frame`` without the rows of clients whose figures do not fit, from the first
        such day on."""
        for column, fits in DAILY_LIMITS.items():
            bad = ~fits(np.asarray(frame[column], dtype=float))
            if bad.any():
                self._mark(frame["client_id"][bad], frame["date"][bad], column, frame[column][bad])
        return self._drop(frame, frame["date"])

    def metrics(self, metrics: Columns, day: date) -> Columns:
        """``metrics`` (as of ``day``) without the clients that do not fit."""
        for column, fits in METRIC_LIMITS.items():
            values = np.array([np.nan if v is None else v for v in metrics[column]], dtype=float)
            defined = np.array([v is not None for v in metrics[column]], dtype=bool)
            bad = defined & ~fits(values)
            if bad.any():
                days = np.array([day] * int(bad.sum()), dtype=object)
                self._mark(metrics["client_id"][bad], days, column, values[bad])
        return self._drop(metrics, np.array([day] * len(metrics["client_id"]), dtype=object))

    def _drop(self, table: Columns, days: np.ndarray) -> Columns:
        if not self.since:
            return table
        ids = np.asarray(table["client_id"])
        suspect = np.isin(ids, np.fromiter(self.since, dtype=np.int64, count=len(self.since)))
        keep = np.ones(len(ids), dtype=bool)
        for row in np.flatnonzero(suspect).tolist():
            keep[row] = days[row] < self.since[int(ids[row])]
        return {name: np.asarray(values)[keep] for name, values in table.items()}

    def report(self, uow: UnitOfWork, report: RunReport) -> None:
        """Name the clients held back in ``report``, with the value that did not fit."""
        names = uow.clients.names([client_id for client_id, *_ in self.found])
        report.unstored = [
            UnstoredClient(client_id, names.get(client_id, ""), self.since[client_id], col, val)
            for client_id, _day, col, val in sorted(self.found)
        ]


def in_reais(
    uow: UnitOfWork,
    lots: Columns,
    currencies: dict[int, str | None],
    fetched: Closes,
    through: date,
) -> tuple[Columns, Callable[[Sequence[date]], np.ndarray | None]]:
    """Entries with the column of their currency and their day's rate, and a function
    giving the rates matrix for a list of days (None when every entry is in reais).
    ``currencies`` maps the held assets to their currency."""
    pairs = fx.pairs_for(currencies.values())
    if not pairs:
        return lots, lambda _days: None
    ids = uow.prices.asset_ids_for(sorted({pair.symbol for pair in pairs}))
    missing = sorted({pair.symbol for pair in pairs if pair.symbol not in ids})
    series_ids = np.array([ids.get(pair.symbol, -1) for pair in pairs], dtype=np.int64)
    factors = np.array([pair.factor for pair in pairs])
    buy_dates = lots["day"]  # datetime64[D]
    present = {i for i in series_ids.tolist() if i >= 0}
    stored = uow.prices.closes_columns(sorted(present), buy_dates.min().item(), through)
    rate_closes = _merge(stored, {k: v for k, v in fetched.items() if k[0] in present})
    column_of = {pair.currency: k for k, pair in enumerate(pairs)}
    assets, asset_of_lot = np.unique(lots["asset_id"], return_inverse=True)
    columns = np.array(
        [column_of.get(currencies.get(a), -1) for a in assets.tolist()], dtype=np.int64
    )[asset_of_lot]

    def rates(days: Sequence[date]) -> np.ndarray:
        return fx.rates_on(rate_closes, days, series_ids, factors)

    buy_days = np.unique(buy_dates)
    on_buy = rates(buy_days.astype(object).tolist())
    unknown = np.isnan(on_buy).all(axis=0)
    missing += [pairs[k].symbol for k in np.flatnonzero(unknown) if (columns == k).any()]
    if missing:
        raise RatesMissing(f"no exchange rate known for {', '.join(sorted(set(missing)))}")
    row = np.searchsorted(buy_days, buy_dates)
    buy_rate = np.where(columns >= 0, on_buy[row, np.maximum(columns, 0)], 1.0)
    return {**lots, "fx_column": columns, "day_rate": buy_rate}, rates


def _start_day(last: StoredDays, book: Book, floor: date | None) -> date:
    """The first day some client lacks: the day after its last stored day, or its first
    buy; never after ``floor`` (the earliest newly fetched close, or a backfill's start)."""
    starts = book.day[book.group_starts].copy()  # entries are sorted by day in a client
    position, known = positions_in(book.client_ids, last.client_ids)
    starts[position[known]] = last.dates[known] + np.timedelta64(1, "D")
    start: date = starts.min().item()
    return min(start, floor) if floor else start


def state_before(stored: StoredDays, book: Book, before: date) -> SeriesState:
    """Each client's market value and growth as stored on its last day before ``before``."""
    state = SeriesState.empty(book)
    market_value, growth = state.market_value.copy(), state.growth.copy()
    position, known = positions_in(book.client_ids, stored.client_ids)
    market_value[position[known]] = stored.market_value[known]
    growth[position[known]] = 1.0 + stored.cumulative_twr[known]
    return SeriesState(market_value, growth, calendars.previous_session(before))


LEDGER_RETRIES = 3  # a run that meets a ledger change reads the ledger again, this often


def recompute(
    uow: UnitOfWork,
    report: RunReport,
    *,
    through: date,
    fetched: Closes,
    since: date | None = None,
    progress: Progress = _noop,
) -> None:
    """:func:`recompute_once`, read again from the new ledger when a ledger change (an
    advisor's edit, which recomputes its own client at once) lands while the run computes:
    the chunks already written stay (a rerun writes the same rows), the rest is computed
    from the changed ledger. Up to :data:`LEDGER_RETRIES` reads; then the run fails and the
    next one recomputes."""
    for attempt in range(1, LEDGER_RETRIES + 1):
        try:
            recompute_once(
                uow, report, through=through, fetched=fetched, since=since, progress=progress
            )
            return
        except LotsChanged:
            if attempt == LEDGER_RETRIES:
                raise
            log.info("the ledger changed during the run: reading it again (%d)", attempt)


def recompute_once(
    uow: UnitOfWork,
    report: RunReport,
    *,
    through: date,
    fetched: Closes,
    since: date | None = None,
    progress: Progress = _noop,
) -> None:
    """Write fetched closes and recompute every client's figures up to ``through``.

    Days run from the earliest day any client lacks (or ``since``) to ``through``, over B3
    sessions; each chunk of dates is one transaction with its closes and its daily returns;
    the last one also stores the metrics as of ``through``. Everything runs on ``uow``, on
    the run's own connection in autocommit (see :func:`run_job`).
    """
    fetched_days = sorted({day for _, day in fetched})
    floor = min(filter(None, [since, fetched_days[0] if fetched_days else None]), default=None)
    # Lots, their version, currencies and last stored days come from one statement: a lot
    # change after it fails the version check before anything is written.
    snapshot = uow.ledger.book_snapshot()
    version, last = snapshot.version, snapshot.last
    entries, splits, oversold = ledger_entries(snapshot.movements, snapshot.events)
    if not len(entries["client_id"]):
        days = []
    else:
        entries, rates_on = in_reais(uow, entries, snapshot.currencies, fetched, through)
        book = book_from_entries(entries)
        days = calendars.sessions(_start_day(last, book, floor), through)
    if days:
        # Usually every client's last stored day is before the first day to compute (the
        # next close): those rows are the state. Otherwise ask for the rows before it.
        if not (last.dates >= np.datetime64(days[0], "D")).any():
            before = last
        else:
            before = uow.figures.series_state(days[0])
        state = state_before(before, book, days[0])
        stored = uow.prices.closes_columns(list(book.asset_ids), days[0], days[-1])
    outside = set(days)
    _write_prices_only(uow, {k: v for k, v in fetched.items() if k[1] not in outside}, report)
    unstorable = Unstorable()
    for client_id, day in oversold.items():  # their ledger sells more than it holds
        unstorable.found.append((client_id, day, "ledger", float("nan")))
        unstorable.since[client_id] = day
    if not days:
        if unstorable.found:
            unstorable.report(uow, report)
        return
    all_closes = _merge(stored, fetched)
    fetched_by_day: dict[date, list[tuple[int, date, Decimal]]] = {}
    for (asset_id, day), price in fetched.items():
        fetched_by_day.setdefault(day, []).append((asset_id, day, price))
    # days x assets, built once, with the date each carried close is from
    matrix, close_days = carried_closes_and_days(all_closes, days, book.asset_ids)
    rates = rates_on(days)  # days x currencies (None: every lot is in reais)
    split_factors = split_matrix(splits, days, book.asset_ids)  # None: no splits
    for offset in range(0, len(days), CHUNK_DAYS):
        chunk = days[offset : offset + CHUNK_DAYS]
        window = slice(offset, offset + CHUNK_DAYS)
        frame, state = portfolio_series(
            book,
            matrix[window],
            chunk,
            state,
            None if rates is None else rates[window],
            close_days[window],
            None if split_factors is None else split_factors[window],
        )
        metrics = client_metrics(book, state, chunk[-1]) if chunk[-1] == days[-1] else None
        frame = unstorable.daily(frame)
        if metrics is not None:
            metrics = unstorable.metrics(metrics, chunk[-1])
        rows = [row for day in chunk for row in fetched_by_day.get(day, [])]
        # One transaction per chunk of dates: a date's closes and returns are never split.
        # A lot change deletes its client's figures from its buy date on; rows computed from
        # the old lots must not be written after that. Lot changes wait while this chunk is
        # written; one already made stops the run (the next run recomputes).
        with uow.transaction():
            report.rows_written += uow.figures.write_days(
                version, prices=rows, daily=frame, days=chunk, metrics=metrics
            )
        progress(min(offset + CHUNK_DAYS, len(days)), len(days))
    if unstorable.found:
        unstorable.report(uow, report)


def _merge(stored: Columns, fetched: Closes) -> Columns:
    """Stored closes followed by the fetched ones (asset_id, date, close columns)."""
    if not fetched:
        return stored
    count = len(fetched)
    asset_ids = np.fromiter((a for a, _ in fetched), dtype=np.int64, count=count)
    # Day numbers from ordinals: numpy converts date objects one by one, ten times slower.
    ordinals = np.fromiter((d.toordinal() for _, d in fetched), dtype=np.int64, count=count)
    days = (ordinals - EPOCH_ORDINAL).astype("datetime64[D]")
    closes = np.fromiter((float(p) for p in fetched.values()), dtype=float, count=count)
    # A fetched close replaces a stored one of the same day: carried_closes keeps the last.
    return {
        "asset_id": np.concatenate([stored["asset_id"], asset_ids]),
        "date": np.concatenate([stored["date"], days]),
        "close": np.concatenate([stored["close"], closes]),
    }


def _write_prices_only(uow: UnitOfWork, fetched: Closes, report: RunReport) -> None:
    if not fetched:
        return
    with uow.transaction():
        rows = [(a, d, p) for (a, d), p in fetched.items()]
        report.rows_written += uow.prices.upsert(rows)
