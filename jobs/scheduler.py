"""The scheduler process: APScheduler BlockingScheduler in America/Sao_Paulo.

* daily close on weekdays at 18:30 (``build(close_hour=, close_minute=)``; there is no
  setting for it), after the B3 close; B3 holidays are skipped by the job itself (exchange
  calendar);
* live quotes every ``ANKA_LIVE_INTERVAL_S`` while the B3 is open (always with demo data):
  one batched quote call for every held ticker, written to Redis for the dashboards, and to
  PostgreSQL (``latest_quotes``) for when Redis is down;
* gap repair at start and daily at 07:00;
* benchmarks (CDI, Selic, IPCA, Ibovespa, IFIX; :mod:`core.services.benchmarks`) on weekdays
  at 09:00 and 19:00 and two minutes after start, under the figures lock like the close
  (a run that meets the lock taken tries again in ``RETRY_AFTER_S``);
* statements (every active client's PDF of the previous month, stored;
  :mod:`core.services.statement_batch`) on weekdays at 10:00 and 19:30 — after the
  morning's benchmarks (the month's last CDI is published the next business day) and the
  evening's close — and five minutes after start. From the month's first B3 session on, the
  previous month is due; each run draws only what is missing or whose data changed.

Jobs never overlap themselves (``max_instances=1``, coalesced), and the figure-writing ones
also hold a PostgreSQL advisory lock, so a second scheduler cannot double-run them.
SIGINT/SIGTERM stop it cleanly after the running job.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from core import calendars
from core.db import UnitOfWork, uow_factory
from core.market.benchmarks import build_benchmark_source
from core.market.shared_quotes import SharedQuotes
from core.services import benchmarks, closing, statement_batch
from core.services.job_runs import LIVE_QUOTES_LOCK, LOCK_TAKEN, Leadership
from core.services.principal import SYSTEM
from jobs.runtime import MARKET_TZ, JobContext, today

log = logging.getLogger("anka.scheduler")

# The daily close runs at 18:30 São Paulo time, after the B3 close; a close that could not
# start on time (process down, previous job still running) may still start up to an hour late.
CLOSE_HOUR, CLOSE_MINUTE = 18, 30
MISFIRE_GRACE_S = 3600


# A daily close that finds the figures lock taken (a backfill, a manual run) tries again
# this often, up to this many times (six hours), so the day still gets closed.
RETRY_AFTER_S = 600
# The statements job's times (São Paulo): after the 09:00 benchmarks and the 18:30 close.
STATEMENT_TIMES = ((10, 0), (19, 30))
RETRY_LIMIT = 36
Retry = Callable[[date, int], None]


def daily_close_job(
    ctx: JobContext, retry: Retry | None = None, day: date | None = None, attempt: int = 1
) -> None:
    """The closes and figures of ``day`` (today; a holiday is recorded as skipped). When
    another run holds the lock, ``retry`` schedules the same day again."""
    day = day or today()
    report = closing.daily_close(ctx.engine, ctx.market, day, actor=SYSTEM)
    log.info("daily close %s: %s (%s rows)", day, report.status, report.rows_written)
    if report.error == LOCK_TAKEN and retry is not None:
        if attempt < RETRY_LIMIT:
            log.warning("daily close %s met the lock taken: trying again later", day)
            retry(day, attempt + 1)
        else:
            log.error(
                "daily close %s gave up after %s attempts: the lock stayed taken", day, attempt
            )


def _retry_close(scheduler: BlockingScheduler, ctx: JobContext) -> Retry:
    """A :data:`Retry` that runs the day's close again in :data:`RETRY_AFTER_S`."""

    def retry(day: date, attempt: int) -> None:
        scheduler.add_job(
            daily_close_job,
            "date",
            run_date=datetime.now(MARKET_TZ) + timedelta(seconds=RETRY_AFTER_S),
            args=[ctx, retry, day, attempt],
            id="daily-close-retry",
            replace_existing=True,
            misfire_grace_time=MISFIRE_GRACE_S,
        )

    return retry


def gap_repair_job(ctx: JobContext) -> None:
    """Closes missing since each lot's buy date, up to the last finished session."""
    through = calendars.previous_session(today())
    report = closing.repair_gaps(ctx.engine, ctx.market, through, actor=SYSTEM)
    log.info("gap repair through %s: %s", through, report.status)


def benchmarks_job(
    ctx: JobContext, retry: Callable[[int], None] | None = None, attempt: int = 1
) -> None:
    """Every benchmark series from its last stored value (or the oldest movement) through
    today; when another run holds the figures lock, ``retry`` runs it again later."""
    source = build_benchmark_source(ctx.settings, ctx.market)
    report = benchmarks.update_benchmarks(ctx.engine, source, today(), actor=SYSTEM)
    log.info("benchmarks: %s (%s rows)", report.status, report.rows_written)
    if report.error == LOCK_TAKEN and retry is not None and attempt < RETRY_LIMIT:
        log.warning("benchmarks met the lock taken: trying again later")
        retry(attempt + 1)


