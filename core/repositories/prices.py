"""Market closes (the ``prices`` table): what the jobs fetched, what they carry and compare.

The scheduler stores a day of 500 tickers or a backfill chunk of 10,000 closes in one
statement, and reads them back as numpy columns from binary arrays
(:mod:`core.repositories.pg`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

import numpy as np
import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.analytics.returns import Columns
from core.repositories.pg import array_literal, driver, epoch_days, fetch_one


def _closes(asset_ids: list[int], days: list[int], closes: list[float]) -> Columns:
    return {
        "asset_id": np.asarray(asset_ids, dtype=np.int64),
        "date": epoch_days(days),
        "close": np.asarray(closes, dtype=float),
    }


def send_upsert(conn: psycopg.Connection, rows: Sequence[tuple[int, date, Decimal]]) -> None:
    """Send the upsert of ``rows`` (asset_id, date, close) on ``conn``: the rows travel as
    three arrays unnested server-side, one statement whatever their number, no staging
    table (the day's write sends it inside its pipeline)."""
    asset_ids, days, closes = zip(*rows, strict=True)
    conn.execute(
        "INSERT INTO prices (asset_id, date, close, source) "
        "SELECT *, 'market' FROM unnest(%s::int[], %s::date[], %s::numeric[]) "
        "ON CONFLICT (asset_id, date) DO UPDATE SET close = EXCLUDED.close, "
        "source = EXCLUDED.source, fetched_at = now()",
        (array_literal(asset_ids), array_literal(days), array_literal(closes)),
    )


class PriceRepository:
    """Reads and writes ``prices`` (and the exchange-rate series' asset rows) in the
    caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure_rate_assets(self, symbols: Sequence[str]) -> dict[str, int]:
        """The asset ids of exchange-rate series (``USDBRL=X``), creating the rows on first
        use so their closes live in ``prices`` like any other."""
        if not symbols:
            return {}
        self.session.execute(
            text(
                "INSERT INTO assets (symbol, name, currency, asset_type) "
                "SELECT s, replace(s, 'BRL=X', '/BRL'), 'BRL', 'Currency' "
                "FROM unnest(CAST(:symbols AS text[])) AS s ON CONFLICT (symbol) DO NOTHING"
            ),
            {"symbols": list(symbols)},
        )
        return self.asset_ids_for(symbols)

    def asset_ids_for(self, symbols: Sequence[str]) -> dict[str, int]:
        """The ids of the assets among ``symbols`` that exist."""
        rows = self.session.execute(
            text("SELECT symbol, id FROM assets WHERE symbol = ANY(:symbols)"),
            {"symbols": list(symbols)},
        )
        return {str(symbol): int(asset_id) for symbol, asset_id in rows}

    def closes_columns(self, asset_ids: Sequence[int], start: date, end: date) -> Columns:
        """Closes in [start, end] plus each asset's last close before ``start`` (to carry
        in): asset_id, date (datetime64[D]), close."""
        if not asset_ids:
            return _closes([], [], [])
        row = fetch_one(
            self.session,
            "SELECT array_agg(asset_id), array_agg(date - DATE '1970-01-01'), array_agg(close) "
            "FROM (SELECT asset_id, date, close::float8 FROM prices "
            "WHERE asset_id = ANY(%(ids)s) AND date BETWEEN %(start)s AND %(end)s "
            "UNION ALL "
            # One primary-key probe per asset for the close to carry in, not a scan of
            # every earlier close (five years of them once a backfill has run).
            "SELECT a.id, p.date, p.close::float8 FROM unnest(%(ids)s::int[]) AS a(id) "
            "CROSS JOIN LATERAL (SELECT date, close FROM prices WHERE asset_id = a.id "
            "AND date < %(start)s ORDER BY date DESC LIMIT 1) AS p) AS closes",
            {"ids": list(asset_ids), "start": start, "end": end},
        )
        return _closes(row[0] or [], row[1] or [], row[2] or [])

    def dates_since(self, asset_ids: Sequence[int], start: date) -> dict[int, set[date]]:
        """The dates on or after ``start`` that already have a close, per asset."""
        found: dict[int, set[date]] = {asset_id: set() for asset_id in asset_ids}
        with driver(self.session).cursor(binary=True) as cursor:
            rows = cursor.execute(
                "SELECT asset_id, date FROM prices "
                "WHERE asset_id = ANY(%s::int[]) AND date >= %s",
                (list(asset_ids), start),
            ).fetchall()
        for asset_id, day in rows:
            found[int(asset_id)].add(day)
        return found

    def closes_since(
        self, asset_ids: Sequence[int], start: date
    ) -> dict[tuple[int, date], Decimal]:
        """The stored closes on or after ``start`` of ``asset_ids``, by (asset_id, date):
        what a re-asked close is compared with, to tell a revised close from a repeat."""
        with driver(self.session).cursor(binary=True) as cursor:
            rows = cursor.execute(
                "SELECT asset_id, date, close FROM prices "
                "WHERE asset_id = ANY(%s::int[]) AND date >= %s",
                (list(asset_ids), start),
            ).fetchall()
        return {(int(asset_id), day): close for asset_id, day, close in rows}

    def upsert(self, rows: Iterable[tuple[int, date, Decimal]]) -> int:
        """Insert or update market closes (asset_id, date, close) in one statement; returns
        how many."""
        batch = list(rows)
        if not batch:
            return 0
        send_upsert(driver(self.session), batch)
        return len(batch)

    def latest_day(self) -> date | None:
        """The latest day any close is stored for."""
        return self.session.execute(text("SELECT max(date) FROM prices")).scalar()
