"""Two advisors saving clients at the same moment, on real committed transactions."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, text

from core.db import UnitOfWork, uow_factory
from core.errors import Conflict
from core.schemas import ClientOut
from core.services.clients import create_client
from core.services.principal import Principal


def race(engine: Engine, actor: Principal, payloads: list[dict[str, Any]]) -> list[Any]:
    """Create one client per payload, each in its own thread and unit of work, released
    together by a barrier; return each thread's ClientOut or the exception it raised."""
    barrier = threading.Barrier(len(payloads))
    results: list[Any] = [None] * len(payloads)

    def worker(index: int, payload: dict[str, Any]) -> None:
        uow = UnitOfWork(uow_factory(engine))
        try:
            barrier.wait(timeout=10)
            results[index] = create_client(uow, actor, payload)
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc

    threads = [
        threading.Thread(target=worker, args=(i, p), daemon=True) for i, p in enumerate(payloads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


def test_same_email_in_different_case_at_the_same_time_stores_one_client(
    committed_engine: Engine, admin: Principal
) -> None:
    results = race(
        committed_engine,
        admin,
        [
            {"name": "Ana Lima", "email": "ana.lima@example.com"},
            {"name": "Ana L.", "email": "ANA.LIMA@example.com"},
        ],
    )

    created = [r for r in results if isinstance(r, ClientOut)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1, results
    assert len(conflicts) == 1, results
    assert conflicts[0].field_errors == {"email": ("validation.email_taken", {})}

    with committed_engine.connect() as conn:
        rows = conn.execute(text("SELECT id, lower(email) FROM clients")).all()
        audits = (
            conn.execute(text("SELECT entity_id FROM audit_log WHERE entity = 'client'"))
            .scalars()
            .all()
        )
    assert [(row[0], row[1]) for row in rows] == [(created[0].id, "ana.lima@example.com")]
    assert audits == [str(created[0].id)]


def test_different_emails_at_the_same_time_are_both_stored(
    committed_engine: Engine, admin: Principal
) -> None:
    results = race(
        committed_engine,
        admin,
        [
            {"name": "Ana Lima", "email": "ana@example.com"},
            {"name": "Bia Lima", "email": "bia@example.com"},
        ],
    )
    assert all(isinstance(r, ClientOut) for r in results), results
    with committed_engine.connect() as conn:
        emails = conn.execute(text("SELECT email FROM clients ORDER BY email")).scalars().all()
    assert emails == ["ana@example.com", "bia@example.com"]
