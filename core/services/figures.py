"""Reading the stored figures: a client's daily series and metrics, and the office overview."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from core.db import UnitOfWork
from core.market.port import MarketData


class DailyPoint(BaseModel):
    """One stored day of a client's portfolio, with the capital invested so far."""

    model_config = ConfigDict(from_attributes=True)

    date: date
    market_value: Decimal
    flow_in: Decimal
    flow_out: Decimal
    invested: Decimal
    daily_return: Decimal
    cumulative_twr: Decimal


class MetricsOut(BaseModel):
    """A client's headline figures as of the last close (IRR None where undefined)."""

    model_config = ConfigDict(from_attributes=True)

    as_of: date
    market_value: Decimal
    invested: Decimal
    accumulated_return: Decimal | None
    twr: Decimal | None
    irr: Decimal | None
    computed_at: datetime


def client_history(uow: UnitOfWork, client_id: int) -> list[DailyPoint]:
    """The client's stored daily series, oldest first, with cumulative invested capital."""
    with uow:
        rows = uow.figures_read.daily_series(client_id)
        points: list[DailyPoint] = []
        invested = Decimal(0)
        for row in rows:
            invested += row.flow_in
            points.append(
                DailyPoint(
                    date=row.date,
                    market_value=row.market_value,
                    flow_in=row.flow_in,
                    flow_out=row.flow_out,
                    invested=invested,
                    daily_return=row.daily_return,
                    cumulative_twr=row.cumulative_twr,
                )
            )
        return points


@dataclass(frozen=True, slots=True)
class HistoryVersion:
    """The state of a client's stored daily series: equal versions mean equal series, so
    what is drawn from one (the history charts) can be kept until it changes."""

    days: int
    latest: date | None
    checksum: int


def history_version(uow: UnitOfWork, client_id: int) -> HistoryVersion:
    """The version of the client's stored daily series (one small aggregate query)."""
    with uow:
        return HistoryVersion(*uow.figures_read.series_version(client_id))


def client_metrics(uow: UnitOfWork, client_id: int) -> MetricsOut | None:
    """The client's latest stored metrics, or None before the first scheduler run."""
    with uow:
        row = uow.figures_read.latest_metrics(client_id)
        return MetricsOut.model_validate(row) if row else None


@dataclass(frozen=True, slots=True)
class Mover:
    """A held ticker and how much it moved today."""

    symbol: str
    name: str
    change: Decimal
    price: Decimal
    currency: str | None


@dataclass(slots=True)
class Overview:
    """The office at a glance."""

    assets_under_management: Decimal
    aum_as_of: date | None
    active_clients: int
    clients: int
    best: list[Mover] = field(default_factory=list)
    worst: list[Mover] = field(default_factory=list)
    unpriced: int = 0


def overview(uow: UnitOfWork, market: MarketData, *, movers: int = 5) -> Overview:
    """Assets under management (stored metrics at the latest close), client counts, and the
    best and worst movers today among held tickers (one batched quote call)."""
    with uow:
        latest = uow.figures_read.latest_close()
        aum = uow.figures_read.market_value_at(latest)
        total = uow.clients.count()
        active = uow.clients.count(status="active")
        held = uow.ledger.held_assets()
        names = {
            a.symbol: (a.name, a.currency) for a in uow.assets.by_ids(h.asset_id for h in held)
        }
    batch = market.quotes([h.symbol for h in held]) if held else None
    moves = []
    if batch:
        for symbol, quote in batch.quotes.items():
            if quote.change_pct is not None:
                name, currency = names.get(symbol, (symbol, quote.currency))
                moves.append(Mover(symbol, name, quote.change_pct, quote.price, currency))
    moves.sort(key=lambda m: m.change, reverse=True)
    return Overview(
        assets_under_management=aum,
        aum_as_of=latest,
        active_clients=active,
        clients=total,
        best=[m for m in moves if m.change > 0][:movers],
        worst=[m for m in reversed(moves) if m.change < 0][:movers],
        unpriced=len(batch.failed) if batch else 0,
    )
