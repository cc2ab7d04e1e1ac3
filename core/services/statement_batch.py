"""The statements job: every active client's statement of the month, drawn and stored on
the first B3 business day of the next month, and drawn again when its data changes
(docs/statements.md).

A run plans first, from fingerprints alone (:mod:`core.repositories.statements`): a
statement is due for each active client with figures stored in the due month and no stored
statement of it, or whose stored statement's fingerprint differs from the data's now (a
ledger edit that changed the figures, a benchmark value that arrived late, an asset's
class corrected, the firm's name changed). Any stored month is checked, not only the due
one. Only what is due is drawn, in parallel on the machine's cores (a process pool; each
worker opens its own connection, draws one client's PDF and stores it in its own
transaction), so a client whose statement cannot be drawn fails alone.

The run holds its own lock (:data:`~core.services.job_runs.STATEMENTS_LOCK`: it reads the
figures, never writes them, so a close need not wait for it) and is recorded in
``job_runs`` like the close. Its outcome: **failed** when statements were due and none
could be stored; **partial** when some were stored and some failed (each named
``client <id> <yyyy-mm>`` with why); **success** otherwise, also when nothing was due;
**skipped** when another statements run holds the lock.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from bisect import bisect_right
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from core import calendars
from core.config import get_settings
from core.db import UnitOfWork, build_engine, uow_factory
from core.i18n import Translator
from core.logging_setup import configure, secrets_from
from core.models import JobStatus
from core.reports.statement_pdf import client_statement_pdf
from core.services.closing import run_job
from core.services.job_runs import STATEMENTS, RunReport
from core.services.period_returns import SHOWN
from core.services.principal import SYSTEM, Principal, require_admin
from core.services.statements import month_period

log = logging.getLogger(__name__)

# Part of every fingerprint: a new version of the statement's layout or contents draws
# every stored statement again.
LAYOUT = "statement-v1"
LOCALE = "pt-BR"  # stored statements are in the clients' language


@dataclass(frozen=True, slots=True)
class Due:
    """One statement to draw: a client's month and the fingerprint of its data now."""

    client_id: int
    start: date
    end: date
    fingerprint: str

    @property
    def label(self) -> str:
        """How the run names it: ``client <id> <yyyy-mm>``."""
        return f"client {self.client_id} {self.start:%Y-%m}"


def due_month(today: date) -> date:
    """The first day of the month whose statements are due on ``today``: the previous
    month from the first B3 session of the current month on, the one before until then
    (the last day's figures and CDI are in by that first session's morning)."""
    this_month = today.replace(day=1)
    first_session = calendars.sessions(this_month, this_month.replace(day=28))[0]
    months_back = 1 if today >= first_session else 2
    year, month = this_month.year, this_month.month - months_back
    if month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def fingerprint(firm: str, market_name: str, client_mark: str, benchmark_mark: str) -> str:
    """The fingerprint of a statement: what it is drawn from, hashed (sha256, hex); the
    market data's name is in it because a demo statement says so on every page."""
    text = "|".join((LAYOUT, LOCALE, firm, market_name, client_mark, benchmark_mark))
    return hashlib.sha256(text.encode()).hexdigest()


def _benchmark_mark(marks: dict[date, str], months: list[date], month: date) -> str:
    """The cumulative benchmark mark through ``month`` (the last month with values up to
    it; none stored yet: empty)."""
    at = bisect_right(months, month)
    return marks[months[at - 1]] if at else ""


NO_FIGURES = "no figures"  # the mark of a stored month that has no figures any more


def plan(uow: UnitOfWork, month: date, firm: str, market_name: str) -> list[Due]:
    """The statements a run must draw (see the module docstring): ``month``'s for every
    active client with figures in it that has none stored or a different one, and every
    other stored month of an active client whose data changed since it was drawn (a month
    that lost its figures, its first buy re-dated later say, is drawn again too: its
    statement then says there are none)."""
    clients = uow.clients.active_ids()
    stored = uow.statements.fingerprints()
    active = set(clients)
    months = {month} | {start for (cid, start, _end) in stored if cid in active}
    through = month_period(max(months).year, max(months).month)[1]
    marks = uow.statements.client_marks(clients, through)
    bench = uow.statements.benchmark_marks(through, SHOWN)
    bench_months = sorted(bench)

    def due(cid: int, start: date) -> Due | None:
        found = marks.get((cid, start))
        end = month_period(start.year, start.month)[1]
        before = stored.get((cid, start, end))
        if before is None and (start != month or found is None or not found.has_days):
            return None  # nothing stored, and no figures to draw it from (or not due)
        client_mark = found.mark if found is not None else NO_FIGURES
        now = fingerprint(
            firm, market_name, client_mark, _benchmark_mark(bench, bench_months, start)
        )
        if before == now:
            return None
        return Due(cid, start, end, now)

    wanted = [(cid, month) for cid in clients]
    wanted += [(cid, s) for (cid, s, e) in stored if cid in active and s != month]
    return [item for item in (due(cid, start) for cid, start in sorted(wanted)) if item]


