"""The scheduler at scale (issue 4's targets), on a synthetic book generated here.

* 10,000 clients, 100,000 lots, 500 tickers, market data from a local source (the demo
  adapter over 500 synthetic listings):
  - a 5-year backfill (about 1,260 B3 sessions) <= 3 min, peak memory <= 1.5 GiB (run in
    a child process so its peak resident memory is its own);
  - the next day's close job (fetch + compute + write) <= 3 s;
* the same day's job on a 1,000-lot book done row by row through the ORM, in the same run:
  the speed ratio (ours must be >= 50x) and our write rate against a raw COPY of the rows.
"""

from __future__ import annotations

import io
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import psycopg
from pyxirr import xirr
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from bench.db import throwaway_database
from core import calendars
from core.db import UnitOfWork, engine_for, uow_factory
from core.market.catalogue import Listing
from core.market.demo import DemoMarketData
from core.models import DailyReturn, Movement, PortfolioMetric, Price
from core.services import closing
from core.services.principal import SYSTEM

CLIENTS, LOTS, TICKERS = 10_000, 100_000, 500
SMALL_CLIENTS, SMALL_LOTS, SMALL_TICKERS = 100, 1_000, 50
CLOSE_DAY = date(2026, 11, 27)
BACKFILL_END = date(2026, 11, 26)
BACKFILL_START = date(2021, 11, 26)
TARGET_DAY_S, TARGET_BACKFILL_S, TARGET_PEAK_GIB, TARGET_RATIO = 3.0, 180.0, 1.5, 50.0
DAY_RUNS = 3  # the large day's close, repeated: the median is reported
NAIVE_RUNS, SMALL_RUNS = 3, 9  # the 1,000-lot comparison (ours is ~30 ms: noise matters)
# A row-by-row run before every third of ours (the two ways take turns).
assert SMALL_RUNS % NAIVE_RUNS == 0, "our runs must split evenly around the row-by-row ones"


def listings(n: int) -> list[Listing]:
    """``n`` synthetic B3 listings for the local market source."""
    return [
        Listing(f"BK{i:04d}.SA", f"Bench {i}", "São Paulo", "Equity", "BRL", 10.0 + i % 90, 0.3)
        for i in range(n)
    ]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def seed(url: str, clients: int, lots: int, tickers: int, since: date) -> None:
    """COPY a deterministic book into the database at ``url``."""
    rng = random.Random(11)
    span = (BACKFILL_END - since).days
    with psycopg.connect(_libpq(url)) as conn:
        with conn.cursor().copy("COPY clients (name, email) FROM STDIN") as copy:
            for i in range(clients):
                copy.write_row((f"Cliente {i}", f"cliente{i}@bench.example"))
        with conn.cursor().copy("COPY assets (symbol, name, currency) FROM STDIN") as copy:
            for listing in listings(tickers):
                copy.write_row((listing.symbol, listing.name, "BRL"))
        ids = [r[0] for r in conn.execute("SELECT id FROM clients ORDER BY id")]
        assets = [r[0] for r in conn.execute("SELECT id FROM assets ORDER BY id")]
        statement = "COPY movements (client_id, asset_id, quantity, price, date) FROM STDIN"
        with conn.cursor().copy(statement) as copy:
            for i in range(lots):
                copy.write_row(
                    (
                        ids[i % clients],
                        rng.choice(assets),
                        rng.randint(1, 500),
                        Decimal(rng.randint(500, 9000)) / 100,
                        since + timedelta(days=rng.randint(0, span)),
                    )
                )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def child_backfill(url: str, tickers: int) -> None:
    """Run in a child process: the 5-year backfill; prints JSON with the figures."""
    market = DemoMarketData(listings=listings(tickers))
    engine = engine_for(url)
    started = time.perf_counter()
    report = closing.backfill(engine, market, BACKFILL_START, BACKFILL_END, actor=SYSTEM)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    days = len(calendars.sessions(BACKFILL_START, BACKFILL_END))
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_kib": peak_kib,
                "days": days,
                "rows": report.rows_written,
                "status": str(report.status),
            }
        )
    )