def _retry_benchmarks(scheduler: BlockingScheduler, ctx: JobContext) -> Callable[[int], None]:
    """Run the benchmark job again in :data:`RETRY_AFTER_S`."""

    def retry(attempt: int) -> None:
        scheduler.add_job(
            benchmarks_job,
            "date",
            run_date=datetime.now(MARKET_TZ) + timedelta(seconds=RETRY_AFTER_S),
            args=[ctx, retry, attempt],
            id="benchmarks-retry",
            replace_existing=True,
            misfire_grace_time=MISFIRE_GRACE_S,
        )

    return retry


def statements_job(ctx: JobContext) -> None:
    """The statements due today (the previous month's, and any stored month whose data
    changed), drawn on the machine's cores and stored."""
    report = statement_batch.generate_statements(
        ctx.engine,
        ctx.settings.market_data,
        today(),
        actor=SYSTEM,
        firm=ctx.settings.firm_name,
    )
    log.info("statements: %s (%s stored)", report.status, report.rows_written)


def live_quotes_job(ctx: JobContext, poller: Leadership) -> None:
    """One batched quote call for every held ticker, while the market is open, from the one
    scheduler that holds the live-quotes lock (``poller``): one poller whatever runs. The
    answers go to Redis and to ``latest_quotes`` in PostgreSQL (what dashboards show while
    Redis is down)."""
    demo = ctx.settings.market_data == "demo"
    if not demo and not calendars.is_open_at(datetime.now(UTC)):
        return
    if not poller.held():
        return
    symbols = closing.held_symbols(ctx.engine, actor=SYSTEM)
    if symbols:
        batch = ctx.market.refresh_quotes(symbols)
        if batch.failed:
            log.warning("live quotes failed for %s", sorted(batch.failed))
        # The copy dashboards read while Redis is down (one statement; a database error is
        # logged, and a failed ticker keeps its previous row).
        factory = uow_factory(ctx.engine)
        SharedQuotes(lambda: UnitOfWork(factory), ttl_s=ctx.settings.cache_ttl_s).store(batch)


def build(
    ctx: JobContext, *, close_hour: int = CLOSE_HOUR, close_minute: int = CLOSE_MINUTE
) -> BlockingScheduler:
    """The configured scheduler, not started."""
    scheduler = BlockingScheduler(timezone=MARKET_TZ)
    defaults = {"max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE_S}
    scheduler.add_job(
        daily_close_job,
        CronTrigger(
            day_of_week="mon-fri", hour=close_hour, minute=close_minute, timezone=MARKET_TZ
        ),
        args=[ctx, _retry_close(scheduler, ctx)],
        id="daily-close",
        **defaults,
    )
    scheduler.add_job(
        gap_repair_job,
        CronTrigger(hour=7, minute=0, timezone=MARKET_TZ),
        args=[ctx],
        id="gap-repair",
        next_run_time=datetime.now(MARKET_TZ),  # also once at start
        **defaults,
    )
    scheduler.add_job(
        benchmarks_job,
        CronTrigger(day_of_week="mon-fri", hour="9,19", minute=0, timezone=MARKET_TZ),
        args=[ctx, _retry_benchmarks(scheduler, ctx)],
        id="benchmarks",
        next_run_time=datetime.now(MARKET_TZ) + timedelta(minutes=2),  # also soon after start
        **defaults,
    )
    scheduler.add_job(
        statements_job,
        OrTrigger(
            [
                CronTrigger(day_of_week="mon-fri", hour=h, minute=m, timezone=MARKET_TZ)
                for h, m in STATEMENT_TIMES
            ]
        ),
        args=[ctx],
        id="statements",
        next_run_time=datetime.now(MARKET_TZ) + timedelta(minutes=5),  # also soon after start
        **defaults,
    )
    scheduler.add_job(
        live_quotes_job,
        "interval",
        seconds=ctx.settings.live_interval_s,
        args=[ctx, Leadership(ctx.engine, LIVE_QUOTES_LOCK)],
        id="live-quotes",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=int(ctx.settings.live_interval_s) + 1,
    )
    return scheduler


def run(ctx: JobContext) -> int:
    """Run until SIGINT/SIGTERM."""
    scheduler = build(ctx)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping the scheduler", signum)
        # The live-quotes lock goes with the process's connection when it exits.
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started (%s market data)", ctx.settings.market_data)
    scheduler.start()
    return 0
