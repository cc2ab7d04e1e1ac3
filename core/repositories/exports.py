"""Streaming reads for the exports: rows come off a server-side cursor a chunk at a time.

Each method of :class:`ExportRepository` (``uow.exports``) returns an iterator of plain
row tuples (or a short list); only :data:`CHUNK` rows are in memory at once (psycopg's
named cursor behind SQLAlchemy's ``yield_per``), so exporting a million daily returns
costs the same memory as exporting a hundred. The iterators must be consumed inside the
caller's transaction. Orders are stable: clients by folded name then id (as the clients
list), then by symbol/buy date or by date.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import Session

from core.models import Asset, Client, DailyReturn, Movement, PortfolioMetric
from core.repositories.clients import ClientRepository
from core.repositories.ids import id_is

CHUNK = 2000


class ExportRepository:
    """Streams the exports' rows inside the caller's transaction (``uow.exports``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def stream(self, statement: Select[Any]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``statement``, fetched :data:`CHUNK` at a time from a server-side cursor."""
        result = self.session.execute(statement, execution_options={"yield_per": CHUNK})
        try:
            for partition in result.partitions():
                for row in partition:
                    yield tuple(row)
        finally:
            result.close()

    def clients(self, folded_search: str, status: str | None) -> Iterator[tuple[Any, ...]]:
        """id, name, e-mail, document, phone, status, notes, created, updated — the clients the
        list shows for this search (already folded) and status."""
        statement = (
            select(
                Client.id,
                Client.name,
                Client.email,
                Client.document,
                Client.phone,
                Client.status,
                Client.notes,
                Client.created_at,
                Client.updated_at,
            )
            .where(*ClientRepository.filters(folded_search, status))
            .order_by(Client.sort_name, Client.id)
        )
        return self.stream(statement)

    def held_symbols(self, client_id: int | None) -> list[str]:
        """The tickers held by the client (or by anyone), for one batched quote call."""
        statement = (
            select(Asset.symbol)
            .distinct()
            .join(Movement, Movement.asset_id == Asset.id)
            .where(Movement.kind == "buy")
            .order_by(Asset.symbol)
        )
        if client_id is not None:
            statement = statement.where(id_is(Movement.client_id, client_id))
        return list(self.session.scalars(statement))

    def allocations(self, client_id: int | None) -> Iterator[tuple[Any, ...]]:
        """client id, name, e-mail, allocation id, symbol, asset name, currency, quantity, buy
        price, buy date — every lot of the client (or of every client), client by client."""
        statement = (
            select(
                Client.id,
                Client.name,
                Client.email,
                Movement.id,
                Asset.symbol,
                Asset.name,
                Asset.currency,
                Movement.quantity,
                Movement.price,
                Movement.date,
            )
            .join(Movement, Movement.client_id == Client.id)
            .join(Asset, Asset.id == Movement.asset_id)
            .where(Movement.kind == "buy")
            .order_by(Client.sort_name, Client.id, Asset.symbol, Movement.date, Movement.id)
        )
        if client_id is not None:
            statement = statement.where(id_is(Client.id, client_id))
        return self.stream(statement)

    def daily_returns(
        self, client_id: int | None, start: date | None, end: date | None
    ) -> Iterator[tuple[Any, ...]]:
        """client name, e-mail, date, market value, money in, money out, invested, daily return,
        cumulative TWR — the stored series in [start, end] (either bound optional).

        Invested is the running sum of money in since the client's first day (as on the client
        page), so it is summed over the days before ``start`` too, then those days are dropped.
        """
        invested = func.sum(DailyReturn.flow_in).over(
            partition_by=DailyReturn.client_id, order_by=DailyReturn.date
        )
        inner = select(
            DailyReturn.client_id,
            DailyReturn.date,
            DailyReturn.market_value,
            DailyReturn.flow_in,
            DailyReturn.flow_out,
            invested.label("invested"),
            DailyReturn.daily_return,
            DailyReturn.cumulative_twr,
        )
        if client_id is not None:
            inner = inner.where(id_is(DailyReturn.client_id, client_id))
        if end is not None:
            inner = inner.where(DailyReturn.date <= end)
        series = inner.subquery("series")
        statement = (
            select(
                Client.name,
                Client.email,
                series.c.date,
                series.c.market_value,
                series.c.flow_in,
                series.c.flow_out,
                series.c.invested,
                series.c.daily_return,
                series.c.cumulative_twr,
            )
            .join(series, series.c.client_id == Client.id)
            .order_by(Client.sort_name, Client.id, series.c.date)
        )
        if start is not None:
            statement = statement.where(series.c.date >= start)
        return self.stream(statement)

    def daily_returns_count(
        self, client_id: int | None, start: date | None, end: date | None
    ) -> int:
        """How many rows :meth:`daily_returns` would stream (an index-only count)."""
        statement = select(func.count()).select_from(DailyReturn)
        if client_id is not None:
            statement = statement.where(id_is(DailyReturn.client_id, client_id))
        if start is not None:
            statement = statement.where(DailyReturn.date >= start)
        if end is not None:
            statement = statement.where(DailyReturn.date <= end)
        return int(self.session.scalar(statement) or 0)

    def portfolio_summary(
        self, folded_search: str, status: str | None
    ) -> Iterator[tuple[Any, ...]]:
        """client name, e-mail, status, as-of date, invested, market value, accumulated return,
        TWR, IRR — each matching client's latest stored metrics (empty before the first close)."""
        latest = (
            select(
                PortfolioMetric.as_of,
                PortfolioMetric.invested,
                PortfolioMetric.market_value,
                PortfolioMetric.accumulated_return,
                PortfolioMetric.twr,
                PortfolioMetric.irr,
            )
            .where(PortfolioMetric.client_id == Client.id)
            .order_by(PortfolioMetric.as_of.desc())
            .limit(1)
            .lateral("latest")
        )
        statement = (
            select(
                Client.name,
                Client.email,
                Client.status,
                latest.c.as_of,
                latest.c.invested,
                latest.c.market_value,
                latest.c.accumulated_return,
                latest.c.twr,
                latest.c.irr,
            )
            .outerjoin(latest, true())
            .where(*ClientRepository.filters(folded_search, status))
            .order_by(Client.sort_name, Client.id)
        )
        return self.stream(statement)

    def ledger(self, client_id: int | None) -> Iterator[tuple[Any, ...]]:
        """client name, e-mail, date, kind, symbol, currency, quantity, price, fees, income
        type, amount, tax — every movement of the client (or of every client), client by
        client, then by date and entry order."""
        statement = (
            select(
                Client.name,
                Client.email,
                Movement.date,
                Movement.kind,
                Asset.symbol,
                Asset.currency,
                Movement.quantity,
                Movement.price,
                Movement.fees,
                Movement.income_type,
                Movement.amount,
                Movement.tax,
            )
            .join(Movement, Movement.client_id == Client.id)
            .join(Asset, Asset.id == Movement.asset_id)
            .order_by(Client.sort_name, Client.id, Movement.date, Movement.id)
        )
        if client_id is not None:
            statement = statement.where(id_is(Client.id, client_id))
        return self.stream(statement)

    def ledger_clients(self, client_id: int | None) -> list[tuple[int, str, str]]:
        """id, name, e-mail of the clients with a ledger (one, or all), in the clients' order."""
        has_ledger = select(Movement.id).where(Movement.client_id == Client.id).exists()
        statement = (
            select(Client.id, Client.name, Client.email)
            .where(has_ledger)
            .order_by(Client.sort_name, Client.id)
        )
        if client_id is not None:
            statement = statement.where(id_is(Client.id, client_id))
        return [tuple(row) for row in self.session.execute(statement)]  # type: ignore[misc]
