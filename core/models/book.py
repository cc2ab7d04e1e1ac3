"""The book: assets, each client's ledger (movements), the assets' events and their closes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, Money, Ratio, now_column


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
    created_at: Mapped[datetime] = now_column()


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
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


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
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


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
    fetched_at: Mapped[datetime] = now_column()
