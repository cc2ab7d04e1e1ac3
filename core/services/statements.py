"""What a client's statement for a period says (docs/statements.md): gathered here from the
stored figures, the ledger and the benchmarks; drawn as a PDF by
:mod:`core.reports.statement_pdf`.

The period is [start, end] (a month, or any range). Its figures come from the stored daily
series: the value at the start is the market value on the last stored day before it (0 for
a client that began inside it), the value at the end the market value on the last stored
day through ``end`` (``as_of``); money in, money out and income are the sums of the stored
days inside; the result is value at the end − value at the start − money in + money out
(income is money out, so it is in the result); the TWR chains the stored cumulative TWR
(:mod:`core.analytics.periods`); the IRR is the XIRR of −value at the start, each day's
−money in and +money out, and +value at the end. Positions are the ledger's at the end of
``as_of``, priced at that day's stored closes (and rates). Any role may read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from core.analytics.allocation import Allocation, allocation
from core.analytics.benchmarks import BenchmarkReturn, percent_of
from core.analytics.metrics import irr
from core.analytics.periods import Growth
from core.db import UnitOfWork
from core.errors import NotFound
from core.models import DailyReturn
from core.schemas import ClientOut
from core.services.benchmarks import benchmark_returns
from core.services.movements import client_ledger
from core.services.period_returns import SHOWN, ClientReturns, benchmark_curves, compare_growth
from core.services.positions import PositionsView, positions_at
from core.services.principal import Principal
from core.trade_schemas import LedgerLineOut

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Summary:
    """The period in money and in rates (TWR, % do CDI and IRR None where undefined)."""

    value_start: Decimal
    value_end: Decimal
    money_in: Decimal
    money_out: Decimal
    income: Decimal
    result: Decimal
    twr: Decimal | None
    percent_of_cdi: Decimal | None
    irr: Decimal | None
    benchmarks: dict[str, BenchmarkReturn]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a figure comes from and how recent it is (the statement's footer)."""

    what: str  # "closes", "CDI", "IBOV", "IPCA"
    source: str  # "demo", "yahoo", "bcb", "stored_closes"
    through: date | None


@dataclass(slots=True)
class StatementData:
    """Everything a statement shows; ``as_of`` None when nothing is stored through the
    period's end (the statement then says so and shows only the header)."""

    firm: str
    client: ClientOut
    start: date
    end: date
    as_of: date | None
    generated_at: datetime
    demo: bool
    summary: Summary | None = None
    returns: ClientReturns | None = None
    positions: PositionsView | None = None
    allocation: Allocation | None = None
    income: list[LedgerLineOut] = field(default_factory=list)
    movements: list[LedgerLineOut] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    market_values: list[Decimal] = field(default_factory=list)
    twr: list[Decimal] = field(default_factory=list)
    curves: dict[str, list[float | None]] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)


INCOME_EVENTS = frozenset({"dividend", "jcp", "rendimento", "amortizacao"})


def _is_income(line: LedgerLineOut) -> bool:
    if line.is_event:
        return line.event_kind in INCOME_EVENTS
    return line.movement is not None and line.movement.kind == "income"


def summarise(rows: list[DailyReturn], start: date, end: date) -> Summary | None:
    """The period's figures from the client's stored days (oldest first); None when no
    day is stored through ``end`` inside or before the period."""
    before = [r for r in rows if r.date < start]
    inside = [r for r in rows if start <= r.date <= end]
    if not inside:
        return None
    value_start = before[-1].market_value if before else ZERO
    value_end = inside[-1].market_value
    money_in = sum((r.flow_in for r in inside), ZERO)
    money_out = sum((r.flow_out for r in inside), ZERO)
    income = sum((r.income for r in inside), ZERO)
    growth = Growth.of([r.date for r in rows], [r.cumulative_twr for r in rows])
    dates: list[date] = []
    amounts: list[float] = []
    if value_start:
        dates.append(before[-1].date)
        amounts.append(-float(value_start))
    for r in inside:
        flow = r.flow_out - r.flow_in
        if flow:
            dates.append(r.date)
            amounts.append(float(flow))
    if value_end:
        dates.append(inside[-1].date)
        amounts.append(float(value_end))
    rate = irr(dates, amounts)
    return Summary(
        value_start=value_start,
        value_end=value_end,
        money_in=money_in,
        money_out=money_out,
        income=income,
        result=value_end - value_start - money_in + money_out,
        twr=growth.twr(start, end),
        percent_of_cdi=None,
        irr=None if rate is None else Decimal(str(rate)),
        benchmarks={},
    )


