"""Runs whose connection, process or database died: recorded as failed, never left running.

Through the real job runner (``closing.run_job``) on the real PostgreSQL; the database
connection is killed for real (``pg_terminate_backend``), not mocked.
"""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest
from sqlalchemy import Engine, insert, select, text

from core.db import UnitOfWork, build_engine
from core.models import JobRun, JobStatus
from core.services import closing
from core.services.job_runs import INTERRUPTED, RunReport, locked


def stored(engine: Engine) -> list[tuple[int, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(JobRun.id, JobRun.status, JobRun.error).order_by(JobRun.id))
        return [(r.id, r.status, r.error) for r in rows]


def nothing(report: RunReport, uow: UnitOfWork) -> None:
    """A run with no work."""


def test_a_run_whose_backend_is_killed_is_recorded_failed_and_frees_the_lock(
    committed_engine: Engine,
) -> None:
    """A killed backend with the server still up: SQLAlchemy reconnects for the record (this
    held before the fix too; the outage test below is the one a dead database needs)."""

    def killed(report: RunReport, uow: UnitOfWork) -> None:
        uow.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    report = closing.run_job(
        committed_engine, "daily-close", killed, target_from=None, target_to=None, triggered_by="t"
    )

    assert report.status == JobStatus.FAILED
    [(run_id, status, error)] = stored(committed_engine)
    assert (run_id, status) == (report.run_id, JobStatus.FAILED)
    assert error is not None
    assert "OperationalError" in error
    # The lock went with the dead connection: the next run takes it.
    with locked(committed_engine) as (got, _conn):
        assert got


def test_runs_left_running_by_a_dead_process_are_marked_failed_by_the_next_run(
    committed_engine: Engine,
) -> None:
    with committed_engine.begin() as conn:
        abandoned = conn.execute(
            insert(JobRun).values(job_name="backfill", triggered_by="cli").returning(JobRun.id)
        ).scalar_one()

    report = closing.run_job(
        committed_engine, "gap-repair", nothing, target_from=None, target_to=None, triggered_by="t"
    )

    assert stored(committed_engine) == [
        (abandoned, JobStatus.FAILED, INTERRUPTED),
        (report.run_id, JobStatus.SUCCESS, None),
    ]


def test_a_run_that_finds_the_lock_taken_leaves_the_holders_run_alone(
    committed_engine: Engine,
) -> None:
    with locked(committed_engine) as (got, conn):
        assert got
        holder = conn.execute(
            insert(JobRun).values(job_name="backfill", triggered_by="cli").returning(JobRun.id)
        ).scalar_one()

        skipped = closing.run_job(
            committed_engine,
            "daily-close",
            nothing,
            target_from=None,
            target_to=None,
            triggered_by="t",
        )

        assert skipped.status == JobStatus.SKIPPED
        assert stored(committed_engine)[0] == (holder, JobStatus.RUNNING, None)


class Cut:
    """A TCP relay to the real PostgreSQL that can be cut, as a network or server outage is:
    open connections drop and new ones are refused."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:  # accepted while being cut: refuse it
                client.close()
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.open = False
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()


def test_a_run_whose_database_goes_away_ends_without_a_traceback_and_the_next_run_fixes_it(
    committed_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    url = committed_engine.url
    relay = Cut((url.host or "127.0.0.1", url.port or 5432))
    through_relay = build_engine(
        url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    )

    def outage(report: RunReport, uow: UnitOfWork) -> None:
        relay.cut()
        uow.session.execute(text("SELECT 1"))

    try:
        report = closing.run_job(
            through_relay,
            "daily-close",
            outage,
            target_from=None,
            target_to=None,
            triggered_by="t",
        )
    finally:
        through_relay.dispose()

    # No exception escaped; the outcome could not be stored, and the log says so.
    assert report.status == JobStatus.FAILED
    assert "could not be recorded" in caplog.text
    assert stored(committed_engine) == [(report.run_id, JobStatus.RUNNING, None)]
    # Once the database answers again, the next run marks it failed.
    closing.run_job(
        committed_engine, "gap-repair", nothing, target_from=None, target_to=None, triggered_by="t"
    )
    assert stored(committed_engine)[0] == (report.run_id, JobStatus.FAILED, INTERRUPTED)
