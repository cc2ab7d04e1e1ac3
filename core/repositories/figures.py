"""Bulk reads and writes for the scheduler: lots, closes, daily returns and metrics.

Writes go through PostgreSQL's COPY (into the table or a temporary staging table that is
then upserted), never row by row through the ORM: a day of a 10,000-client book is one
COPY of 10,000 rows. Everything runs on the caller's session, inside its transaction.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv as pa_csv
from sqlalchemy import text
from sqlalchemy.orm import Session

DAILY_COLUMNS = ("client_id", "date", "market_value", "net_flow", "daily_return", "cumulative_twr")
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
class HeldAsset:
    """An asset some client holds, and the earliest buy date among its lots."""

    asset_id: int
    symbol: str
    first_buy: date
    currency: str | None = None


def copy_csv(session: Session, table: str, columns: Sequence[str], frame: pd.DataFrame) -> int:
    """COPY ``frame`` (columns in ``columns`` order) into ``table``; returns rows written."""
    if frame.empty:
        return 0
    # Arrow's C++ CSV writer formats floats and dates far faster than pandas.to_csv; None
    # and NaN become empty fields, which COPY reads as NULL.
    # Column by column (pandas' own conversion has a fixed cost that dominates small days).
    table_data = pa.Table.from_arrays(
        [pa.array(frame[column].to_numpy(), from_pandas=True) for column in columns],
        names=list(columns),
    )
    buffer = io.BytesIO()
    pa_csv.write_csv(
        table_data, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="none")
    )
    raw = session.connection().connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.getvalue())
    return len(frame)


def held_assets(session: Session) -> list[HeldAsset]:
    """Every asset held in some lot, with the first date it was held."""
    rows = session.execute(
        text(
            "SELECT a.id, a.symbol, min(al.buy_date), a.currency FROM allocations al "
            "JOIN assets a ON a.id = al.asset_id GROUP BY a.id ORDER BY a.symbol"
        )
    )
    return [HeldAsset(int(r[0]), str(r[1]), r[2], r[3]) for r in rows]


def asset_currencies(session: Session) -> dict[int, str | None]:
    """The currency of every held asset (None where the source did not say)."""
    rows = session.execute(
        text(
            "SELECT id, currency FROM assets "
            "WHERE id IN (SELECT DISTINCT asset_id FROM allocations)"
        )
    )
    return {int(asset_id): currency for asset_id, currency in rows}


def ensure_rate_assets(session: Session, symbols: Sequence[str]) -> dict[str, int]:
    """The asset ids of exchange-rate series (``USDBRL=X``), creating the rows on first use
    so their closes live in ``prices`` like any other."""
    if not symbols:
        return {}
    session.execute(
        text(
            "INSERT INTO assets (symbol, name, currency, asset_type) "
            "SELECT s, replace(s, 'BRL=X', '/BRL'), 'BRL', 'Currency' "
            "FROM unnest(CAST(:symbols AS text[])) AS s ON CONFLICT (symbol) DO NOTHING"
        ),
        {"symbols": list(symbols)},
    )
    return asset_ids_for(session, symbols)


def asset_ids_for(session: Session, symbols: Sequence[str]) -> dict[str, int]:
    """The ids of the assets among ``symbols`` that exist."""
    rows = session.execute(
        text("SELECT symbol, id FROM assets WHERE symbol = ANY(:symbols)"),
        {"symbols": list(symbols)},
    )
    return {str(symbol): int(asset_id) for symbol, asset_id in rows}


def lots_frame(session: Session) -> tuple[pd.DataFrame, tuple[int, int, object]]:
    """All lots: client_id, asset_id, quantity, buy_price, buy_date (floats for the math),
    and the :func:`lots_version` they were read at (same statement, same snapshot)."""
    # Five arrays in one row, loaded by psycopg's binary loaders: 100,000 lots in about a
    # tenth of a second (a Python row object per lot took half a second).
    statement = (
        "SELECT array_agg(client_id), array_agg(asset_id), array_agg(quantity::float8), "
        "array_agg(buy_price::float8), array_agg(buy_date - DATE '1970-01-01'), "
        "count(*), coalesce(max(id), 0), max(updated_at) FROM allocations"  # lots_version's
    )
    raw = session.connection().connection.driver_connection
    with raw.cursor(binary=True) as cursor:
        row = cursor.execute(statement).fetchone()
    assert row is not None  # an aggregate always returns one row
    client_ids, asset_ids, quantities, prices, days = (value or [] for value in row[:5])
    frame = pd.DataFrame(
        {
            "client_id": np.asarray(client_ids, dtype=np.int64),
            "asset_id": np.asarray(asset_ids, dtype=np.int64),
            "quantity": np.asarray(quantities, dtype=float),
            "buy_price": np.asarray(prices, dtype=float),
            "buy_date": np.asarray(days, dtype=np.int64).astype("datetime64[D]"),
        }
    )
    return frame, (int(row[5]), int(row[6]), row[7])


def lots_version(session: Session) -> tuple[int, int, object]:
    """A fingerprint of the lots (how many, newest id, latest change): it differs as soon as
    a lot is added, edited or deleted."""
    row = session.execute(
        text("SELECT count(*), coalesce(max(id), 0), max(updated_at) FROM allocations")
    ).one()
    return int(row[0]), int(row[1]), row[2]


def lock_lots(session: Session) -> None:
    """Hold lot changes back until this transaction ends (they wait; readers do not)."""
    session.execute(text("LOCK TABLE allocations IN SHARE MODE"))


def closes_frame(
    session: Session, asset_ids: Sequence[int], start: date, end: date
) -> pd.DataFrame:
    """Closes in [start, end] plus each asset's last close before ``start`` (to carry in)."""
    if not asset_ids:
        return pd.DataFrame(columns=["asset_id", "date", "close"])
    rows = session.execute(
        text(
            "SELECT asset_id, date, close::float8 FROM prices "
            "WHERE asset_id = ANY(:ids) AND date BETWEEN :start AND :end "
            "UNION ALL "
            # One primary-key probe per asset for the close to carry in, not a scan of
            # every earlier close (five years of them once a backfill has run).
            "SELECT a.id, p.date, p.close::float8 FROM unnest(CAST(:ids AS int[])) AS a(id) "
            "CROSS JOIN LATERAL (SELECT date, close FROM prices WHERE asset_id = a.id "
            "AND date < :start ORDER BY date DESC LIMIT 1) AS p"
        ),
        {"ids": list(asset_ids), "start": start, "end": end},
    ).all()
    return pd.DataFrame(rows, columns=["asset_id", "date", "close"])


