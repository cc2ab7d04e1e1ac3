"""Stored statements (``statements``) and the marks of the data a statement is drawn from.

A statement's *marks* say, per client and month, what stored data a statement of that month
reads (docs/statements.md): the client's daily figures, movements, the events of the
assets it holds (from the day it first held each) and those assets' names and classes,
each through the month's end (counted and hashed row by row, cumulative over the months: a
changed earlier day changes every later month's mark, as it changes their cumulative TWR
and the monthly grid), and the client's name and document; and, for every client alike,
the values of the benchmarks a statement shows through the month's end. PostgreSQL computes
them in one pass per query, never by loading the rows. Writes are staged in the caller's
transaction, never committed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.models import Client, Statement
from core.repositories.marks import ASSET_ROW, EVENT_ROW, MOVEMENT_ROW

# Per client and month from its first stored day through :through's month: the cumulative
# count and hash of its daily figures, its movements, the events of its assets from the day
# it first held each, and the rows of those assets from that month on, all up to the
# month's end (anything older than the first stored month counts in it). Hashes sum
# ``hashtextextended`` of each row's chosen columns (an order-free sum, exact in numeric).
CLIENT_MARKS = text(f"""
    WITH firsts AS (
        SELECT client_id, CAST(date_trunc('month', min(date)) AS date) AS first
        FROM daily_returns
        WHERE client_id = ANY(:ids) AND date <= :through GROUP BY client_id
    ),
    months AS (
        SELECT f.client_id, CAST(m AS date) AS month
        FROM firsts f CROSS JOIN LATERAL generate_series(
            f.first, date_trunc('month', CAST(:through AS date)), interval '1 month') AS m
    ),
    daily AS (
        SELECT d.client_id, CAST(date_trunc('month', d.date) AS date) AS month, count(*) AS n,
            sum(hashtextextended(concat_ws('|', d.date, d.market_value, d.flow_in,
                d.flow_out, d.income, d.daily_return, d.cumulative_twr), 0)) AS h
        FROM daily_returns d
        WHERE d.client_id = ANY(:ids) AND d.date <= :through GROUP BY 1, 2
    ),
    moves AS (
        SELECT m.client_id,
            greatest(CAST(date_trunc('month', m.date) AS date), f.first) AS month,
            count(*) AS n, sum({MOVEMENT_ROW.format(p="m.")}) AS h
        FROM movements m JOIN firsts f ON f.client_id = m.client_id
        WHERE m.date <= :through GROUP BY 1, 2
    ),
    held AS (
        SELECT m.client_id, m.asset_id, min(m.date) AS since, f.first
        FROM movements m JOIN firsts f ON f.client_id = m.client_id
        WHERE m.date <= :through GROUP BY 1, 2, 4
    ),
    events AS (
        SELECT h.client_id,
            greatest(CAST(date_trunc('month', e.ex_date) AS date), h.first) AS month,
            count(*) AS n, sum({EVENT_ROW.format(p="e.")}) AS h
        FROM held h JOIN asset_events e ON e.asset_id = h.asset_id
        WHERE e.ex_date >= h.since AND e.ex_date <= :through GROUP BY 1, 2
    ),
    named AS (
        SELECT h.client_id, greatest(CAST(date_trunc('month', h.since) AS date), h.first)
            AS month, sum({ASSET_ROW.format(p="a.")}) AS h
        FROM held h JOIN assets a ON a.id = h.asset_id GROUP BY 1, 2
    )
    SELECT mo.client_id, mo.month,
        concat_ws(':', c.name, c.document,
            sum(coalesce(d.n, 0)) OVER w, sum(coalesce(d.h, 0)) OVER w,
            sum(coalesce(mv.n, 0)) OVER w, sum(coalesce(mv.h, 0)) OVER w,
            sum(coalesce(ev.n, 0)) OVER w, sum(coalesce(ev.h, 0)) OVER w,
            sum(coalesce(nm.h, 0)) OVER w) AS mark,
        coalesce(d.n, 0) > 0 AS has_days
    FROM months mo
    JOIN clients c ON c.id = mo.client_id
    LEFT JOIN daily d ON d.client_id = mo.client_id AND d.month = mo.month
    LEFT JOIN moves mv ON mv.client_id = mo.client_id AND mv.month = mo.month
    LEFT JOIN events ev ON ev.client_id = mo.client_id AND ev.month = mo.month
    LEFT JOIN named nm ON nm.client_id = mo.client_id AND nm.month = mo.month
    WINDOW w AS (PARTITION BY mo.client_id ORDER BY mo.month)
    """)  # noqa: S608 - formatted with the marks module's constants only

# Per month, the cumulative count and hash of the values of the benchmarks a statement
# shows (:series) up to its end.
BENCHMARK_MARKS = text("""
    WITH monthly AS (
        SELECT CAST(date_trunc('month', date) AS date) AS month, count(*) AS n,
            sum(hashtextextended(concat_ws('|', series, date, value, source), 0)) AS h
        FROM benchmark_values WHERE date <= :through AND series = ANY(:series) GROUP BY 1
    )
    SELECT month, concat_ws(':', sum(n) OVER w, sum(h) OVER w) AS mark
    FROM monthly WINDOW w AS (ORDER BY month)
    """)


@dataclass(frozen=True, slots=True)
class ClientMonth:
    """A client's mark for a month, and whether it has figures stored in that month."""

    mark: str
    has_days: bool


