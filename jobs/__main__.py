"""Command line: the scheduler, or one job once.

    python -m jobs                                   run the scheduler
    python -m jobs run daily-close [--date D]        the daily close for D (default today)
    python -m jobs run gap-repair [--date D]         repair gaps through D
    python -m jobs run benchmarks [--date D]         CDI, Selic, IPCA, Ibovespa, IFIX through D
    python -m jobs run statements [--month YYYY-MM]  the month's statements (default: the one
                                                     due on --date, or today)
    python -m jobs backfill --from D [--to D]        closes and figures for a range
    python -m jobs status [--limit N]                latest runs; is the daily close healthy?

One-shot runs show a progress bar and exit non-zero when the run failed (or was skipped
because another run holds the lock). ``status`` exits non-zero when the last daily close
failed (1) or is overdue (3): see :mod:`jobs.status`. Every command logs in Anka's one format
(:mod:`core.logging_setup`; JSON lines with ``ANKA_LOG_JSON=1``).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

from pydantic import ValidationError

from core.config import ConfigError, Settings, get_settings
from core.logging_setup import configure, redact, secrets_from
from core.models import JobStatus
from core.services import closing
from core.services.benchmarks import BENCHMARKS, update_benchmarks
from core.services.job_runs import STATEMENTS, RunReport, unit_of
from core.services.principal import SYSTEM
from core.services.statement_batch import generate_statements
from jobs import status
from jobs.runtime import context, today

BAR_WIDTH = 30


def progress(done: int, total: int) -> None:
    """A one-line progress bar on stderr."""
    filled = int(BAR_WIDTH * done / total) if total else BAR_WIDTH
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} days")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _print(report: RunReport) -> int:
    failed = ", ".join(f"{s} ({r})" for s, r in sorted(report.failed.items())) or "none"
    counted = {"assets": "tickers"}.get(unit_of(report.job_name), unit_of(report.job_name))
    print(
        f"{report.job_name}: {report.status} · {counted} ok {report.tickers_ok} · failed {failed}"
        f" · rows written {report.rows_written}" + (f" · {report.error}" if report.error else "")
    )
    for symbol, detail in sorted(report.failed_details.items()):
        print(f"  {symbol}: {detail}")
    for symbol, count in sorted(report.missing.items()):
        print(f"  {symbol}: {count} trading day(s) without a close")
    for symbol, days in sorted(report.revised.items()):
        print(f"  {symbol}: revised upstream on {', '.join(d.isoformat() for d in days)}")
    for client in report.unstored:
        print(
            f"  client #{client.client_id} ({client.name!r}): figures not stored from"
            f" {client.since.isoformat()}, {client.column} {client.value:.6g} does not fit"
        )
    return 0 if report.status in (JobStatus.SUCCESS, JobStatus.PARTIAL) else 1


def parse_date(text: str) -> date:
    """An ISO date (YYYY-MM-DD) for argparse."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def parse_month(text: str) -> date:
    """A month (YYYY-MM) for argparse, as its first day."""
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {text!r}") from exc


def non_negative(text: str) -> int:
    """A whole number >= 0 for argparse."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a whole number >= 0: {text!r}")
    return value


def _settings() -> Settings | None:
    """The validated settings, or None after printing why they were refused."""
    try:
        return get_settings()
    except (ConfigError, ValidationError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(
        prog="python -m jobs",
        description="Anka's scheduler (no command), or one job, a backfill or the status once.",
        epilog=f"status {status.EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command")
    once = sub.add_parser("run", help="run one job once")
    once.add_argument(
        "job", choices=(closing.DAILY_CLOSE, closing.GAP_REPAIR, BENCHMARKS, STATEMENTS)
    )
    once.add_argument("--date", type=parse_date, default=None)
    once.add_argument(
        "--month", type=parse_month, default=None, help="statements of this month (YYYY-MM)"
    )
    fill = sub.add_parser("backfill", help="closes and figures for a date range")
    fill.add_argument("--from", dest="start", type=parse_date, required=True)
    fill.add_argument("--to", dest="end", type=parse_date, default=None)
    health = sub.add_parser(
        "status",
        help="the latest runs; exits non-zero when the daily close failed or is overdue",
        description="The latest job runs, and whether the daily close is healthy.",
        epilog=status.EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    health.add_argument("--limit", type=non_negative, default=10, help="runs to list (10)")
    health.add_argument(
        "--grace-minutes",
        type=non_negative,
        default=int(status.DEFAULT_GRACE.total_seconds() // 60),
        help="how long after 18:30 a session's close may still be running (60)",
    )
    args = parser.parse_args(argv)
    if args.command == "backfill" and args.end is not None and args.end < args.start:
        parser.error("--to is before --from")
    settings = _settings()
    if settings is None:
        return 2
    configure(settings.log_json, secrets=secrets_from(settings))
    if args.command == "status":
        return status.report(
            status.engine(settings),
            limit=args.limit,
            grace=timedelta(minutes=args.grace_minutes),
            moment=status.now(),
        )
    ctx = context(settings)
    if args.command is None:
        from jobs.scheduler import run

        return run(ctx)
    if args.command == "backfill":
        end = args.end or today()
        if end < args.start:
            parser.error("--from is after today")
        return _print(
            closing.backfill(
                ctx.engine, ctx.market, args.start, end, actor=SYSTEM, progress=progress
            )
        )
    day = args.date or today()
    if args.job == STATEMENTS:
        return _print(
            generate_statements(
                ctx.engine,
                settings.market_data,
                day,
                actor=SYSTEM,
                firm=settings.firm_name,
                triggered_by="cli",
                month=args.month,
            )
        )
    if args.job == BENCHMARKS:
        from core.market.benchmarks import build_benchmark_source

        source = build_benchmark_source(settings, ctx.market)
        return _print(update_benchmarks(ctx.engine, source, day, actor=SYSTEM, triggered_by="cli"))
    if args.job == closing.DAILY_CLOSE:
        return _print(
            closing.daily_close(ctx.engine, ctx.market, day, actor=SYSTEM, triggered_by="cli")
        )
    return _print(
        closing.repair_gaps(ctx.engine, ctx.market, day, actor=SYSTEM, triggered_by="cli")
    )


if __name__ == "__main__":
    sys.exit(main())