def price_dates(session: Session, asset_ids: Sequence[int], start: date) -> dict[int, set[date]]:
    """The dates on or after ``start`` that already have a close, per asset."""
    found: dict[int, set[date]] = {asset_id: set() for asset_id in asset_ids}
    rows = session.execute(
        text("SELECT asset_id, date FROM prices WHERE asset_id = ANY(:ids) AND date >= :start"),
        {"ids": list(asset_ids), "start": start},
    )
    for asset_id, day in rows:
        found[int(asset_id)].add(day)
    return found


def upsert_prices(session: Session, rows: Iterable[tuple[int, date, Decimal, str]]) -> int:
    """Insert or update closes (asset_id, date, close, source) in one statement.

    The rows travel as four arrays unnested server-side: one round trip whatever the
    number of closes (a day of 500 tickers or a backfill chunk of 10,000), no staging table.
    """
    batch = list(rows)
    if not batch:
        return 0
    asset_ids, days, closes, sources = (list(column) for column in zip(*batch, strict=True))
    session.execute(
        text(
            "INSERT INTO prices (asset_id, date, close, source) "
            "SELECT * FROM unnest(CAST(:asset_ids AS int[]), CAST(:days AS date[]), "
            "CAST(:closes AS numeric[]), CAST(:sources AS text[])) "
            "ON CONFLICT (asset_id, date) DO UPDATE SET close = EXCLUDED.close, "
            "source = EXCLUDED.source, fetched_at = now()"
        ),
        {"asset_ids": asset_ids, "days": days, "closes": closes, "sources": sources},
    )
    return len(batch)


def series_state(session: Session, day: date) -> pd.DataFrame:
    """Each client's latest stored day before ``day``: market_value, cumulative_twr."""
    # One primary-key probe per client (client_id, date DESC), not a scan of every row.
    rows = session.execute(
        text(
            "SELECT c.id, d.date, d.market_value::float8, d.cumulative_twr::float8 "
            "FROM clients c CROSS JOIN LATERAL (SELECT date, market_value, cumulative_twr "
            "FROM daily_returns WHERE client_id = c.id AND date < :day "
            "ORDER BY date DESC LIMIT 1) d"
        ),
        {"day": day},
    ).all()
    return pd.DataFrame(rows, columns=["client_id", "date", "market_value", "cumulative_twr"])


def last_stored_rows(session: Session) -> pd.DataFrame:
    """Each client's last stored day: client_id, date, market_value, cumulative_twr."""
    # One primary-key probe per client (client_id, date DESC), not a scan of every row.
    rows = session.execute(
        text(
            "SELECT c.id, d.date, d.market_value::float8, d.cumulative_twr::float8 "
            "FROM clients c CROSS JOIN LATERAL (SELECT date, market_value, cumulative_twr "
            "FROM daily_returns WHERE client_id = c.id ORDER BY date DESC LIMIT 1) d"
        )
    ).all()
    return pd.DataFrame(rows, columns=["client_id", "date", "market_value", "cumulative_twr"])


def replace_daily_returns(session: Session, frame: pd.DataFrame, days: Sequence[date]) -> int:
    """Replace every client's rows for ``days`` with ``frame`` (idempotent)."""
    session.execute(text("DELETE FROM daily_returns WHERE date = ANY(:days)"), {"days": list(days)})
    return copy_csv(session, "daily_returns", DAILY_COLUMNS, frame)


def replace_metrics(session: Session, frame: pd.DataFrame, as_of: date) -> int:
    """Replace the per-client metrics as of ``as_of`` with ``frame`` (idempotent)."""
    session.execute(text("DELETE FROM portfolio_metrics WHERE as_of = :as_of"), {"as_of": as_of})
    return copy_csv(session, "portfolio_metrics", METRIC_COLUMNS, frame.assign(as_of=as_of))


def invalidate_client_figures(session: Session, client_id: int, since: date) -> None:
    """Drop a client's stored figures from ``since`` on (their lots changed); the next
    scheduler run recomputes them."""
    invalidate_figures(session, {client_id: since})


def invalidate_figures(session: Session, since: Mapping[int, date]) -> None:
    """:func:`invalidate_client_figures` for many clients at once (client id -> from when),
    one statement per table (an import may touch thousands of clients)."""
    if not since:
        return
    params = {"ids": list(since), "days": list(since.values())}
    session.execute(
        text(
            "DELETE FROM daily_returns AS f "
            "USING unnest(CAST(:ids AS integer[]), CAST(:days AS date[])) AS t(client_id, since) "
            "WHERE f.client_id = t.client_id AND f.date >= t.since"
        ),
        params,
    )
    session.execute(
        text(
            "DELETE FROM portfolio_metrics AS f "
            "USING unnest(CAST(:ids AS integer[]), CAST(:days AS date[])) AS t(client_id, since) "
            "WHERE f.client_id = t.client_id AND f.as_of >= t.since"
        ),
        params,
    )
