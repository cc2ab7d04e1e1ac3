"""The scheduler's and the recompute's writes of the figures: clients' daily returns and
metrics, by COPY (a day of a 10,000-client book is one COPY of 10,000 rows), and the
invalidation that makes a unit of work recompute a client whose ledger changed.

The pages' reads of the same tables are :mod:`core.repositories.figures_read`; closes are
:mod:`core.repositories.prices`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.analytics.returns import Table
from core.repositories.pg import copy_csv, driver, epoch_days, fetch_one
from core.repositories.prices import PriceRepository, send_upsert

DAILY_COLUMNS = (
    "client_id",
    "date",
    "market_value",
    "flow_in",
    "flow_out",
    "income",
    "daily_return",
    "cumulative_twr",
)
METRIC_COLUMNS = (
    "client_id",
    "as_of",
    "market_value",
    "invested",
    "accumulated_return",
    "twr",
    "irr",
)


@dataclass(frozen=True, slots=True)
class StoredDays:
    """One stored daily return per client (its last, or its last before some day), as
    parallel arrays: what the next day's return and TWR continue from."""

    client_ids: np.ndarray  # (k,) int64
    dates: np.ndarray  # (k,) datetime64[D]
    market_value: np.ndarray  # (k,) float
    cumulative_twr: np.ndarray  # (k,) float

    @classmethod
    def from_arrays(cls, ids: object, days: object, values: object, twr: object) -> StoredDays:
        """Build from the arrays a statement returned (None when it found no rows)."""
        return cls(
            np.asarray(ids or [], dtype=np.int64),
            epoch_days(days or []),
            np.asarray(values or [], dtype=float),
            np.asarray(twr or [], dtype=float),
        )


# The last stored row of each client. Usually every client's last day is the latest day
# stored at all: those rows come from the date index in one scan (the rows a day's COPY
# wrote sit together); only a client without a row on that day gets a primary-key probe
# (client_id, date DESC) for its own last row (probing every client costs ten times more:
# each probe visits the heap). ``{before}`` optionally bounds the date ("AND date < ..."),
# ``{clients}`` the clients ("AND c.id = ANY(...)").
LAST_DAYS = (
    "SELECT array_agg(c.id), array_agg(coalesce(t.date, d.date) - DATE '1970-01-01'), "
    "array_agg(coalesce(t.market_value, d.market_value)::float8), "
    "array_agg(coalesce(t.cumulative_twr, d.cumulative_twr)::float8) "
    "FROM clients c LEFT JOIN daily_returns t ON t.client_id = c.id "
    "AND t.date = (SELECT max(date) FROM daily_returns WHERE TRUE {before}) "
    "LEFT JOIN LATERAL (SELECT date, market_value, cumulative_twr FROM daily_returns "
    "WHERE client_id = c.id AND t.client_id IS NULL {before}ORDER BY date DESC LIMIT 1) d "
    "ON TRUE WHERE (t.client_id IS NOT NULL OR d.date IS NOT NULL) {clients}"
)


class LotsChanged(RuntimeError):
    """Lots were added, edited or deleted while a run was computing figures from them."""


# The ledger's version: per table, how many rows, the newest id and the sum of their change
# times. Any insert, edit or delete changes it; the sum (not the latest change) also catches
# an edit whose transaction began before another edit that committed first. A run reads it
# with the book (core.repositories.ledger) and checks it before each write.
_COUNTS = "count(*), coalesce(max(id), 0), coalesce(sum(extract(epoch FROM updated_at)), 0)"
LEDGER_VERSION = sql.SQL(
    "SELECT * FROM (SELECT {counts} FROM movements) AS m, "
    "(SELECT {counts} FROM asset_events) AS e"
).format(counts=sql.SQL(_COUNTS))


STALE = "anka.figures_stale"  # session.info key: client id -> the earliest day to redo
THROUGH = "anka.figures_through"  # session.info key: the day figures were stored through
_DELETE_SINCE = tuple(
    text(
        f"DELETE FROM {table} AS f USING unnest(CAST(:ids AS integer[]), "  # noqa: S608 (names below)
        f"CAST(:days AS date[])) AS t(client_id, since) "
        f"WHERE f.client_id = t.client_id AND f.{column} >= t.since"
    )
    for table, column in (("daily_returns", "date"), ("portfolio_metrics", "as_of"))
)
_METRIC_COPY = [column for column in METRIC_COLUMNS if column != "as_of"]


