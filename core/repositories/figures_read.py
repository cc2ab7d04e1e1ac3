"""Reads of the stored figures for pages: a client's daily series and latest metrics, and
the office's assets under management at the latest close.

The writes (and the invalidation that makes the unit of work recompute them) are in
:mod:`core.repositories.figures`; this module only reads what they stored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.models import DailyReturn, PortfolioMetric
from core.repositories.ids import holds, id_is


class FiguresReadRepository:
    """Reads ``daily_returns`` and ``portfolio_metrics`` inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def daily_series(self, client_id: int) -> list[DailyReturn]:
        """The client's stored days, oldest first (none for an id no client can have)."""
        stmt = (
            select(DailyReturn)
            .where(id_is(DailyReturn.client_id, client_id))
            .order_by(DailyReturn.date)
        )
        return list(self.session.scalars(stmt))

    def series_version(self, client_id: int) -> tuple[int, date | None, int]:
        """What identifies the client's stored days as they are now: how many, the latest,
        and the sum of a hash of each whole row (so a recompute that rewrites past days
        with other values changes it too), read without sending the rows."""
        if not holds(DailyReturn.client_id, client_id):  # no client can have that id
            return 0, None, 0
        row = self.session.execute(
            text(
                "SELECT count(*), max(date), coalesce(sum(hashtextextended(d::text, 0)), 0) "
                "FROM daily_returns AS d WHERE client_id = :client_id"
            ),
            {"client_id": client_id},
        ).one()
        return int(row[0]), row[1], int(row[2])

    def latest_metrics(self, client_id: int) -> PortfolioMetric | None:
        """The client's metrics at its latest stored close (None before the first run)."""
        stmt = (
            select(PortfolioMetric)
            .where(id_is(PortfolioMetric.client_id, client_id))
            .order_by(PortfolioMetric.as_of.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).one_or_none()

    def latest_close(self) -> date | None:
        """The latest date any client has metrics for (None before the first run)."""
        return self.session.scalar(select(func.max(PortfolioMetric.as_of)))

    def market_value_at(self, as_of: date | None) -> Decimal:
        """The sum of every client's stored market value at ``as_of`` (0 when none has
        metrics that day, or when ``as_of`` is None)."""
        stmt = select(func.coalesce(func.sum(PortfolioMetric.market_value), 0)).where(
            PortfolioMetric.as_of == as_of
        )
        return Decimal(self.session.scalar(stmt) or 0)

    def period_twrs(self, end: date, base: date) -> list[tuple[int, Decimal, bool]]:
        """Every client with figures on ``end``: its TWR since ``base`` (its stored day
        before the period) and whether it began after ``base`` (then since its first day:
        growth before the first day is 1). One scan of the date index for ``end``, one
        primary-key probe per client for ``base``."""
        rows = self.session.execute(
            text(
                "SELECT e.client_id, (1 + e.cumulative_twr) / (1 + coalesce(b.cumulative_twr, 0))"
                " - 1, b.client_id IS NULL FROM daily_returns e LEFT JOIN daily_returns b "
                "ON b.client_id = e.client_id AND b.date = :base WHERE e.date = :end"
            ),
            {"end": end, "base": base},
        )
        return [(int(client_id), Decimal(twr), bool(partial)) for client_id, twr, partial in rows]

    def series_bounds(self, client_id: int) -> tuple[date, date] | None:
        """The client's first and last stored days (None before its first figures)."""
        stmt = select(func.min(DailyReturn.date), func.max(DailyReturn.date)).where(
            id_is(DailyReturn.client_id, client_id)
        )
        first, last = self.session.execute(stmt).one()
        return None if first is None else (first, last)
