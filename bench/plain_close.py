"""The day's close written plainly: the baseline the scheduler's vectorised job is measured
against (bench/closing.py).

It follows the same definitions (docs/metrics.md, core/analytics/ledger.py) the way a
careful engineer would write them without numpy: one batched market-data call for the day,
its closes upserted in one multi-row statement, set-based reads (each held asset's latest
close on or before the day with a LATERAL join on the primary key, the exchange-rate
series, the ledger, the events, the previous session's stored rows), then a loop per client
in ``Decimal`` and multi-row INSERTs of the day's daily_returns and portfolio_metrics in one
transaction. It is not tuned to be slow, nor cleverly fast: it is the honest alternative to
the scheduler's design, so the ratio says what that design buys.

Scope: buys, sells, typed income, splits and income per share (what the bench's book
holds); bonus shares are refused rather than guessed. It assumes, like a daily close, that
the previous session was computed: a client without a row on it starts from nothing.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import psycopg
from pyxirr import InvalidPaymentsError, xirr

from core import calendars
from core.analytics import fx
from core.market.port import MarketData

ZERO, ONE = Decimal(0), Decimal(1)
PER_SHARE = ("dividend", "jcp", "rendimento", "amortizacao")


@dataclass(frozen=True, slots=True)
class DayRow:
    """One client's daily_returns row for the day."""

    client_id: int
    market_value: Decimal
    flow_in: Decimal
    flow_out: Decimal
    income: Decimal
    daily_return: Decimal
    cumulative_twr: Decimal

    @property
    def returns(self) -> tuple[Decimal, Decimal]:
        """The daily return and the cumulative TWR."""
        return self.daily_return, self.cumulative_twr


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One client's portfolio_metrics row as of the day."""

    client_id: int
    market_value: Decimal
    invested: Decimal
    accumulated_return: Decimal | None
    twr: Decimal | None
    irr: float | None


@dataclass(slots=True)
class _Asset:
    """What the loop needs about one asset: its close, currency and events."""

    close: Decimal | None = None
    close_day: date | None = None
    rate_symbol: str | None = None
    factor: Decimal = ONE  # the rate series' factor (1/100 for minor units)
    split_days: list[date] = field(default_factory=list)
    split_products: list[Decimal] = field(default_factory=lambda: [ONE])
    income: list[tuple[date, Decimal, Decimal]] = field(default_factory=list)

    def split_factor(self, day: date) -> Decimal:
        """The product of the ratios of the splits with an ex-date on or before ``day``."""
        return self.split_products[bisect.bisect_right(self.split_days, day)]


