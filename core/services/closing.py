"""The scheduler's jobs: daily close, backfill, gap repair (and the live-quote refresh).

Each run takes the figures advisory lock (a second scheduler or a manual run at the same
time is skipped, never double-writes), records itself in ``job_runs``, fetches closes for
every held ticker in batches, and writes each date's closes and every client's daily return
in one transaction — all or nothing, idempotent (a rerun replaces the same rows). The daily
close is one date; a backfill commits up to 20 dates per transaction, never splitting one.
The run's last date also gets every client's metrics (value, invested, return, TWR, IRR).
A run uses one connection, the lock's: its record, its session and its write transactions.

Where stored figures start is decided per client: the day after its last stored daily
return, or its first buy date; changing a lot deletes the figures from its buy date on
(see :mod:`core.services.allocations`), so the next run recomputes exactly what changed.
A ticker that failed is reported and retried by the next run's gap repair; its last close
is carried meanwhile, and good data is never overwritten by a failure.

Figures are in reais: lots in another currency are converted with the daily closes of
that currency's rate series (``USDBRL=X``), fetched and stored with the other closes, at
each day's rate for values and the buy date's rate for the money put in
(:mod:`core.analytics.fx`). A run without any rate for a currency somebody holds fails and
writes nothing, rather than adding dollars to reais.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core import calendars
from core.analytics import fx
from core.analytics.returns import (
    Book,
    Columns,
    SeriesState,
    book_from_lots,
    carried_closes_and_days,
    client_metrics,
    portfolio_series,
    positions_in,
)
from core.db import UnitOfWork, uow_factory
from core.market.port import MarketData
from core.models import JobStatus
from core.repositories import figures
from core.services.job_runs import (
    LOCK_TAKEN,
    RunReport,
    fail_abandoned_runs,
    locked,
    record_outcome,
    start_run,
)
from core.services.principal import Principal, require_admin

log = logging.getLogger(__name__)

DAILY_CLOSE = "daily-close"
BACKFILL = "backfill"
GAP_REPAIR = "gap-repair"
CHUNK_DAYS = 20  # days computed together in memory during long recomputations
RECENT_DAYS = 7  # the daily close also re-asks the last week, to catch late closes

Progress = Callable[[int, int], None]


class RatesMissing(RuntimeError):
    """Somebody holds an asset in a currency whose exchange rate has no close at all."""


Closes = dict[tuple[int, date], Decimal]
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()  # datetime64[D] counts days from here
CLOSE_PLACES, CLOSE_LIMIT = Decimal("1E-8"), Decimal(10) ** 12  # prices.close: numeric(20, 8)


def _noop(_done: int, _total: int) -> None:
    return None


def run_job(
    engine: Engine,
    job_name: str,
    body: Callable[[RunReport, Session], None],
    *,
    target_from: date | None,
    target_to: date | None,
    triggered_by: str,
) -> RunReport:
    """Run ``body`` under the figures lock, recorded in job_runs; never raises.

    ``body`` gets the report to fill in and a session on the lock's own connection, in
    autocommit: each read sees the latest committed data, as in a READ COMMITTED
    transaction, without BEGIN and COMMIT round trips or another connection; writes go in
    transaction blocks on it (:func:`core.repositories.figures.transaction`).
    """
    report = RunReport(job_name=job_name, target_from=target_from, target_to=target_to)
    with locked(engine) as (got, conn):
        start_run(conn, report, triggered_by)
        if not got:
            report.status = JobStatus.SKIPPED
            report.error = LOCK_TAKEN
        else:
            try:
                fail_abandoned_runs(conn, report)
                with Session(bind=conn, autoflush=False, expire_on_commit=False) as session:
                    body(report, session)
                if report.status == JobStatus.RUNNING:
                    report.status = JobStatus.PARTIAL if report.failed else JobStatus.SUCCESS
            except Exception as exc:  # recorded, not raised: the scheduler keeps going
                log.exception("%s failed", job_name)
                report.status = JobStatus.FAILED
                report.error = f"{type(exc).__name__}: {exc}"[:2000]
        record_outcome(engine, conn, report)
    return report


# -- fetching ---------------------------------------------------------------------------
def _fetch(
    market: MarketData,
    held: Sequence[figures.HeldAsset],
    start: date,
    end: date,
    report: RunReport,
) -> Closes:
    """Closes of the held tickers in [start, end], one batched request set; failures noted."""
    if not held:
        return {}
    by_symbol = {h.symbol: h.asset_id for h in held}
    batch = market.history(sorted(by_symbol), start, end)
    closes: Closes = {}
    for symbol, series in batch.closes.items():
        asset_id = by_symbol.get(symbol)
        if asset_id is None:
            continue
        for day, price in series.items():
            if start <= day <= end and _storable(price):
                closes[(asset_id, day)] = price
    report.failed.update(batch.failed)
    report.tickers_ok = len(set(by_symbol) - set(report.failed))
    return closes


def _storable(price: Decimal) -> bool:
    """Whether ``prices.close`` (numeric(20, 8), positive) can hold ``price``. Anything else
    (NaN, zero, 1E-9, absurdly large) is bad data from the source: that ticker's close is
    missing, which must not fail every client's figures with a database error."""
    return price.is_finite() and 0 < price < CLOSE_LIMIT and price.quantize(CLOSE_PLACES) > 0


