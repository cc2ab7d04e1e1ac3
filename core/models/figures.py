"""What the jobs compute per client: the daily series and the metrics as of a date."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    Index,
    Integer,
    Numeric,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, Money, Ratio, now_column


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
    computed_at: Mapped[datetime] = now_column()