@dataclass(frozen=True, slots=True)
class Drawn:
    """What drawing one statement gave: its size stored, or why it failed."""

    due: Due
    size: int = 0
    error: str | None = None


class Drawer:
    """Draws statements and stores them, each in its own transaction (one per process)."""

    def __init__(
        self, engine: Engine, market_name: str, firm: str, by: str, run_id: int | None
    ) -> None:
        self.factory = uow_factory(engine)
        self.market_name = market_name
        self.firm = firm
        self.by = by
        self.run_id = run_id
        self.t = Translator(LOCALE)

    def draw(self, due: Due) -> Drawn:
        """Draw ``due``'s PDF from the stored data and store it; a failure is returned,
        never raised (it fails that statement alone)."""
        try:
            pdf = client_statement_pdf(
                lambda: UnitOfWork(self.factory),
                self.market_name,
                SYSTEM,
                due.client_id,
                due.start,
                due.end,
                firm=self.firm,
                t=self.t,
            )
            with UnitOfWork(self.factory) as uow:
                uow.statements.store(
                    due.client_id,
                    due.start,
                    due.end,
                    fingerprint=due.fingerprint,
                    pdf=pdf,
                    generated_by=self.by,
                    job_run_id=self.run_id,
                )
                uow.commit()
        except Exception as exc:  # one client's statement: reported, the others go on
            log.exception("statement %s failed", due.label)
            return Drawn(due, error=f"{type(exc).__name__}: {exc}"[:300])
        return Drawn(due, size=len(pdf))


_WORKER: Drawer | None = None  # the pool process's drawer (set by its initializer)
MAX_WORKERS = 8  # each worker holds a database connection


def _start_worker(url: str, market_name: str, firm: str, by: str, run_id: int | None) -> None:
    global _WORKER
    try:  # the scheduler's log format and redaction, as in the process that started it
        settings = get_settings()
        configure(settings.log_json, secrets=secrets_from(settings))
    except Exception:
        log.warning("statement worker: the log settings could not be read")
    _WORKER = Drawer(build_engine(url, pool_size=1), market_name, firm, by, run_id)


def _draw_in_worker(due: Due) -> Drawn:
    assert _WORKER is not None, "the pool's initializer sets the drawer"
    return _WORKER.draw(due)


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def draw_all(
    engine: Engine,
    dues: list[Due],
    *,
    market_name: str,
    firm: str,
    by: str,
    run_id: int | None = None,
    workers: int | None = None,
) -> list[Drawn]:
    """Draw and store ``dues``: in this process with one worker, else in a pool of
    ``workers`` processes (default: one per core this process may use, at most
    :data:`MAX_WORKERS`). The pool's processes are spawned, not forked: the scheduler has
    threads, and a fork would copy its connections. A worker that dies fails the
    statements it had not finished, never the ones already stored."""
    count = min(workers or min(cores(), MAX_WORKERS), len(dues))
    if count <= 1:
        drawer = Drawer(engine, market_name, firm, by, run_id)
        return [drawer.draw(due) for due in dues]
    url = engine.url.render_as_string(hide_password=False)
    drawn: list[Drawn] = []
    with ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(url, market_name, firm, by, run_id),
    ) as pool:
        futures = [(due, pool.submit(_draw_in_worker, due)) for due in dues]
        for due, future in futures:
            try:
                drawn.append(future.result())
            except Exception as exc:  # BrokenProcessPool: a worker died (killed, no memory)
                log.error("statement %s: its worker failed: %s", due.label, exc)
                drawn.append(Drawn(due, error=f"{type(exc).__name__}: {exc}"[:300]))
    return drawn


def generate_statements(
    engine: Engine,
    market_name: str,
    today: date,
    *,
    actor: Principal,
    firm: str,
    triggered_by: str = "scheduler",
    month: date | None = None,
    workers: int | None = None,
) -> RunReport:
    """Draw and store the statements due (``month``'s, default :func:`due_month` of
    ``today``, and every stored month whose data changed); admins only, as the close."""
    require_admin(actor)
    month = (month or due_month(today)).replace(day=1)

    def body(report: RunReport, uow: UnitOfWork) -> None:
        dues = plan(uow, month, firm, market_name)
        drawn = draw_all(
            engine,
            dues,
            market_name=market_name,
            firm=firm,
            by=triggered_by,
            run_id=report.run_id,
            workers=workers,
        )
        for item in drawn:
            if item.error is None:
                report.rows_written += 1
            else:
                report.failed[item.due.label] = "not_drawn"
                report.failed_details[item.due.label] = item.error
        report.tickers_ok = report.rows_written
        if dues and not report.rows_written:
            report.status = JobStatus.FAILED
            report.error = f"no statement stored: all {len(dues)} due failed"

    return run_job(
        engine,
        STATEMENTS,
        body,
        target_from=month,
        target_to=month_period(month.year, month.month)[1],
        triggered_by=triggered_by,
    )
