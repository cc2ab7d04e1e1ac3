"""The live poller's latest quotes (``latest_quotes``): one bulk upsert per poll, reads of many.

Rows are staged in the caller's transaction, never committed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.models import LatestQuote

# One statement whatever the number of tickers: the columns travel as seven arrays (not
# seven parameters per row, which would meet the protocol's 65,535-parameter limit). A row
# already holding a later poll is kept: an answer that arrived late never replaces a newer one.
UPSERT = text("""
    INSERT INTO latest_quotes
        (symbol, price, previous_close, currency, market_time, fetched_at, source)
    SELECT *
    FROM unnest(
        CAST(:symbols AS varchar[]),
        CAST(:prices AS numeric[]),
        CAST(:previous_closes AS numeric[]),
        CAST(:currencies AS varchar[]),
        CAST(:market_times AS timestamptz[]),
        CAST(:fetched_ats AS timestamptz[]),
        CAST(:sources AS varchar[])
    )
    ON CONFLICT (symbol) DO UPDATE SET
        price = excluded.price,
        previous_close = excluded.previous_close,
        currency = excluded.currency,
        market_time = excluded.market_time,
        fetched_at = excluded.fetched_at,
        source = excluded.source
    WHERE latest_quotes.fetched_at <= excluded.fetched_at
    """)


@dataclass(frozen=True, slots=True)
class LatestQuoteRow:
    """One ticker's polled quote, as stored."""

    symbol: str
    price: Decimal
    previous_close: Decimal | None
    currency: str | None
    market_time: datetime | None
    fetched_at: datetime
    source: str


class LatestQuoteRepository:
    """Reads and writes ``latest_quotes`` in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, rows: Sequence[LatestQuoteRow]) -> int:
        """Insert or replace these tickers' rows in one statement (a stored row with a later
        ``fetched_at`` is kept); the number of rows written."""
        if not rows:
            return 0
        result = self.session.execute(
            UPSERT,
            {
                "symbols": [r.symbol for r in rows],
                "prices": [r.price for r in rows],
                "previous_closes": [r.previous_close for r in rows],
                "currencies": [r.currency for r in rows],
                "market_times": [r.market_time for r in rows],
                "fetched_ats": [r.fetched_at for r in rows],
                "sources": [r.source for r in rows],
            },
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def many(self, symbols: Sequence[str], *, source: str) -> list[LatestQuoteRow]:
        """The stored rows of ``symbols`` that came from ``source`` (a dashboard on demo data
        never shows a Yahoo price, nor the reverse), in no particular order."""
        if not symbols:
            return []
        stmt = select(LatestQuote).where(
            LatestQuote.symbol.in_(list(symbols)), LatestQuote.source == source
        )
        return [
            LatestQuoteRow(
                symbol=q.symbol,
                price=q.price,
                previous_close=q.previous_close,
                currency=q.currency,
                market_time=q.market_time,
                fetched_at=q.fetched_at,
                source=q.source,
            )
            for q in self.session.scalars(stmt)
        ]