class _Rates:
    """Reais per unit of each rate series on any day: its close carried forward, and
    before its first close its first one (docs/metrics.md)."""

    def __init__(self, series: dict[str, list[tuple[date, Decimal]]]) -> None:
        self.days = {symbol: [d for d, _ in rows] for symbol, rows in series.items()}
        self.values = {symbol: [v for _, v in rows] for symbol, rows in series.items()}

    def on(self, asset: _Asset, day: date) -> Decimal:
        if asset.rate_symbol is None:
            return ONE
        days, values = self.days[asset.rate_symbol], self.values[asset.rate_symbol]
        at = bisect.bisect_right(days, day) - 1
        return values[max(at, 0)] * asset.factor


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def plain_close(url: str, market: MarketData, day: date) -> tuple[list[DayRow], list[MetricRow]]:
    """Fetch, compute and store ``day`` for every client the plain way; returns the rows
    it wrote (see the module docstring)."""
    previous = calendars.previous_session(day)
    with psycopg.connect(_libpq(url)) as conn:
        held = conn.execute(
            "SELECT a.id, a.symbol, a.currency FROM assets a "
            "WHERE a.id IN (SELECT DISTINCT asset_id FROM movements WHERE date <= %s)",
            (day,),
        ).fetchall()
        pairs = {a: fx.pair_for(currency) for a, _s, currency in held}
        rate_symbols = sorted({p.symbol for p in pairs.values() if p is not None})
        rate_ids = dict(
            conn.execute(
                "SELECT symbol, id FROM assets WHERE symbol = ANY(%s)", (rate_symbols,)
            ).fetchall()
        )
        ids = {symbol: a for a, symbol, _c in held} | rate_ids
        batch = market.history(sorted(ids), day, day)
        fetched = [
            (ids[symbol], on, close)
            for symbol, series in batch.closes.items()
            for on, close in series.items()
            if on == day and symbol in ids
        ]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO prices (asset_id, date, close, source) VALUES (%s, %s, %s, 'plain') "
                "ON CONFLICT (asset_id, date) DO UPDATE SET close = EXCLUDED.close",
                fetched,
            )
        assets: dict[int, _Asset] = defaultdict(_Asset)
        for asset_id, close_day, close in conn.execute(
            "SELECT h.id, p.date, p.close FROM unnest(%s::int[]) AS h(id) CROSS JOIN LATERAL "
            "(SELECT date, close FROM prices WHERE asset_id = h.id AND date <= %s "
            "ORDER BY date DESC LIMIT 1) p",
            ([a for a, _s, _c in held], day),
        ):
            assets[asset_id].close, assets[asset_id].close_day = close, close_day
        for asset_id, pair in pairs.items():
            if pair is not None:
                assets[asset_id].rate_symbol = pair.symbol
                assets[asset_id].factor = Decimal(repr(pair.factor))
        series: dict[str, list[tuple[date, Decimal]]] = {s: [] for s in rate_symbols}
        by_id = {v: k for k, v in rate_ids.items()}
        for asset_id, on, close in conn.execute(
            "SELECT asset_id, date, close FROM prices WHERE asset_id = ANY(%s) "
            "AND date <= %s ORDER BY asset_id, date",
            (list(by_id), day),
        ):
            series[by_id[asset_id]].append((on, close))
        for asset_id, kind, ex_date, ratio, value in conn.execute(
            "SELECT asset_id, kind, ex_date, ratio, value FROM asset_events "
            "WHERE NOT dismissed AND ex_date <= %s ORDER BY asset_id, ex_date",
            (day,),
        ):
            asset = assets[asset_id]
            if kind == "split":
                asset.split_days.append(ex_date)
                asset.split_products.append(asset.split_products[-1] * ratio)
            elif kind in PER_SHARE:
                asset.income.append((ex_date, value, ratio))
            else:
                raise NotImplementedError(f"the plain baseline does not handle {kind}")
        stored = {
            client_id: (value, twr)
            for client_id, value, twr in conn.execute(
                "SELECT client_id, market_value, cumulative_twr FROM daily_returns "
                "WHERE date = %s",
                (previous,),
            )
        }
        movements = conn.execute(
            "SELECT client_id, asset_id, kind, quantity, price, fees, amount - tax, date "
            "FROM movements WHERE date <= %s ORDER BY client_id, asset_id, date, id",
            (day,),
        ).fetchall()
        rates = _Rates(series)
        days, metrics = [], []
        for client_id, mine in _groups(movements):
            prior = stored.get(client_id, (ZERO, ZERO))
            row, metric = _client(client_id, mine, assets, rates, day, previous, prior)
            days.append(row)
            metrics.append(metric)
        _store(conn, day, days, metrics)
    return days, metrics


def _groups(rows: Sequence[tuple]) -> Iterable[tuple[int, list[tuple]]]:
    """The movements (sorted by client) one client at a time."""
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or rows[index][0] != rows[start][0]:
            yield rows[start][0], rows[start:index]
            start = index


def _client(
    client_id: int,
    mine: list[tuple],
    assets: dict[int, _Asset],
    rates: _Rates,
    day: date,
    previous: date,
    prior: tuple[Decimal, Decimal],
) -> tuple[DayRow, MetricRow]:
    """One client's row for the day and its metrics, from its movements (sorted by asset
    then date), in Decimal."""
    value = flow_in = flow_out = income = invested = received = ZERO
    flows: list[tuple[date, Decimal]] = []
    by_asset: dict[int, list[tuple]] = defaultdict(list)
    for movement in mine:
        by_asset[movement[1]].append(movement)
    for asset_id, lines in by_asset.items():
        asset = assets[asset_id]
        now_factor, rate_now = asset.split_factor(day), rates.on(asset, day)
        for _c, _a, kind, quantity, price, fees, net, on in lines:
            rate = rates.on(asset, on)
            if kind == "income":
                received += net * rate
                flows.append((on, net * rate))
                if on > previous:
                    flow_out += net * rate
                    income += net * rate
                continue
            signed = quantity if kind == "buy" else -quantity
            if asset.close_day is not None and asset.close_day >= on:
                shares = signed * now_factor / asset.split_factor(on)
                value += shares * asset.close * rate_now
            else:  # no close since the movement: valued at its own price
                value += signed * price * rate_now
            money = quantity * price + fees if kind == "buy" else quantity * price - fees
            if kind == "buy":
                invested += money * rate
                flows.append((on, -money * rate))
                if on > previous:
                    flow_in += money * rate
            else:
                received += money * rate
                flows.append((on, money * rate))
                if on > previous:
                    flow_out += money * rate
        for ex_date, per_share, withholding in asset.income:
            factor = asset.split_factor(ex_date)
            held = sum(
                (
                    (q if kind == "buy" else -q) * factor / asset.split_factor(on)
                    for _c, _a, kind, q, _p, _f, _n, on in lines
                    if kind != "income" and on < ex_date
                ),
                ZERO,
            )
            net = held * per_share * (1 - withholding) * rates.on(asset, ex_date)
            if not net:
                continue
            received += net
            flows.append((ex_date, net))
            if ex_date > previous:
                flow_out += net
                income += net
    prior_value, prior_twr = prior
    base = prior_value + flow_in
    daily = (value + flow_out) / base - 1 if base > 0 else ZERO
    twr = ((1 + prior_twr) * (1 + daily) - 1).quantize(Decimal("1e-12"))
    row = DayRow(client_id, value, flow_in, flow_out, income, daily, twr)
    defined = invested > 0
    accumulated = (value + received - invested) / invested if defined else None
    first = min(on for on, _ in flows)
    rate: float | None = None
    if defined and (value > 0 or received > 0) and first < day:
        cash = [(on, float(amount)) for on, amount in flows if amount]
        if value:
            cash.append((day, float(value)))
        rate = _xirr(cash)
    metric = MetricRow(client_id, value, invested, accumulated, twr if defined else None, rate)
    return row, metric