def naive_day(url: str, day: date) -> float:
    """The day's job row by row through the ORM (what we are not doing); returns seconds."""
    factory = uow_factory(engine_for(url))
    market = DemoMarketData(listings=listings(SMALL_TICKERS))
    started = time.perf_counter()
    with UnitOfWork(factory) as uow:
        session = uow.session
        lots = session.scalars(select(Movement).where(Movement.date <= day)).all()
        for lot in lots:  # one price fetch + one row per lot, like a loop over the book
            symbol = f"BK{lot.asset_id - 1:04d}.SA"
            close = market.history([symbol], day, day).closes.get(symbol, {}).get(day)
            if close is not None:
                session.merge(Price(asset_id=lot.asset_id, date=day, close=close, source="naive"))
                session.flush()
        by_client: dict[int, list[Movement]] = {}
        for lot in lots:
            by_client.setdefault(lot.client_id, []).append(lot)
        for client_id, mine in by_client.items():
            value, flow = Decimal(0), Decimal(0)
            for lot in mine:
                price = session.get(Price, (lot.asset_id, day))
                value += lot.quantity * (price.close if price else lot.price)
                if lot.date == day:
                    flow += lot.quantity * lot.price
            prev = session.scalars(
                select(DailyReturn)
                .where(DailyReturn.client_id == client_id, DailyReturn.date < day)
                .order_by(DailyReturn.date.desc())
                .limit(1)
            ).first()
            base = (prev.market_value if prev else Decimal(0)) + flow
            daily = value / base - 1 if base else Decimal(0)
            growth = (1 + (prev.cumulative_twr if prev else Decimal(0))) * (1 + daily)
            session.merge(
                DailyReturn(
                    client_id=client_id,
                    date=day,
                    market_value=value,
                    flow_in=flow,
                    daily_return=daily,
                    cumulative_twr=growth - 1,
                )
            )
            session.flush()
            invested = sum((lot.quantity * lot.price for lot in mine), Decimal(0))
            try:
                rate = xirr(
                    [*(lot.date for lot in mine), day],
                    [*(-float(lot.quantity * lot.price) for lot in mine), float(value)],
                )
            except Exception:
                rate = None
            session.merge(
                PortfolioMetric(
                    client_id=client_id,
                    as_of=day,
                    market_value=value,
                    invested=invested,
                    accumulated_return=value / invested - 1,
                    twr=growth - 1,
                    irr=rate,
                )
            )
            session.flush()
        uow.commit()
    return time.perf_counter() - started


