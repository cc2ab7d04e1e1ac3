"""Engine, sessions and the unit of work.

A :class:`UnitOfWork` owns one transaction: ``with uow: ...; uow.commit()``. Leaving the
block without ``commit()`` (or with an exception) rolls everything back, so a service's
writes and its audit entries land together or not at all. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from types import TracebackType
from typing import Self

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.repositories.assets import AllocationRepository, AssetRepository
from core.repositories.audit import AuditRepository
from core.repositories.benchmarks import BenchmarkRepository
from core.repositories.clients import ClientRepository
from core.repositories.clock import ClockRepository
from core.repositories.events import EventRepository
from core.repositories.exports import ExportRepository
from core.repositories.figures import STALE, FigureRepository
from core.repositories.figures_read import FiguresReadRepository
from core.repositories.job_runs import JobRunRepository
from core.repositories.latest_quotes import LatestQuoteRepository
from core.repositories.ledger import LedgerRepository
from core.repositories.locks import LockRepository
from core.repositories.movements import MovementRepository
from core.repositories.pg import driver
from core.repositories.prices import PriceRepository
from core.repositories.sessions import SessionRepository
from core.repositories.statements import StatementRepository
from core.repositories.users import UserRepository


def sqlalchemy_url(url: str) -> str:
    """Normalise ``postgres://``/``postgresql://`` URLs to the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# psycopg prepares a statement after a few executions, and PostgreSQL may then switch to a
# generic plan that cannot see a search pattern's value: a contains-search matching every
# row would walk the trigram index instead of scanning. Custom plans keep the estimates right.
SESSION_OPTIONS = "-c plan_cache_mode=force_custom_plan -c timezone=UTC"


def build_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create an engine for ``url`` with a small pool and liveness checks."""
    return create_engine(
        sqlalchemy_url(url),
        connect_args={"options": SESSION_OPTIONS},
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine (and pool) per URL per process."""
    return build_engine(url)


class UnitOfWork:
    """One transaction with the repositories that work inside it."""

    clients: ClientRepository
    users: UserRepository
    audit: AuditRepository
    assets: AssetRepository
    allocations: AllocationRepository
    sessions: SessionRepository
    latest_quotes: LatestQuoteRepository
    movements: MovementRepository
    events: EventRepository
    benchmarks: BenchmarkRepository
    exports: ExportRepository
    figures_read: FiguresReadRepository
    job_runs: JobRunRepository
    locks: LockRepository
    clock: ClockRepository
    figures: FigureRepository
    prices: PriceRepository
    ledger: LedgerRepository
    statements: StatementRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The open session; only valid inside the ``with`` block."""
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its 'with' block")
        return self._session

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        self.clients = ClientRepository(self._session)
        self.users = UserRepository(self._session)
        self.audit = AuditRepository(self._session)
        self.assets = AssetRepository(self._session)
        self.allocations = AllocationRepository(self._session)
        self.sessions = SessionRepository(self._session)
        self.latest_quotes = LatestQuoteRepository(self._session)
        self.movements = MovementRepository(self._session)
        self.events = EventRepository(self._session)
        self.benchmarks = BenchmarkRepository(self._session)
        self.exports = ExportRepository(self._session)
        self.figures_read = FiguresReadRepository(self._session)
        self.job_runs = JobRunRepository(self._session)
        self.locks = LockRepository(self._session)
        self.clock = ClockRepository(self._session)
        self.figures = FigureRepository(self._session)
        self.prices = PriceRepository(self._session)
        self.ledger = LedgerRepository(self._session)
        self.statements = StatementRepository(self._session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None

    def commit(self) -> None:
        """Make every change of this unit of work permanent; first, the figures of every
        client whose ledger changed are recomputed in the same transaction (see
        :mod:`core.services.client_figures`)."""
        if self.session.info.get(STALE):
            from core.services.client_figures import refresh_stale  # services import this

            refresh_stale(self)
        self.session.commit()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction block of a job's unit of work, whose session is in autocommit
        (``closing.run_job``): committed at the end, rolled back on an exception. In an
        ordinary unit of work it would be a savepoint its caller might never commit, so it
        is refused there."""
        conn = driver(self.session)
        if not conn.autocommit:
            raise RuntimeError("UnitOfWork.transaction needs a session in autocommit")
        with conn.transaction():
            yield

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint in this unit of work: what runs inside is undone alone when it
        raises, and the rest of the transaction goes on."""
        with self.session.begin_nested():
            yield

    def flush(self) -> None:
        """Send pending changes so database constraints are checked now."""
        self.session.flush()


def uow_factory(engine: Engine) -> sessionmaker[Session]:
    """Session factory for units of work on ``engine`` (objects stay readable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
