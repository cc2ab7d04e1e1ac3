"""What the system records: job runs, the audit log, the latest quotes, the benchmarks and
the stored statements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, Money, now_column


class JobRun(Base):
    """One run of a scheduler job: when, for which dates, how it went."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'success', 'partial', 'failed', 'skipped')", name="status"
        ),
        Index("ix_job_runs_job_started", "job_name", text("started_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64), nullable=False)
    target_from: Mapped[date | None] = mapped_column(Date)
    target_to: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime] = now_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="running")
    tickers_ok: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    tickers_failed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    failed_tickers: Mapped[list[str] | None] = mapped_column(JSONB(none_as_null=True))
    rows_written: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    triggered_by: Mapped[str | None] = mapped_column(String(254))
    # What the run could not do, per ticker and per client (see RunReport.details).
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))


class AuditEntry(Base):
    """Who changed what, when, with the row before and after the change; exports are
    recorded too (action ``export``: the datasets, filters and row counts in ``after``)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("action IN ('create', 'update', 'delete', 'export')", name="action"),
        Index("ix_audit_log_at", text("at DESC")),
        Index("ix_audit_log_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = now_column()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str] = mapped_column(String(254), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(64), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class LatestQuote(Base):
    """The live poller's latest good quote of a ticker, in the ticker's currency.

    Redis is the live-quote channel; this table is the copy that outlives it: while Redis is
    down, dashboards show these rows (with their age) instead of asking the market-data
    source once per open page. One row per ticker, replaced by each successful poll and never
    by a failed one. ``fetched_at`` is when the poller got the answer; ``source`` the adapter
    (``yahoo`` or ``demo``) it came from.
    """

    __tablename__ = "latest_quotes"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("symbol = upper(symbol) AND char_length(symbol) >= 1", name="symbol"),
    )

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    price: Mapped[Decimal] = mapped_column(Money, nullable=False)
    previous_close: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(8))
    market_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)


class BenchmarkValue(Base):
    """One published value of a benchmark series (migration 0009, docs/benchmarks.md): a
    rate as its published percent (CDI, Selic per day; IPCA per month, dated on the month's
    first day) or an index close (Ibovespa, IFIX), with where it came from."""

    __tablename__ = "benchmark_values"
    __table_args__ = (
        CheckConstraint("char_length(series) BETWEEN 1 AND 32", name="series"),
        CheckConstraint("source IN ('bcb', 'yahoo', 'demo')", name="source"),
    )

    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    fetched_at: Mapped[datetime] = now_column()


class Statement(Base):
    """A client's statement for a period as stored by the statements job (migration 0011,
    docs/statements.md): the PDF, and the fingerprint of the data it was drawn from."""

    __tablename__ = "statements"
    __table_args__ = (
        CheckConstraint("period_start <= period_end", name="period"),
        CheckConstraint("size = octet_length(pdf)", name="size"),
        CheckConstraint("char_length(fingerprint) = 64", name="fingerprint"),
        UniqueConstraint("client_id", "period_start", "period_end"),
        Index("ix_statements_period", "period_start", "client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
    )
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    generated_at: Mapped[datetime] = now_column()
    generated_by: Mapped[str] = mapped_column(String(254), nullable=False)
    job_run_id: Mapped[int | None] = mapped_column(BigInteger)
