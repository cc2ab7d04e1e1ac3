"""The jobs command line (``python -m jobs``) and the scheduler's wiring, configured through
the environment like production (ANKA_DATABASE_URL, ANKA_REDIS_URL, ANKA_MARKET_DATA=demo)
against the real PostgreSQL and Redis.

The demo adapter runs on the real clock here (the dates asked for are in the past). Its
answers are cached under an adapter name unique to each test, whose Redis keys are removed
afterwards, so concurrent runs never share cached market data.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
import redis
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, text

import jobs.__main__ as cli
from core import calendars
from core.config import get_settings
from core.db import UnitOfWork, uow_factory
from core.market.cache import PREFIX, CachedMarketData
from core.market.demo import DemoMarketData
from core.models import JobStatus
from core.redis_client import redis_for
from core.services.allocations import add_allocation
from core.services.clients import create_client
from core.services.job_runs import (
    LIVE_QUOTES_LOCK,
    Leadership,
    RunReport,
    UnstoredClient,
    latest_runs,
    locked,
)
from core.services.principal import Principal
from jobs import runtime, scheduler
from jobs.runtime import MARKET_TZ, JobContext

FRIDAY = date(2026, 11, 27)
HOLIDAY = date(2026, 11, 20)  # Consciência Negra: B3 closed
LIVE_INTERVAL_S = 7


@pytest.fixture
def market_name(redis_url: str) -> Iterator[str]:
    """An adapter name (so a Redis key namespace) for this test; its keys go afterwards."""
    name = f"test-jobs-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis_for(redis_url)
    for key in client.scan_iter(f"{PREFIX}:{name}:*"):
        client.delete(key)


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str, market_name: str
) -> Iterator[None]:
    """Production-style configuration through ANKA_* variables; the settings are re-read."""
    monkeypatch.setenv("ANKA_DATABASE_URL", database_url)
    monkeypatch.setenv("ANKA_REDIS_URL", redis_url)
    monkeypatch.setenv("ANKA_MARKET_DATA", "demo")
    monkeypatch.setenv("ANKA_LIVE_INTERVAL_S", str(LIVE_INTERVAL_S))
    built = runtime.build_market_data

    def build_named(settings: Any, client: redis.Redis) -> CachedMarketData:
        market = built(settings, client)
        assert isinstance(market.inner, DemoMarketData)
        market.name = market_name  # the real stack, in this test's own key namespace
        return market

    monkeypatch.setattr(runtime, "build_market_data", build_named)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def holdings(committed_engine: Engine, admin: Principal) -> list[int]:
    """Two clients with B3 lots (created through the allocations service), one without."""
    demo = DemoMarketData()

    def client(name: str) -> int:
        uow = UnitOfWork(uow_factory(committed_engine))
        return create_client(uow, admin, {"name": name, "email": f"{name}@example.com"}).id

    def lot(client_id: int, symbol: str, quantity: str, price: str, day: date) -> None:
        add_allocation(
            UnitOfWork(uow_factory(committed_engine)),
            demo,
            admin,
            client_id,
            {"symbol": symbol},
            {"quantity": Decimal(quantity), "buy_price": Decimal(price), "buy_date": day},
        )

    ana, bruno = client("ana"), client("bruno")
    client("carla")
    lot(ana, "PETR4.SA", "100", "30.00", date(2026, 11, 3))
    lot(ana, "VALE3.SA", "10", "60.00", HOLIDAY)
    lot(bruno, "ITUB4.SA", "200", "36.00", date(2026, 11, 10))
    return [ana, bruno]


def count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


# -- one-shot runs -------------------------------------------------------------------------
def test_run_daily_close_for_a_date_exits_0_and_prints_the_status_line(
    env: None, committed_engine: Engine, holdings: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["run", "daily-close", "--date", "2026-11-27"])

    out = capsys.readouterr().out
    assert code == 0, out
    (line,) = out.strip().splitlines()
    assert line.startswith("daily-close: success · tickers ok 3 · failed none · rows written ")
    assert int(line.rsplit(" ", 1)[1]) > 0
    assert count(committed_engine, "SELECT count(*) FROM daily_returns WHERE date = :d", d=FRIDAY)
    assert count(committed_engine, "SELECT count(*) FROM portfolio_metrics") == 2
    (run,) = latest_runs(committed_engine)
    assert (run.job_name, run.status, run.triggered_by) == ("daily-close", "success", "cli")
    assert (run.target_from, run.target_to) == (FRIDAY, FRIDAY)


def test_run_daily_close_on_a_holiday_exits_non_zero_as_skipped(
    env: None, committed_engine: Engine, holdings: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["run", "daily-close", "--date", "2026-11-20"])

    out = capsys.readouterr().out
    assert code != 0
    assert out.startswith("daily-close: skipped · ")
    assert "2026-11-20 is not a B3 trading day" in out
    assert count(committed_engine, "SELECT count(*) FROM prices") == 0
    assert latest_runs(committed_engine)[0].status == JobStatus.SKIPPED


def test_run_gap_repair_exits_0(
    env: None, committed_engine: Engine, holdings: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", "gap-repair", "--date", "2026-11-27"]) == 0

    assert capsys.readouterr().out.startswith("gap-repair: success · tickers ok 3 · ")
    # Every B3 session since the first buy (Nov 3) has PETR4's close now.
    petr4 = (
        "SELECT count(*) FROM prices p JOIN assets a ON a.id = p.asset_id "
        "WHERE a.symbol = 'PETR4.SA' AND p.date = ANY(:days)"
    )
    days = calendars.sessions(date(2026, 11, 3), FRIDAY)
    assert count(committed_engine, petr4, days=days) == len(days) == 18


def test_run_benchmarks_exits_0_and_stores_demo_values(
    env: None, committed_engine: Engine, holdings: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", "benchmarks", "--date", "2026-11-27"]) == 0

    # Every series is due: two years back from the run's day, for the overview's 24 months
    assert capsys.readouterr().out.startswith("benchmarks: success · series ok 5 · ")
    cdi = "SELECT count(*) FROM benchmark_values WHERE series = 'CDI' AND source = 'demo'"
    assert count(committed_engine, cdi) == len(calendars.sessions(date(2024, 11, 1), FRIDAY))


def test_run_statements_for_a_month_stores_each_holders_pdf(
    env: None, committed_engine: Engine, holdings: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["backfill", "--from", "2026-11-02", "--to", "2026-11-27"]) == 0
    capsys.readouterr()

    assert cli.main(["run", "statements", "--month", "2026-11", "--date", "2026-12-01"]) == 0

    clients = count(committed_engine, "SELECT count(DISTINCT client_id) FROM daily_returns")
    assert capsys.readouterr().out.startswith(
        f"statements: success · statements ok {clients} · failed none · rows written {clients}"
    )
    stored = "SELECT count(*) FROM statements WHERE period_start = '2026-11-01'"
    assert count(committed_engine, stored) == clients
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "statements", "--month", "2026-13"])
    assert exit_info.value.code == 2
    assert "not a month (YYYY-MM): '2026-13'" in capsys.readouterr().err


def test_backfill_exits_0_with_a_progress_bar_on_stderr(
    env: None, committed_engine: Engine, holdings: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["backfill", "--from", "2026-11-02", "--to", "2026-11-27"])

    captured = capsys.readouterr()
    assert code == 0, captured
    assert captured.out.startswith("backfill: success · tickers ok 3 · failed none · ")
    # 18 B3 sessions (Finados on the 2nd and Consciência Negra on the 20th are holidays).
    assert captured.err.endswith(f"\r[{'#' * cli.BAR_WIDTH}] 18/18 days\n")
    assert count(committed_engine, "SELECT count(DISTINCT date) FROM daily_returns") == 18
    (run,) = latest_runs(committed_engine)
    assert (run.target_from, run.target_to) == (date(2026, 11, 2), FRIDAY)


def test_progress_bar_fills_as_days_are_done(capsys: pytest.CaptureFixture[str]) -> None:
    cli.progress(5, 20)
    cli.progress(20, 20)
    cli.progress(0, 0)

    err = capsys.readouterr().err
    assert err == (
        f"\r[{'#' * 7}{'.' * 23}] 5/20 days"
        f"\r[{'#' * 30}] 20/20 days\n"
        f"\r[{'#' * 30}] 0/0 days\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "daily-close", "--date", "2026-13-01"],
        ["run", "daily-close", "--date", "27/11/2026"],
        ["backfill", "--from", "yesterday"],
        ["backfill", "--from", "2026-11-02", "--to", "2026-11-31"],
    ],
    ids=["month-13", "pt-br-format", "word", "day-31-of-november"],
)
def test_bad_dates_exit_2_with_a_message(
    env: None, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)

    assert exit_info.value.code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_to_before_from_is_an_error(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["backfill", "--from", "2026-11-27", "--to", "2026-11-02"])

    assert exit_info.value.code == 2
    assert "--to is before --from" in capsys.readouterr().err


def test_unknown_job_and_missing_from_are_usage_errors(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["run", "coffee"], ["backfill"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'coffee'" in err
    assert "the following arguments are required: --from" in err


# -- the scheduler -------------------------------------------------------------------------
@pytest.fixture
def ctx(env: None) -> JobContext:
    return runtime.context()


def test_build_registers_the_five_jobs_without_starting(ctx: JobContext) -> None:
    built = scheduler.build(ctx)

    assert not built.running
    assert str(built.timezone) == "America/Sao_Paulo"
    jobs = {job.id: job for job in built.get_jobs()}
    assert set(jobs) == {"daily-close", "gap-repair", "live-quotes", "benchmarks", "statements"}
    for job in jobs.values():
        assert job.args[0] is ctx
        assert (job.max_instances, job.coalesce) == (1, True)

    close = jobs["daily-close"]
    assert close.func is scheduler.daily_close_job
    assert isinstance(close.trigger, CronTrigger)
    fields = {f.name: str(f) for f in close.trigger.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon-fri", "18", "30")
    assert str(close.trigger.timezone) == "America/Sao_Paulo"
    # After Friday's close, the next one is Monday 18:30 in São Paulo (21:30 UTC).
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=MARKET_TZ)
    assert close.trigger.get_next_fire_time(None, friday_evening) == datetime(
        2026, 11, 30, 18, 30, tzinfo=MARKET_TZ
    )
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=MARKET_TZ)
    assert close.trigger.get_next_fire_time(None, saturday).date() == date(2026, 11, 30)

    repair = jobs["gap-repair"]
    assert repair.func is scheduler.gap_repair_job
    assert isinstance(repair.trigger, CronTrigger)
    fields = {f.name: str(f) for f in repair.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("7", "0")
    # Also once at start.
    assert abs(repair.next_run_time - datetime.now(MARKET_TZ)) < timedelta(minutes=1)

    kept = jobs["benchmarks"]
    assert kept.func is scheduler.benchmarks_job
    fields = {f.name: str(f) for f in kept.trigger.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon-fri", "9,19", "0")
    # Also soon after start, once the start's gap repair has had its turn at the lock.
    assert kept.next_run_time - datetime.now(MARKET_TZ) < timedelta(minutes=3)

    drawn = jobs["statements"]
    assert drawn.func is scheduler.statements_job
    # Weekdays at 10:00 (after the benchmarks) and 19:30 (after the close), in São Paulo
    monday_early = datetime(2026, 11, 30, 6, 0, tzinfo=MARKET_TZ)
    ten = drawn.trigger.get_next_fire_time(None, monday_early)
    assert ten == datetime(2026, 11, 30, 10, 0, tzinfo=MARKET_TZ)
    assert drawn.trigger.get_next_fire_time(ten, ten + timedelta(seconds=1)) == datetime(
        2026, 11, 30, 19, 30, tzinfo=MARKET_TZ
    )
    assert drawn.trigger.get_next_fire_time(None, saturday).date() == date(2026, 11, 30)
    assert timedelta(minutes=4) < drawn.next_run_time - datetime.now(MARKET_TZ)
    assert drawn.next_run_time - datetime.now(MARKET_TZ) < timedelta(minutes=6)

    live = jobs["live-quotes"]
    assert live.func is scheduler.live_quotes_job
    assert isinstance(live.args[1], Leadership)
    assert live.args[1].name == LIVE_QUOTES_LOCK
    assert isinstance(live.trigger, IntervalTrigger)
    assert live.trigger.interval == timedelta(seconds=LIVE_INTERVAL_S)


def test_build_takes_the_close_time(ctx: JobContext) -> None:
    built = scheduler.build(ctx, close_hour=19, close_minute=5)

    close = built.get_job("daily-close")
    fields = {f.name: str(f) for f in close.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("19", "5")


@pytest.fixture
def poller() -> Iterator[Callable[[JobContext], Leadership]]:
    """The live-quotes lock of one scheduler process, released after the test."""
    made: list[Leadership] = []

    def make(ctx: JobContext) -> Leadership:
        made.append(Leadership(ctx.engine, LIVE_QUOTES_LOCK))
        return made[-1]

    yield make
    for leader in made:
        leader.release()


def test_two_schedulers_poll_live_quotes_once(
    ctx: JobContext,
    holdings: list[int],
    poller: Callable[[JobContext], Leadership],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[str]] = []
    real = ctx.market.refresh_quotes
    monkeypatch.setattr(ctx.market, "refresh_quotes", lambda s: calls.append(s) or real(s))
    first, second = poller(ctx), poller(ctx)

    for _ in range(3):  # three ticks of both schedulers
        scheduler.live_quotes_job(ctx, first)
        scheduler.live_quotes_job(ctx, second)

    assert len(calls) == 3
    # When the polling scheduler stops, the other takes over at its next tick.
    first.release()
    scheduler.live_quotes_job(ctx, second)
    scheduler.live_quotes_job(ctx, first)
    assert len(calls) == 4
    assert second.held()
    assert not first.held()


def test_live_quotes_job_writes_fresh_quotes_to_redis(
    ctx: JobContext,
    holdings: list[int],
    redis_url: str,
    market_name: str,
    poller: Callable[[JobContext], Leadership],
) -> None:
    before = time.time()

    scheduler.live_quotes_job(ctx, poller(ctx))

    client = redis_for(redis_url)
    for symbol in ("ITUB4.SA", "PETR4.SA", "VALE3.SA"):
        raw = client.get(f"{PREFIX}:{market_name}:quote:{symbol}")
        assert raw is not None, symbol
        envelope = orjson.loads(raw)
        assert before - 1 <= envelope["stored_at"] <= time.time() + 1
        assert envelope["fresh_until"] == envelope["stored_at"] + ctx.settings.cache_ttl_s
        assert envelope["data"]["symbol"] == symbol
        assert envelope["data"]["source"] == "demo"
        assert Decimal(envelope["data"]["price"]) > 0
    # Nobody holds WEGE3: it is not polled.
    assert client.get(f"{PREFIX}:{market_name}:quote:WEGE3.SA") is None


def test_live_quotes_job_without_holdings_writes_nothing(
    ctx: JobContext,
    committed_engine: Engine,
    redis_url: str,
    market_name: str,
    poller: Callable[[JobContext], Leadership],
) -> None:
    scheduler.live_quotes_job(ctx, poller(ctx))

    assert list(redis_for(redis_url).scan_iter(f"{PREFIX}:{market_name}:*")) == []


def test_scheduled_close_and_repair_jobs_run_for_today(
    ctx: JobContext,
    committed_engine: Engine,
    holdings: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "today", lambda: FRIDAY)

    scheduler.gap_repair_job(ctx)  # through the previous session, Thursday the 26th
    scheduler.daily_close_job(ctx)

    runs = latest_runs(committed_engine)
    assert [(r.job_name, r.target_to, r.status) for r in reversed(runs)] == [
        ("gap-repair", date(2026, 11, 26), "success"),
        ("daily-close", FRIDAY, "success"),
    ]
    assert {r.triggered_by for r in runs} == {"scheduler"}
    assert (
        count(committed_engine, "SELECT count(*) FROM portfolio_metrics WHERE as_of = :d", d=FRIDAY)
        == 2
    )


def test_a_daily_close_that_meets_the_lock_taken_runs_again_later_and_closes_the_day(
    ctx: JobContext,
    committed_engine: Engine,
    holdings: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "today", lambda: FRIDAY)
    built = scheduler.build(ctx)
    close = built.get_job("daily-close")

    with locked(committed_engine) as (got, _conn):  # a backfill is running
        assert got
        close.func(*close.args)

    retry = built.get_job("daily-close-retry")
    assert retry is not None
    wait = retry.trigger.run_date - datetime.now(MARKET_TZ)
    assert timedelta(seconds=scheduler.RETRY_AFTER_S - 60) < wait
    assert wait <= timedelta(seconds=scheduler.RETRY_AFTER_S)
    assert retry.args[2:] == (FRIDAY, 2)
    # The retry, once the backfill is done, closes Friday.
    monkeypatch.setattr(scheduler, "today", lambda: FRIDAY + timedelta(days=3))  # midnight passed
    retry.func(*retry.args)
    assert [(r.target_to, r.status) for r in reversed(latest_runs(committed_engine))] == [
        (FRIDAY, "skipped"),
        (FRIDAY, "success"),
    ]


def test_the_benchmark_job_stores_demo_benchmarks_and_retries_on_the_lock(
    ctx: JobContext,
    committed_engine: Engine,
    holdings: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "today", lambda: FRIDAY)
    built = scheduler.build(ctx)
    job = built.get_job("benchmarks")

    with locked(committed_engine) as (got, _conn):  # a close is running
        assert got
        job.func(*job.args)
    retry = built.get_job("benchmarks-retry")
    assert retry is not None
    assert retry.args[2:] == (2,)
    retry.func(*retry.args)

    runs = latest_runs(committed_engine, job_name="benchmarks")
    # Two years back (November 2024; the indices from the session before, 31/10/2024).
    assert [(r.status, r.target_from, r.target_to) for r in reversed(runs)] == [
        ("skipped", date(2024, 10, 31), FRIDAY),
        ("success", date(2024, 10, 31), FRIDAY),
    ]
    with committed_engine.connect() as conn:
        stored = dict(
            conn.execute(
                text(
                    "SELECT series, count(*) FROM benchmark_values WHERE source = 'demo' GROUP BY 1"
                )
            ).all()
        )
    # IPCA from November 2024 to October 2026 (November's is published in December)
    assert set(stored) == {"CDI", "SELIC", "IPCA", "IBOV", "IFIX"}
    assert stored["IPCA"] == 24
    assert stored["CDI"] == len(calendars.sessions(date(2024, 11, 1), FRIDAY))


def test_the_retries_stop_at_the_limit(ctx: JobContext, committed_engine: Engine) -> None:
    retried: list[tuple[date, int]] = []
    with locked(committed_engine) as (got, _conn):
        assert got
        scheduler.daily_close_job(
            ctx, lambda d, n: retried.append((d, n)), FRIDAY, scheduler.RETRY_LIMIT - 1
        )
        scheduler.daily_close_job(
            ctx, lambda d, n: retried.append((d, n)), FRIDAY, scheduler.RETRY_LIMIT
        )

    assert retried == [(FRIDAY, scheduler.RETRY_LIMIT)]


def test_the_printed_outcome_names_what_the_run_could_not_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = RunReport(
        "backfill",
        status=JobStatus.PARTIAL,
        tickers_ok=2,
        failed={"ITUB4.SA": "invalid_value"},
        failed_details={"ITUB4.SA": "1 close(s) outside what prices can hold"},
        missing={"PETR4.SA": 6},
        revised={"VALE3.SA": [date(2026, 11, 25)]},
        unstored=[UnstoredClient(3, "Carla", date(2026, 11, 3), "net_flow", 2e12)],
    )

    assert cli._print(report) == 0

    assert capsys.readouterr().out.splitlines()[1:] == [
        "  ITUB4.SA: 1 close(s) outside what prices can hold",
        "  PETR4.SA: 6 trading day(s) without a close",
        "  VALE3.SA: revised upstream on 2026-11-25",
        "  client #3 ('Carla'): figures not stored from 2026-11-03, net_flow 2e+12 does not fit",
    ]