def copy_rate(url: str, day: date) -> tuple[int, float]:
    """Rows/s of a raw COPY of the day's daily_returns rows into a scratch table."""
    with psycopg.connect(_libpq(url)) as conn:
        rows = conn.execute(
            "SELECT * FROM daily_returns WHERE date = %s",
            (day,),
        ).fetchall()
        conn.execute("CREATE TEMP TABLE scratch (LIKE daily_returns)")
        buffer = io.StringIO("".join(",".join(map(str, r)) + "\n" for r in rows))
        started = time.perf_counter()
        with conn.cursor().copy("COPY scratch FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        elapsed = time.perf_counter() - started
    return len(rows), len(rows) / elapsed


def _settle(url: str) -> None:
    """Flush what earlier phases left dirty in the server (a backfill writes gigabytes), so
    the server's background writes are not charged to the next measurement."""
    try:
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error as exc:  # needs superuser or pg_checkpoint: measure anyway
        print(f"(no CHECKPOINT before measuring: {exc})")


def _forget_day(engine: Engine, day: date) -> None:
    """Remove the day's closes and figures and vacuum them away, so every run starts from
    the same state, as if the day had never closed: without the VACUUM each run would also
    step over the dead rows of every run before it (they piled up to 8 ms per DELETE)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM prices WHERE date = %s", (day,))
        conn.exec_driver_sql("DELETE FROM daily_returns WHERE date = %s", (day,))
        conn.exec_driver_sql("DELETE FROM portfolio_metrics WHERE as_of = %s", (day,))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM ANALYZE prices, daily_returns, portfolio_metrics")


def run() -> bool:
    """Print the scheduler figures; return whether every target was met."""
    print(f"\n== Scheduler: {CLIENTS:,} clients, {LOTS:,} lots, {TICKERS} tickers ==")
    ok = True
    with throwaway_database() as url:
        started = time.perf_counter()
        seed(url, CLIENTS, LOTS, TICKERS, BACKFILL_START)
        print(f"book seeded with COPY in {time.perf_counter() - started:.1f} s")
        out = subprocess.run(
            [sys.executable, "-m", "bench.closing", url, str(TICKERS)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        peak_gib = figures["peak_kib"] / 1024 / 1024
        print(
            f"5-year backfill ({figures['days']} sessions): {figures['seconds']:.1f} s "
            f"(target <= {TARGET_BACKFILL_S:.0f} s), peak memory {peak_gib:.2f} GiB "
            f"(target <= {TARGET_PEAK_GIB} GiB), {figures['rows']:,} rows, {figures['status']}"
        )
        ok &= figures["seconds"] <= TARGET_BACKFILL_S and peak_gib <= TARGET_PEAK_GIB
        market = DemoMarketData(listings=listings(TICKERS))
        engine = engine_for(url)
        # The scheduler process builds its exchange calendars when it starts; a job run
        # inside it does not pay that (about 0.25 s), so neither does this measurement.
        calendars.is_session(CLOSE_DAY)
        runs = []
        for _ in range(DAY_RUNS):  # each run from the same state: the day's rows removed
            _forget_day(engine, CLOSE_DAY)
            _settle(url)  # the VACUUM's writes flushed before the clock starts
            started = time.perf_counter()
            report = closing.daily_close(
                engine, market, CLOSE_DAY, triggered_by="bench", actor=SYSTEM
            )
            runs.append(time.perf_counter() - started)
        day_s = statistics.median(runs)
        print(
            f"daily close {CLOSE_DAY}: median {day_s:.2f} s of {DAY_RUNS} runs "
            f"({', '.join(f'{r:.2f}' for r in runs)}; target <= {TARGET_DAY_S} s), "
            f"{report.rows_written:,} rows, {report.status}"
        )
        ok &= day_s <= TARGET_DAY_S
        rows, raw_rate = copy_rate(url, CLOSE_DAY)
        print(
            f"write path: {report.rows_written / day_s:,.0f} rows/s for the whole job vs a raw "
            f"COPY of the day's {rows:,} daily-return rows at {raw_rate:,.0f} rows/s"
        )
        engine.dispose()
    with throwaway_database() as url:
        seed(url, SMALL_CLIENTS, SMALL_LOTS, SMALL_TICKERS, CLOSE_DAY - timedelta(days=60))
        _settle(url)
        # In a fresh process, like the backfill: what the large runs left in this one
        # (objects the garbage collector walks, cached series) must not weigh on ~30 ms runs.
        out = subprocess.run(
            [sys.executable, "-m", "bench.closing", "compare", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        compared = json.loads(out.strip().splitlines()[-1])
        naive_runs, our_runs = compared["naive"], compared["ours"]
        naive_s, ours_s = statistics.median(naive_runs), statistics.median(our_runs)
        ratio = naive_s / ours_s
        print(
            f"1,000-lot book, same day: row by row through the ORM {naive_s * 1000:.0f} ms "
            f"(median of {NAIVE_RUNS}), ours {ours_s * 1000:.1f} ms (median of {SMALL_RUNS}; "
            f"fastest {min(our_runs) * 1000:.1f} ms): {ratio:.0f}x faster "
            f"(target >= {TARGET_RATIO:.0f}x)"
        )
        ok &= ratio >= TARGET_RATIO
    return ok


def child_compare(url: str) -> None:
    """Run in a child process: the 1,000-lot day, row by row and ours, each run from the same
    state; prints JSON with every timed run's seconds."""
    market = DemoMarketData(listings=listings(SMALL_TICKERS))
    engine = engine_for(url)
    closing.backfill(engine, market, CLOSE_DAY - timedelta(days=60), BACKFILL_END, actor=SYSTEM)
    calendars.is_session(CLOSE_DAY)  # as above: built once per scheduler process
    # Each way once untimed first (ORM mappers, compiled statements, prepared plans: what a
    # long-running scheduler process already has), then timed runs, each from the same
    # state. The two ways take turns, so a slow moment of the machine weighs on both.
    naive_runs: list[float] = []
    our_runs: list[float] = []
    every = SMALL_RUNS // NAIVE_RUNS
    for attempt in range(SMALL_RUNS + 1):
        if attempt % every == 0:
            _forget_day(engine, CLOSE_DAY)
            seconds = naive_day(url, CLOSE_DAY)
            if attempt:  # the first of each way is the untimed warm-up
                naive_runs.append(seconds)
        _forget_day(engine, CLOSE_DAY)
        started = time.perf_counter()
        closing.daily_close(engine, market, CLOSE_DAY, triggered_by="bench", actor=SYSTEM)
        if attempt:
            our_runs.append(time.perf_counter() - started)
    engine.dispose()
    print(json.dumps({"naive": naive_runs, "ours": our_runs}))


if __name__ == "__main__":
    if sys.argv[1] == "compare":
        child_compare(sys.argv[2])
    else:
        child_backfill(sys.argv[1], int(sys.argv[2]))