class FigureRepository:
    """Writes ``daily_returns`` and ``portfolio_metrics`` in the caller's transaction, and
    reads the stored state the next day continues from."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def write_days(
        self,
        version: tuple[object, ...],
        *,
        prices: Sequence[tuple[int, date, Decimal]],
        daily: Table,
        days: Sequence[date],
        metrics: Table | None = None,
    ) -> int:
        """Store a chunk of days in the caller's transaction: the fetched closes (upserted),
        every client's daily returns for ``days`` and, for the run's last day (``days[-1]``),
        the metrics, replacing what was stored (idempotent); returns rows written.

        First it holds lot changes back until the transaction ends and checks the lots are
        still at ``version`` (what the figures were computed from): if not it raises
        :class:`LotsChanged`, and the caller's rollback undoes everything. The statements
        before the two COPYs travel in one pipeline, one round trip.
        """
        conn = driver(self.session)
        with conn.pipeline():
            conn.execute("LOCK TABLE movements, asset_events IN SHARE MODE")
            current = conn.execute(LEDGER_VERSION)
            if prices:
                send_upsert(conn, prices)
            conn.execute("DELETE FROM daily_returns WHERE date = ANY(%s)", (list(days),))
            if metrics is not None:
                conn.execute("DELETE FROM portfolio_metrics WHERE as_of = %s", (days[-1],))
        row = current.fetchone()
        if row is None or tuple(row) != version:
            raise LotsChanged("lots changed during the run; the next run recomputes")
        written = len(prices) + copy_csv(self.session, "daily_returns", DAILY_COLUMNS, daily)
        if metrics is not None:
            written += copy_csv(
                self.session, "portfolio_metrics", _METRIC_COPY, metrics, {"as_of": days[-1]}
            )
        return written

    def series_state(self, day: date, client_ids: Sequence[int] | None = None) -> StoredDays:
        """Each client's latest stored day before ``day`` (only ``client_ids`` when given)."""
        clients = "" if client_ids is None else "AND c.id = ANY(%(ids)s) "
        statement = sql.SQL(LAST_DAYS).format(
            before=sql.SQL("AND date < %(day)s "), clients=sql.SQL(clients)
        )
        row = fetch_one(self.session, statement, {"day": day, "ids": list(client_ids or [])})
        return StoredDays.from_arrays(*row)

    def latest_day(self) -> date | None:
        """The latest day any client's figures are stored for: a client recomputed on its
        own is brought up to the same day as everyone else."""
        return self.session.execute(text("SELECT max(date) FROM daily_returns")).scalar()

    def replace_clients(
        self,
        since: Mapping[int, date],
        daily: Table,
        metrics: Table | None,
        as_of: date | None,
    ) -> int:
        """Replace the stored figures of the clients in ``since`` from their date on (in the
        caller's transaction): delete, then COPY ``daily`` and the metrics as of ``as_of``.
        Returns the rows written."""
        self._delete(since)
        written = copy_csv(self.session, "daily_returns", DAILY_COLUMNS, daily)
        if metrics is not None and as_of is not None:
            written += copy_csv(
                self.session, "portfolio_metrics", _METRIC_COPY, metrics, {"as_of": as_of}
            )
        return written

    def invalidate(self, since: Mapping[int, date]) -> None:
        """Drop the stored figures of these clients (client id -> from when: their ledger
        changed), one statement per table (an import may touch thousands of clients). The
        clients are also noted on the session: the unit of work recomputes their figures
        before it commits (:mod:`core.services.client_figures`), through the day figures
        were stored through before this deletion (the latest close if none were)."""
        if not since:
            return
        info = self.session.info
        if THROUGH not in info:  # before anything is deleted: how far figures go
            info[THROUGH] = self.latest_day() or PriceRepository(self.session).latest_day()
        stale: dict[int, date] = info.setdefault(STALE, {})
        for client_id, day in since.items():
            stale[client_id] = min(day, stale.get(client_id, day))
        self._delete(since)

    def invalidate_client(self, client_id: int, since: date) -> None:
        """:meth:`invalidate` for one client."""
        self.invalidate({client_id: since})

    def _delete(self, since: Mapping[int, date]) -> None:
        if not since:
            return
        params = {"ids": list(since), "days": list(since.values())}
        for statement in _DELETE_SINCE:
            self.session.execute(statement, params)
