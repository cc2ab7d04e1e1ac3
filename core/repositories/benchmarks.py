"""Benchmark values (``benchmark_values``): one bulk upsert per series fetch, and the reads
the benchmark job and the benchmark returns need.

Rows are staged in the caller's transaction, never committed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.models import BenchmarkValue, Movement

# One statement whatever the number of days (the values travel as arrays). A value that is
# already stored unchanged is left alone, so a repeated fetch writes nothing; a changed one
# (revised upstream) is replaced. RETURNING tells which rows were written and whether each
# was new (xmax = 0 on an inserted row).
UPSERT = text("""
    INSERT INTO benchmark_values AS b (series, date, value, source, fetched_at)
    SELECT CAST(:series AS varchar), d, v, CAST(:source AS varchar), now()
    FROM unnest(CAST(:dates AS date[]), CAST(:values AS numeric[])) AS t(d, v)
    ON CONFLICT (series, date) DO UPDATE SET
        value = excluded.value, source = excluded.source, fetched_at = excluded.fetched_at
    WHERE b.value IS DISTINCT FROM excluded.value OR b.source IS DISTINCT FROM excluded.source
    RETURNING b.date, (xmax = 0) AS inserted
    """)


class BenchmarkRepository:
    """Reads and writes ``benchmark_values`` in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(
        self, series: str, values: Mapping[date, Decimal], source: str
    ) -> tuple[int, list[date]]:
        """Store ``values`` of ``series`` (new ones inserted, changed ones replaced, equal
        ones left alone); how many rows were written, and the dates of those replaced."""
        if not values:
            return 0, []
        days = sorted(values)
        rows = self.session.execute(
            UPSERT,
            {
                "series": series,
                "source": source,
                "dates": days,
                "values": [values[day] for day in days],
            },
        ).all()
        return len(rows), sorted(day for day, inserted in rows if not inserted)

    def bounds(self) -> dict[str, tuple[date, date]]:
        """Per stored series, its first and last stored dates."""
        stmt = select(
            BenchmarkValue.series, func.min(BenchmarkValue.date), func.max(BenchmarkValue.date)
        ).group_by(BenchmarkValue.series)
        return {series: (first, last) for series, first, last in self.session.execute(stmt)}

    def dates(self, series: str, start: date, end: date) -> set[date]:
        """The dates of ``series`` stored in [start, end]."""
        stmt = select(BenchmarkValue.date).where(
            BenchmarkValue.series == series, BenchmarkValue.date.between(start, end)
        )
        return set(self.session.scalars(stmt))

    def values(self, series: str, start: date, end: date) -> dict[date, Decimal]:
        """The stored values of ``series`` in [start, end], by date."""
        stmt = select(BenchmarkValue.date, BenchmarkValue.value).where(
            BenchmarkValue.series == series, BenchmarkValue.date.between(start, end)
        )
        return {day: value for day, value in self.session.execute(stmt)}

    def sources(self, series: Iterable[str]) -> dict[str, set[str]]:
        """Per series, the sources its stored values came from (``bcb``, ``yahoo``,
        ``demo``): a page labels demo values as demo."""
        stmt = (
            select(BenchmarkValue.series, BenchmarkValue.source)
            .where(BenchmarkValue.series.in_(list(series)))
            .distinct()
        )
        found: dict[str, set[str]] = {}
        for name, source in self.session.execute(stmt):
            found.setdefault(name, set()).add(source)
        return found

    def first_movement_date(self) -> date | None:
        """The date of the oldest movement of any client (where benchmarks start when none
        is stored yet), None without movements."""
        return self.session.scalar(select(func.min(Movement.date)))

    def version(self) -> tuple[int, str]:
        """How many values are stored and when the latest was written: it changes with
        every value added or revised (what a cached chart of the benchmarks is keyed by)."""
        count, latest = self.session.execute(
            text("SELECT count(*), max(fetched_at) FROM benchmark_values")
        ).one()
        return int(count), str(latest)
