"""The benchmark series (CDI, Selic, IPCA, Ibovespa, IFIX) and where their values come from.

Rates come from the Banco Central's SGS (:mod:`core.market.sgs`) or, with demo market data,
from :mod:`core.market.demo_rates`; index closes come through the market-data port
(``MarketData.history``, Yahoo or demo), whichever adapter ``ANKA_MARKET_DATA`` selects.
A source answers one series at a time with a :class:`SeriesFetch`: the values it has, the
rows it rejected and why, or why the whole series failed (a reason code of
:data:`core.market.port.FAILURE_REASONS`). It never makes a value up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from core.config import Settings
from core.market import demo_rates, port
from core.market.catalogue import INDICES
from core.market.demo import MARKET_TZ, DemoMarketData
from core.market.errors import MalformedResponse, MarketDataError, RateLimited
from core.market.port import MarketData
from core.market.sgs import Rejected, SgsClient

DAILY, MONTHLY = "daily", "monthly"
RATE, LEVEL = "rate", "level"  # percent per period / an index close


@dataclass(frozen=True, slots=True)
class Series:
    """A benchmark: its stored name, how it is fetched (an SGS ``code`` or a market
    ``symbol``), how often it is published and what its value is."""

    name: str
    frequency: str
    unit: str
    code: int | None = None
    symbol: str | None = None


CDI = Series("CDI", DAILY, RATE, code=12)
SELIC = Series("SELIC", DAILY, RATE, code=11)
IPCA = Series("IPCA", MONTHLY, RATE, code=433)
IBOVESPA = Series("IBOV", DAILY, LEVEL, symbol="^BVSP")
IFIX = Series("IFIX", DAILY, LEVEL, symbol="IFIX.SA")
SERIES: tuple[Series, ...] = (CDI, SELIC, IPCA, IBOVESPA, IFIX)
BY_NAME: dict[str, Series] = {s.name: s for s in SERIES}


@dataclass(slots=True)
class SeriesFetch:
    """One series' answer for a range: values (date -> value), rows rejected, or a
    failure (``failed`` a reason code, ``detail`` what exactly)."""

    values: dict[date, Decimal] = field(default_factory=dict)
    source: str = "demo"
    rejected: list[Rejected] = field(default_factory=list)
    failed: str | None = None
    detail: str | None = None


class BenchmarkSource(Protocol):
    """What the benchmark job asks of a source."""

    name: str

    def fetch(self, series: Series, start: date, end: date) -> SeriesFetch:
        """The values of ``series`` published in [start, end]."""
        ...


def plausible(series: Series, value: Decimal) -> str | None:
    """Why ``value`` cannot be a value of ``series`` (None when it can): a rate of -100 %
    or less per period, an index close of zero or less."""
    if not value.is_finite():
        return "not a finite number"
    if series.unit == RATE and value <= -100:
        return "a rate of -100 % or less"
    if series.unit == LEVEL and value <= 0:
        return "an index close of zero or less"
    return None


def _checked(series: Series, fetch: SeriesFetch) -> SeriesFetch:
    for day, value in sorted(fetch.values.items()):
        reason = plausible(series, value)
        if reason is not None:
            del fetch.values[day]
            fetch.rejected.append(Rejected(f"{day.isoformat()} {value}", reason))
    return fetch


def _reason(exc: MarketDataError) -> str:
    if isinstance(exc, RateLimited):
        return port.RATE_LIMITED
    if isinstance(exc, MalformedResponse):
        return port.MALFORMED
    return port.UNAVAILABLE


def from_market(market: MarketData, series: Series, start: date, end: date) -> SeriesFetch:
    """An index's closes through the market-data port (source ``yahoo`` or ``demo``)."""
    assert series.symbol is not None
    source = "yahoo" if market.name == "yahoo" else "demo"
    try:
        batch = market.history([series.symbol], start, end)
    except MarketDataError as exc:  # adapters report per ticker; a raise is the whole call
        return SeriesFetch(source=source, failed=_reason(exc), detail=str(exc))
    if series.symbol in batch.failed:
        return SeriesFetch(
            source=source,
            failed=batch.failed[series.symbol],
            detail=batch.details.get(series.symbol),
        )
    closes = batch.closes.get(series.symbol, {})
    fetch = SeriesFetch(
        values={day: close for day, close in closes.items() if start <= day <= end},
        source=source,
    )
    dropped = batch.dropped.get(series.symbol, 0)
    if dropped:
        fetch.rejected.append(Rejected(f"{dropped} close(s)", "sent empty by the source"))
    return _checked(series, fetch)


class LiveBenchmarks:
    """Rates from the SGS API, index closes from the market-data port (Yahoo)."""

    name = "bcb"

    def __init__(self, market: MarketData, sgs: SgsClient | None = None) -> None:
        self.market = market
        self.sgs = sgs or SgsClient()

    def fetch(self, series: Series, start: date, end: date) -> SeriesFetch:
        """See :class:`BenchmarkSource`."""
        if series.code is None:
            return from_market(self.market, series, start, end)
        try:
            answer = self.sgs.fetch(series.code, start, end)
        except MarketDataError as exc:
            detail = exc.params.get("detail") or str(exc)
            return SeriesFetch(source="bcb", failed=_reason(exc), detail=str(detail))
        fetch = SeriesFetch(
            values=answer.values,
            source="bcb",
            rejected=list(answer.rejected),
        )
        return _checked(series, fetch)


class DemoBenchmarks:
    """Synthetic rates (:mod:`core.market.demo_rates`) and index closes, all labelled
    ``demo``. The closes come from ``market``, by default a demo adapter over the benchmark
    indices (:data:`core.market.catalogue.INDICES`, kept out of the catalogue clients buy
    from), through the port like any close."""

    name = "demo"

    def __init__(
        self, market: MarketData | None = None, today: Callable[[], date] | None = None
    ) -> None:
        self.market = market or DemoMarketData(listings=INDICES)
        self._today = today or (lambda: datetime.now(MARKET_TZ).date())

    def fetch(self, series: Series, start: date, end: date) -> SeriesFetch:
        """See :class:`BenchmarkSource`."""
        today = self._today()
        if series.code is None:
            return from_market(self.market, series, start, end)
        if series.frequency == MONTHLY:
            values = demo_rates.monthly_series(start, end, today)
        else:
            spread = 0.001 if series is SELIC else 0.0
            values = demo_rates.daily_series(start, end, today, spread)
        return SeriesFetch(values=values, source="demo")


def build_benchmark_source(settings: Settings, market: MarketData) -> BenchmarkSource:
    """The benchmark source for ``ANKA_MARKET_DATA`` (the setting that picks market data):
    demo rates and indices with demo data, the SGS API and ``market`` (Yahoo) otherwise."""
    if settings.market_data == "demo":
        return DemoBenchmarks()
    return LiveBenchmarks(market)