@dataclass(frozen=True, slots=True)
class StoredStatement:
    """A stored statement without its PDF (what a list shows)."""

    id: int
    client_id: int
    client_name: str
    period_start: date
    period_end: date
    size: int
    generated_at: datetime
    generated_by: str


def _listed(start: date, client_id: int | None, limit: int) -> Select[Any]:
    stmt = (
        select(
            Statement.id,
            Statement.client_id,
            Client.name,
            Statement.period_start,
            Statement.period_end,
            Statement.size,
            Statement.generated_at,
            Statement.generated_by,
        )
        .join(Client, Client.id == Statement.client_id)
        .where(Statement.period_start == start)
        .order_by(Client.sort_name, Client.id)
        .limit(limit)
    )
    if client_id is not None:
        stmt = stmt.where(Statement.client_id == client_id)
    return stmt


class StatementRepository:
    """Reads and writes ``statements`` in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def client_marks(
        self, client_ids: list[int], through: date
    ) -> dict[tuple[int, date], ClientMonth]:
        """Per (client, first day of month) through ``through``'s month: its mark (see the
        module docstring) and whether the month has stored figures."""
        if not client_ids:
            return {}
        rows = self.session.execute(CLIENT_MARKS, {"ids": client_ids, "through": through})
        return {(cid, month): ClientMonth(mark, has) for cid, month, mark, has in rows}

    def benchmark_marks(self, through: date, series: Sequence[str]) -> dict[date, str]:
        """Per first day of month, the mark of ``series``' values up to its end."""
        rows = self.session.execute(BENCHMARK_MARKS, {"through": through, "series": list(series)})
        return {month: mark for month, mark in rows}

    def fingerprints(self) -> dict[tuple[int, date, date], str]:
        """Every stored statement's fingerprint, by (client, start, end)."""
        stmt = select(
            Statement.client_id, Statement.period_start, Statement.period_end, Statement.fingerprint
        )
        return {(c, s, e): f for c, s, e, f in self.session.execute(stmt)}

    def store(
        self,
        client_id: int,
        start: date,
        end: date,
        *,
        fingerprint: str,
        pdf: bytes,
        generated_by: str,
        job_run_id: int | None,
    ) -> None:
        """Insert the statement, or replace the stored one of the same client and period."""
        values = {
            "client_id": client_id,
            "period_start": start,
            "period_end": end,
            "fingerprint": fingerprint,
            "pdf": pdf,
            "size": len(pdf),
            "generated_by": generated_by,
            "job_run_id": job_run_id,
        }
        stmt = insert(Statement).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["client_id", "period_start", "period_end"],
            set_={**{k: stmt.excluded[k] for k in values}, "generated_at": text("now()")},
        )
        self.session.execute(stmt)

    def months(self) -> list[date]:
        """The first days of the months that have stored statements, latest first."""
        stmt = select(Statement.period_start).distinct().order_by(Statement.period_start.desc())
        return list(self.session.scalars(stmt))

    def listed(
        self, start: date, *, client_id: int | None = None, limit: int = 500
    ) -> list[StoredStatement]:
        """The stored statements of the period starting on ``start`` (a month), by client
        name (only ``client_id``'s when given), at most ``limit``."""
        stmt = _listed(start, client_id, limit)
        return [StoredStatement(*row) for row in self.session.execute(stmt)]

    def with_pdfs(
        self, start: date, *, client_id: int | None = None, limit: int = 500
    ) -> list[tuple[StoredStatement, bytes]]:
        """As :meth:`listed`, each with its PDF (one query)."""
        stmt = _listed(start, client_id, limit).add_columns(Statement.pdf)
        return [(StoredStatement(*row[:-1]), row[-1]) for row in self.session.execute(stmt)]

    def count(self, start: date, *, client_id: int | None = None) -> int:
        """How many statements are stored for the period starting on ``start`` (a month),
        ``client_id``'s only when given."""
        stmt = select(func.count()).select_from(Statement).where(Statement.period_start == start)
        if client_id is not None:
            stmt = stmt.where(Statement.client_id == client_id)
        return int(self.session.scalar(stmt) or 0)

    def pdf(self, statement_id: int) -> tuple[int, date, bytes] | None:
        """A stored statement's client, period start and PDF; None when there is none."""
        row = self.session.execute(
            select(Statement.client_id, Statement.period_start, Statement.pdf).where(
                Statement.id == statement_id
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])