def _missing_on(held: Sequence[figures.HeldAsset], closes: Closes, day: date) -> dict[str, str]:
    """Held tickers whose market traded on ``day`` but for which no close arrived."""
    return {
        h.symbol: "no_data"
        for h in held
        if calendars.is_session(day, calendars.calendar_name_for(h.symbol))
        and (h.asset_id, day) not in closes
        and h.first_buy <= day
    }


def with_rates(session: Session, held: Sequence[figures.HeldAsset]) -> list[figures.HeldAsset]:
    """``held`` plus the exchange-rate series its currencies need, from the first day any
    asset in that currency was held (the rate rows are created on first use; the caller
    commits, unless ``session`` is in autocommit like a job's session)."""
    firsts: dict[str, date] = {}
    for asset in held:
        pair = fx.pair_for(asset.currency)
        if pair is not None:
            firsts[pair.symbol] = min(asset.first_buy, firsts.get(pair.symbol, asset.first_buy))
    ids = figures.ensure_rate_assets(session, sorted(firsts))
    mine = {asset.symbol for asset in held}
    extra = [
        figures.HeldAsset(ids[symbol], symbol, first, fx.BASE)
        for symbol, first in sorted(firsts.items())
        if symbol not in mine
    ]
    return [*held, *extra]


def _in_reais(
    session: Session,
    lots: Columns,
    currencies: dict[int, str | None],
    fetched: Closes,
    through: date,
) -> tuple[Columns, Callable[[Sequence[date]], np.ndarray | None]]:
    """Lots with the column of their currency and their buy date's rate, and a function
    giving the rates matrix for a list of days (None when every lot is in reais).
    ``currencies`` maps the held assets to their currency."""
    pairs = fx.pairs_for(currencies.values())
    if not pairs:
        return lots, lambda _days: None
    ids = figures.asset_ids_for(session, sorted({pair.symbol for pair in pairs}))
    missing = sorted({pair.symbol for pair in pairs if pair.symbol not in ids})
    series_ids = np.array([ids.get(pair.symbol, -1) for pair in pairs], dtype=np.int64)
    factors = np.array([pair.factor for pair in pairs])
    buy_dates = lots["buy_date"]  # datetime64[D]
    present = {i for i in series_ids.tolist() if i >= 0}
    stored = figures.closes_columns(session, sorted(present), buy_dates.min().item(), through)
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
    return {**lots, "fx_column": columns, "buy_rate": buy_rate}, rates