def statement_data(
    make_uow: Callable[[], UnitOfWork],
    market_name: str,
    actor: Principal,
    client_id: int,
    start: date,
    end: date,
    *,
    firm: str,
) -> StatementData:
    """Gather a client's statement for [start, end] (see the module docstring).
    ``make_uow`` makes a fresh unit of work per read (each service opens its own);
    ``market_name`` is the market data's (``demo`` labels every page as demo data). Only
    stored data is read: nothing is asked of the market."""
    with make_uow() as uow:
        client = uow.clients.get(client_id)
        if client is None:
            raise NotFound()
        out = ClientOut.model_validate(client)
        rows = [r for r in uow.figures_read.daily_series(client_id) if r.date <= end]
        data = StatementData(
            firm=firm,
            client=out,
            start=start,
            end=end,
            as_of=rows[-1].date if rows and rows[-1].date >= start else None,
            generated_at=datetime.now(UTC),
            demo=market_name == "demo",
        )
        summary = summarise(rows, start, end)
        if summary is None or data.as_of is None:
            return data
        first = max(start, rows[0].date)
        found = {name: benchmark_returns(uow, name, first, data.as_of) for name in SHOWN}
        cdi = found["CDI"]
        ratio = None if summary.twr is None else percent_of(summary.twr, cdi)
        data.summary = replace(summary, benchmarks=found, percent_of_cdi=ratio)
        growth = Growth.of([r.date for r in rows], [r.cumulative_twr for r in rows])
        data.returns = compare_growth(uow, growth)
        data.days = [r.date for r in rows]
        data.market_values = [r.market_value for r in rows]
        data.twr = [r.cumulative_twr for r in rows]
        data.curves = benchmark_curves(uow, data.days)
        sources = uow.benchmarks.sources(SHOWN)
        bounds = uow.benchmarks.bounds()
        data.sources = [Source("closes", market_name, data.as_of)] + [
            Source(
                name,
                ", ".join(sorted(sources.get(name, ()))) or "—",
                _through(bounds, name, data.as_of),
            )
            for name in SHOWN
        ]
    data.positions = positions_at(make_uow(), client_id, data.as_of)
    data.allocation = allocation(data.positions.rows, data.positions.market_value_brl)
    ledger = client_ledger(make_uow(), actor, client_id)
    inside = [line for line in ledger if start <= line.date <= end]
    data.movements = sorted(inside, key=lambda line: line.date)
    data.income = [line for line in data.movements if _is_income(line)]
    return data


def _through(bounds: dict[str, tuple[date, date]], name: str, as_of: date) -> date | None:
    """The series' last stored day the statement used (none after its as-of day: a
    statement drawn again later says the same)."""
    found = bounds.get(name)
    return min(found[1], as_of) if found else None


def month_period(year: int, month: int) -> tuple[date, date]:
    """A calendar month as a statement period: its first and last days."""
    start = date(year, month, 1)
    return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def statement_months(uow: UnitOfWork, client_id: int) -> list[tuple[int, int]]:
    """The (year, month) the client has stored figures in, latest first: the months a
    statement can be asked for."""
    with uow:
        bounds = uow.figures_read.series_bounds(client_id)
    if bounds is None:
        return []
    first, last = bounds
    months = []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months