def _xirr(cash: list[tuple[date, float]]) -> float | None:
    """XIRR of the flows, None without a finite solution."""
    try:
        result = xirr([on for on, _ in cash], [amount for _, amount in cash])
    except (InvalidPaymentsError, ValueError, ArithmeticError):
        return None
    return float(result) if result is not None and math.isfinite(result) else None


def _store(
    conn: psycopg.Connection, day: date, days: list[DayRow], metrics: list[MetricRow]
) -> None:
    """Replace the day's rows with multi-row INSERTs (executemany, pipelined by psycopg), in
    the connection's transaction."""
    conn.execute("DELETE FROM daily_returns WHERE date = %s", (day,))
    conn.execute("DELETE FROM portfolio_metrics WHERE as_of = %s", (day,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO daily_returns (client_id, date, market_value, flow_in, flow_out, "
            "income, daily_return, cumulative_twr) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (r.client_id, day, r.market_value, r.flow_in, r.flow_out, r.income, *r.returns)
                for r in days
            ],
        )
        cur.executemany(
            "INSERT INTO portfolio_metrics (client_id, as_of, market_value, invested, "
            "accumulated_return, twr, irr) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (m.client_id, day, m.market_value, m.invested, m.accumulated_return, m.twr, m.irr)
                for m in metrics
            ],
        )


Figures = tuple[dict[int, tuple], dict[int, tuple]]
"""A day's stored rows: daily_returns and portfolio_metrics, by client."""

DAILY = ("market_value", "flow_in", "flow_out", "income", "daily_return", "cumulative_twr")
METRICS = ("market_value", "invested", "accumulated_return", "twr", "irr")
MONEY = {"market_value", "flow_in", "flow_out", "income", "invested"}
CENT_TOLERANCE = Decimal("0.01")  # money: to the cent
RATIO_TOLERANCE = Decimal("1e-9")  # returns: stored to 12 places, computed in float64 by ours
IRR_TOLERANCE = 1e-6  # relative: both call pyxirr on the same flows, as floats


def stored_figures(url: str, day: date) -> Figures:
    """The day's stored daily_returns and portfolio_metrics rows, by client."""
    with psycopg.connect(_libpq(url)) as conn:
        daily = conn.execute(
            f"SELECT client_id, {', '.join(DAILY)} FROM daily_returns WHERE date = %s", (day,)
        ).fetchall()
        metrics = conn.execute(
            f"SELECT client_id, {', '.join(METRICS)} FROM portfolio_metrics WHERE as_of = %s",
            (day,),
        ).fetchall()
    return {r[0]: r[1:] for r in daily}, {r[0]: r[1:] for r in metrics}


def differences(ours: Figures, plain: Figures) -> list[str]:
    """Every figure where the two disagree beyond the tolerances: money to the cent,
    returns within 1e-9 (ours runs in float64, whose error on these sums is below 1e-12;
    a cent on a R$ 1 million portfolio is 1e-8, so a definition that differs by a cent
    still fails), IRR within 1e-6 relative (pyxirr's own convergence), None only with None."""
    found: list[str] = []
    for table, names, mine, theirs in (
        ("daily_returns", DAILY, ours[0], plain[0]),
        ("portfolio_metrics", METRICS, ours[1], plain[1]),
    ):
        if set(mine) != set(theirs):
            found.append(f"{table}: clients differ ({len(mine)} ours, {len(theirs)} plain)")
        for client_id in sorted(set(mine) & set(theirs)):
            for name, a, b in zip(names, mine[client_id], theirs[client_id], strict=True):
                if not _close(name, a, b):
                    found.append(f"{table} client {client_id} {name}: ours {a}, plain {b}")
    return found


def _close(name: str, a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if name == "irr":
        return abs(float(a) - float(b)) <= IRR_TOLERANCE * max(1.0, abs(float(a)))
    return abs(a - b) <= (CENT_TOLERANCE if name in MONEY else RATIO_TOLERANCE)