# -- recomputing --------------------------------------------------------------------------
def _start_day(last: figures.StoredDays, book: Book, floor: date | None) -> date:
    """The first day some client lacks: the day after its last stored day, or its first
    buy; never after ``floor`` (the earliest newly fetched close, or a backfill's start)."""
    starts = book.buy_date[book.group_starts].copy()  # lots are sorted by date in a client
    position, known = positions_in(book.client_ids, last.client_ids)
    starts[position[known]] = last.dates[known] + np.timedelta64(1, "D")
    start: date = starts.min().item()
    return min(start, floor) if floor else start


def _state(stored: figures.StoredDays, book: Book, before: date) -> SeriesState:
    """Each client's market value and growth as stored on its last day before ``before``."""
    state = SeriesState.empty(book)
    market_value, growth = state.market_value.copy(), state.growth.copy()
    position, known = positions_in(book.client_ids, stored.client_ids)
    market_value[position[known]] = stored.market_value[known]
    growth[position[known]] = 1.0 + stored.cumulative_twr[known]
    return SeriesState(market_value, growth, calendars.previous_session(before))


def recompute(
    session: Session,
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
    the last one also stores the metrics as of ``through``. Everything runs on ``session``,
    the run's own connection in autocommit (see :func:`run_job`).
    """
    fetched_days = sorted({day for _, day in fetched})
    floor = min(filter(None, [since, fetched_days[0] if fetched_days else None]), default=None)
    # Lots, their version, currencies and last stored days come from one statement: a lot
    # change after it fails the version check before anything is written.
    snapshot = figures.book_snapshot(session)
    version, last = snapshot.version, snapshot.last
    if not len(snapshot.lots["client_id"]):
        days = []
    else:
        lots, rates_on = _in_reais(session, snapshot.lots, snapshot.currencies, fetched, through)
        book = book_from_lots(lots)
        days = calendars.sessions(_start_day(last, book, floor), through)
    if days:
        # Usually every client's last stored day is before the first day to compute (the
        # next close): those rows are the state. Otherwise ask for the rows before it.
        if not (last.dates >= np.datetime64(days[0], "D")).any():
            before = last
        else:
            before = figures.series_state(session, days[0])
        state = _state(before, book, days[0])
        stored = figures.closes_columns(session, list(book.asset_ids), days[0], days[-1])
    outside = set(days)
    _write_prices_only(session, {k: v for k, v in fetched.items() if k[1] not in outside}, report)
    if not days:
        return
    all_closes = _merge(stored, fetched)
    fetched_by_day: dict[date, list[tuple[int, date, Decimal]]] = {}
    for (asset_id, day), price in fetched.items():
        fetched_by_day.setdefault(day, []).append((asset_id, day, price))
    # days x assets, built once, with the date each carried close is from
    matrix, close_days = carried_closes_and_days(all_closes, days, book.asset_ids)
    rates = rates_on(days)  # days x currencies (None: every lot is in reais)
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
        )
        metrics = client_metrics(book, state, chunk[-1]) if chunk[-1] == days[-1] else None
        rows = [row for day in chunk for row in fetched_by_day.get(day, [])]
        # One transaction per chunk of dates: a date's closes and returns are never split.
        # A lot change deletes its client's figures from its buy date on; rows computed from
        # the old lots must not be written after that. Lot changes wait while this chunk is
        # written; one already made stops the run (the next run recomputes).
        with figures.transaction(session):
            report.rows_written += figures.write_days(
                session, version, prices=rows, daily=frame, days=chunk, metrics=metrics
            )
        progress(min(offset + CHUNK_DAYS, len(days)), len(days))


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


def _write_prices_only(session: Session, fetched: Closes, report: RunReport) -> None:
    if not fetched:
        return
    with figures.transaction(session):
        rows = [(a, d, p) for (a, d), p in fetched.items()]
        report.rows_written += figures.upsert_prices(session, rows)


# -- the jobs -----------------------------------------------------------------------------
def daily_close(
    engine: Engine,
    market: MarketData,
    day: date,
    *,
    actor: Principal,
    triggered_by: str = "scheduler",
) -> RunReport:
    """Closes of ``day`` for every held ticker, then every affected client's figures.

    Only an admin (or :data:`~core.services.principal.SYSTEM`) may run it: anyone else gets
    :class:`~core.errors.PermissionDenied` before anything is fetched or recorded."""
    require_admin(actor)

    def body(report: RunReport, session: Session) -> None:
        if not calendars.is_session(day):
            report.status = JobStatus.SKIPPED
            report.error = f"{day.isoformat()} is not a B3 trading day"
            return
        week_start = day - timedelta(days=RECENT_DAYS)
        held = with_rates(session, figures.held_assets(session))
        stored = figures.price_dates(session, [h.asset_id for h in held], week_start)
        fetched = _fetch(market, held, week_start, day, report)
        # Earlier days only matter when a close arrived that we did not have (late data).
        fetched = {k: v for k, v in fetched.items() if k[1] == day or k[1] not in stored[k[0]]}
        for symbol, reason in _missing_on(held, fetched, day).items():
            report.failed.setdefault(symbol, reason)
        report.tickers_ok = len(held) - len(report.failed)
        recompute(session, report, through=day, fetched=fetched)

    return run_job(
        engine, DAILY_CLOSE, body, target_from=day, target_to=day, triggered_by=triggered_by
    )


def backfill(
    engine: Engine,
    market: MarketData,
    start: date,
    end: date,
    *,
    actor: Principal,
    triggered_by: str = "cli",
    progress: Progress = _noop,
) -> RunReport:
    """Fetch closes for [start, end] and recompute every client's figures from ``start``
    (admins only, as :func:`daily_close`)."""
    require_admin(actor)

    def body(report: RunReport, session: Session) -> None:
        held = with_rates(session, figures.held_assets(session))
        fetched = _fetch(market, held, start, end, report)
        recompute(session, report, through=end, fetched=fetched, since=start, progress=progress)

    return run_job(
        engine, BACKFILL, body, target_from=start, target_to=end, triggered_by=triggered_by
    )


def missing_closes(
    held: Sequence[figures.HeldAsset], existing: dict[int, set[date]], through: date
) -> dict[str, list[date]]:
    """Trading days (on each ticker's own market) since it was first held with no close."""
    missing: dict[str, list[date]] = {}
    for asset in held:
        expected = calendars.sessions(
            asset.first_buy, through, calendars.calendar_name_for(asset.symbol)
        )
        gaps = [d for d in expected if d not in existing.get(asset.asset_id, set())]
        if gaps:
            missing[asset.symbol] = gaps
    return missing


def repair_gaps(
    engine: Engine,
    market: MarketData,
    through: date,
    *,
    actor: Principal,
    triggered_by: str = "scheduler",
) -> RunReport:
    """Backfill closes missing since each lot's buy date, and any figures not yet stored
    (admins only, as :func:`daily_close`)."""
    require_admin(actor)

    def body(report: RunReport, session: Session) -> None:
        held = with_rates(session, figures.held_assets(session))
        first = min((h.first_buy for h in held), default=through)
        existing = figures.price_dates(session, [h.asset_id for h in held], first)
        gaps = missing_closes(held, existing, through)
        fetched: Closes = {}
        if gaps:
            wanted = [h for h in held if h.symbol in gaps]
            start = min(min(days) for days in gaps.values())
            fetched = _fetch(market, wanted, start, through, report)
            known = {(a, d) for a, days in existing.items() for d in days}
            fetched = {k: v for k, v in fetched.items() if k not in known}
        report.tickers_ok = len(held) - len(report.failed)
        recompute(session, report, through=through, fetched=fetched)

    return run_job(
        engine, GAP_REPAIR, body, target_from=None, target_to=through, triggered_by=triggered_by
    )


def held_symbols(engine: Engine, *, actor: Principal) -> list[str]:
    """Tickers somebody holds, and the exchange rates they need (what the live poller asks
    quotes for). It creates the rate series' asset rows on first use: a write, so admins
    only (the scheduler passes :data:`~core.services.principal.SYSTEM`)."""
    require_admin(actor)
    with UnitOfWork(uow_factory(engine)) as uow:
        held = with_rates(uow.session, figures.held_assets(uow.session))
        uow.commit()
        return [h.symbol for h in held]
