"""SQLAlchemy 2 typed models: the whole schema Anka stores (see docs/architecture.md).

Money and quantities are ``Numeric`` (``Decimal`` in Python), never float. Timestamps are
timezone-aware UTC. Rules that protect the data (unique e-mail ignoring case, valid CPF/CNPJ,
positive quantities, no future buy dates, ...) are database constraints, created by the
Alembic migrations; the models mirror them so the metadata stays the single description.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Precision for stored money/quantities: 20 digits, 8 after the point (fractional shares,
# crypto); returns keep 12 decimal places.
Money = Numeric(20, 8)
# A name must have a visible character: trim spaces, tabs, line breaks and no-break spaces.
NAME_NOT_BLANK = "char_length(btrim(name, E' \\t\\n\\r\\u00a0')) "
Ratio = Numeric(24, 12)


class Role(enum.StrEnum):
    """What a signed-in user may do: ``admin`` writes, ``read_only`` only reads."""

    ADMIN = "admin"
    READ_ONLY = "read_only"


class ClientStatus(enum.StrEnum):
    """Whether the advisor still manages the client."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class JobStatus(enum.StrEnum):
    """Outcome of a scheduler job run."""

    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class User(Base):
    """An advisor or operator who signs in."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'read_only')", name="role"),
        CheckConstraint(NAME_NOT_BLANK + "BETWEEN 1 AND 120", name="name_length"),
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    is_active: Mapped[bool] = mapped_column(server_default=text("true"), nullable=False)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class UserSession(Base):
    """A signed-in browser: its cookie carries a random token whose SHA-256 is stored here.

    Revoking the row (sign-out, password change, deactivation, role change) ends the
    session on the server, whatever copy of the cookie a browser still holds. Between the
    password check and the cookie being set, the row carries a one-time ``ticket`` instead
    (see :mod:`core.services.sessions`).
    """

    __tablename__ = "user_sessions"
    __table_args__ = (
        Index("ix_user_sessions_user_id", "user_id"),
        Index("uq_user_sessions_token_hash", "token_hash", unique=True),
        Index("uq_user_sessions_ticket_hash", "ticket_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[str | None] = mapped_column(String(64))
    ticket_hash: Mapped[str | None] = mapped_column(String(64))
    ticket_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInFailure(Base):
    """Recent failed sign-ins under one key (an e-mail, a source address, or both).

    Kept in PostgreSQL, the store every sign-in needs anyway, so the throttle cannot be
    switched off by a cache outage.
    """

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure_at: Mapped[datetime] = _now()


class Client(Base):
    """A client of the advisor, whose portfolio Anka follows."""

    __tablename__ = "clients"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
        CheckConstraint(NAME_NOT_BLANK + "BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("position('@' in email) > 1", name="email_shape"),
        CheckConstraint("document IS NULL OR anka_valid_document(document)", name="document_valid"),
        Index("uq_clients_email_lower", func.lower(text("email")), unique=True),
        Index("uq_clients_document", "document", unique=True),
        Index("ix_clients_status_name", "status", "sort_name", "id"),
        Index("ix_clients_sort_name", "sort_name", "id"),
        Index(
            "ix_clients_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    document: Mapped[str | None] = mapped_column(String(14))
    phone: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="active")
    notes: Mapped[str | None] = mapped_column(Text)
    # Accent- and case-folded copies kept by PostgreSQL itself, for stable ordering and
    # for the trigram contains-search on name, e-mail and document.
    sort_name: Mapped[str] = mapped_column(
        Text, Computed("anka_fold(name)", persisted=True), nullable=False
    )
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed(
            "anka_fold(name || ' ' || email || ' ' || coalesce(document, ''))", persisted=True
        ),
        nullable=False,
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Asset(Base):
    """A tradable instrument (e.g. PETR4.SA), created the first time a client holds it."""

    __tablename__ = "assets"
    __table_args__ = (
        CheckConstraint("symbol = upper(symbol) AND char_length(symbol) >= 1", name="symbol"),
        CheckConstraint(
            "asset_class IS NULL OR asset_class IN "
            "('acoes', 'fiis', 'etfs', 'bdrs', 'exterior', 'cripto', 'renda_fixa')",
            name="asset_class",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    exchange: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(String(8))
    asset_type: Mapped[str | None] = mapped_column(String(32))
    # An admin's correction of the class core.market.asset_classes derives (NULL: derived).
    asset_class: Mapped[str | None] = mapped_column(String(16))
    first_trade_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = _now()


class Movement(Base):
    """One line of a client's ledger for an asset: a buy, a sell, or income typed by hand.

    A buy or sell has a quantity, a price per share and fees; income (``income_type``
    dividend, JCP, rendimento or amortização) has a gross ``amount`` and the ``tax``
    withheld. Splits, bonus shares and income per share are events of the asset
    (:class:`AssetEvent`), not lines of a client's ledger. The analytics walk a ledger in
    :mod:`core.analytics.ledger`.
    """

    __tablename__ = "movements"
    __table_args__ = (
        CheckConstraint("kind IN ('buy', 'sell', 'income')", name="kind"),
        CheckConstraint(
            "(kind = 'income' AND quantity = 0) OR (kind <> 'income' AND quantity > 0)",
            name="quantity",
        ),
        CheckConstraint(
            "(kind = 'income' AND price = 0) OR (kind <> 'income' AND price > 0)", name="price"
        ),
        CheckConstraint("fees >= 0 AND (kind <> 'income' OR fees = 0)", name="fees"),
        CheckConstraint(
            "(kind = 'income' AND income_type IN ('dividend', 'jcp', 'rendimento', "
            "'amortizacao') AND amount > 0 AND tax >= 0 AND tax <= amount) "
            "OR (kind <> 'income' AND income_type IS NULL AND amount = 0 AND tax = 0)",
            name="income",
        ),
        CheckConstraint("date <= (now() AT TIME ZONE 'America/Sao_Paulo')::date", name="date_past"),
        Index("ix_movements_client_id", "client_id"),
        Index("ix_movements_asset_id", "asset_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
    )
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="RESTRICT"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="buy")
    quantity: Mapped[Decimal] = mapped_column(Money, nullable=False)
    price: Mapped[Decimal] = mapped_column(Money, nullable=False)
    fees: Mapped[Decimal] = mapped_column(Money, nullable=False, server_default="0")
    date: Mapped[date] = mapped_column(Date, nullable=False)
    income_type: Mapped[str | None] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False, server_default="0")
    tax: Mapped[Decimal] = mapped_column(Money, nullable=False, server_default="0")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class AssetEvent(Base):
    """A corporate event of an asset, which applies to every holder: a split or reverse
    split (``ratio`` shares after per share before), bonus shares (``ratio`` new shares per
    share, ``value`` the cost assigned per new share) or income per share (``value`` gross
    per share, ``ratio`` the rate withheld: 0.15 for JCP), on its ex-date. From market data
    (``source`` yahoo or demo) or typed by an admin; ``corrected`` events are not replaced
    by a later fetch, ``dismissed`` ones are ignored."""

    __tablename__ = "asset_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('split', 'bonus', 'dividend', 'jcp', 'rendimento', 'amortizacao')",
            name="kind",
        ),
        CheckConstraint(
            "(kind = 'split' AND ratio > 0 AND ratio <> 1) OR (kind = 'bonus' AND ratio > 0) "
            "OR (kind NOT IN ('split', 'bonus') AND ratio >= 0 AND ratio < 1)",
            name="ratio",
        ),
        CheckConstraint(
            "(kind = 'split' AND value = 0) OR (kind = 'bonus' AND value >= 0) "
            "OR (kind NOT IN ('split', 'bonus') AND value > 0)",
            name="value",
        ),
        CheckConstraint("source IN ('yahoo', 'demo', 'admin')", name="source"),
        UniqueConstraint("asset_id", "kind", "ex_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    ex_date: Mapped[date] = mapped_column(Date, nullable=False)
    ratio: Mapped[Decimal] = mapped_column(Ratio, nullable=False, server_default="0")
    value: Mapped[Decimal] = mapped_column(Money, nullable=False, server_default="0")
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    dismissed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    corrected: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Price(Base):
    """The daily close of an asset, in the asset's currency."""

    __tablename__ = "prices"
    __table_args__ = (CheckConstraint("close > 0", name="close_positive"),)

    # No foreign key (migration 0004): bulk upserts would check and lock the asset row per
    # close; a trigger on assets deletes these rows with their asset.
    asset_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    close: Mapped[Decimal] = mapped_column(Money, nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    fetched_at: Mapped[datetime] = _now()


class DailyReturn(Base):
    """A client's portfolio on one day: value, money in, time-weighted return, cumulative TWR."""

    __tablename__ = "daily_returns"
    __table_args__ = (Index("ix_daily_returns_date", "date"),)

    # No foreign key (migration 0002): bulk writes would check the client row per row;
    # a trigger on clients deletes these rows with their client.
    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    market_value: Mapped[Decimal] = mapped_column(Money, nullable=False)
    # Money in (buys, fees included) at the start of the day; money out (sells net of fees,
    # income net of tax) at its end, and the income part of it; all in reais.
    flow_in: Mapped[Decimal] = mapped_column(Money, nullable=False, server_default="0")
    flow_out: Mapped[Decimal] = mapped_column(Money, nullable=False, server_default="0")
    income: Mapped[Decimal] = mapped_column(Money, nullable=False, server_default="0")
    daily_return: Mapped[Decimal] = mapped_column(Ratio, nullable=False)
    cumulative_twr: Mapped[Decimal] = mapped_column(Ratio, nullable=False)


class PortfolioMetric(Base):
    """A client's headline figures as of a date; IRR is NULL where it is undefined."""

    __tablename__ = "portfolio_metrics"

    # No foreign key, like daily_returns (see migration 0002).
    client_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    market_value: Mapped[Decimal] = mapped_column(Money, nullable=False)
    invested: Mapped[Decimal] = mapped_column(Money, nullable=False)
    accumulated_return: Mapped[Decimal | None] = mapped_column(Ratio)
    twr: Mapped[Decimal | None] = mapped_column(Ratio)
    # Unbounded: an annualised IRR over a few days can be astronomically large.
    irr: Mapped[Decimal | None] = mapped_column(Numeric)
    computed_at: Mapped[datetime] = _now()


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
    started_at: Mapped[datetime] = _now()
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
    at: Mapped[datetime] = _now()
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
    fetched_at: Mapped[datetime] = _now()


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
    generated_at: Mapped[datetime] = _now()
    generated_by: Mapped[str] = mapped_column(String(254), nullable=False)
    job_run_id: Mapped[int | None] = mapped_column(BigInteger)
