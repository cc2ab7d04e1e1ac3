"""The rule every ledger write obeys: no sell exceeds what the client holds on its date.

It is judged on the whole ledger of the client for the asset — every buy, sell and typed
income plus the asset's events that are not dismissed (splits change what is held) — walked
by :func:`core.analytics.ledger.walk`. A write is made (and flushed) first and the ledger
re-read and walked inside the same transaction: a refusal raises and the caller's unit of
work rolls the write back, so nothing changes. Callers lock the client's book
(:meth:`core.repositories.clients.ClientRepository.lock_books`) before writing, so two
writes to one client's ledger are judged one after the other.

So a new or edited sell of more than is held is refused, and so is editing or deleting a
buy (or moving a sell earlier) that would leave a later sell exceeding what is held.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from core.analytics.ledger import Kind, Line, Oversold, walk
from core.db import UnitOfWork
from core.errors import ValidationFailed
from core.models import AssetEvent, Movement


def movement_line(movement: Movement) -> Line:
    """A stored movement as a line of the walk."""
    kind = Kind(movement.kind)
    if kind == Kind.INCOME:
        return Line(kind, movement.date, amount=movement.amount, tax=movement.tax, ref=movement.id)
    return Line(
        kind,
        movement.date,
        quantity=movement.quantity,
        price=movement.price,
        fees=movement.fees,
        ref=movement.id,
    )


def event_line(event: AssetEvent) -> Line:
    """A stored asset event as a line of the walk (``value`` is the line's price)."""
    return Line(Kind(event.kind), event.ex_date, price=event.value, ratio=event.ratio)


def ledger_lines(movements: Iterable[Movement], events: Iterable[AssetEvent]) -> list[Line]:
    """The lines of one asset's ledger: the client's movements and the asset's events."""
    return [movement_line(m) for m in movements] + [event_line(e) for e in events]


def quantity_text(value: Decimal, locale: str) -> str:
    """A quantity as the message shows it: every significant decimal, grouped, in pt-BR
    (``1.234,5``) or English (``1,234.5``)."""
    text = f"{value.normalize():,f}"
    if locale == "en":
        return text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def oversold_error(exc: Oversold, *, written: int | None, field: str) -> ValidationFailed:
    """The pt-BR/English message for a sell beyond what was held.

    ``validation.oversold`` when the sell is the movement being written (``written``), else
    ``validation.oversold_later``: the change leaves an existing later sell uncovered. The
    params carry the quantities and the date both ways (``quantity``/``held``/``date`` in
    pt-BR, ``quantity_en``/``held_en``/``date_iso`` in English).
    """
    line = exc.line
    key = "validation.oversold" if line.ref == written else "validation.oversold_later"
    return ValidationFailed.single(
        field,
        key,
        quantity=quantity_text(line.quantity, "pt_BR"),
        held=quantity_text(exc.held, "pt_BR"),
        date=line.day.strftime("%d/%m/%Y"),
        quantity_en=quantity_text(line.quantity, "en"),
        held_en=quantity_text(exc.held, "en"),
        date_iso=line.day.isoformat(),
    )


def check_holdings(
    uow: UnitOfWork,
    client_id: int,
    asset_id: int,
    *,
    written: int | None = None,
    field: str = "quantity",
) -> None:
    """Refuse (on ``field``) the client's ledger for the asset as it now stands in the
    transaction when some sell exceeds what is held on its date.

    Call it after flushing the write (``written`` is the id of the movement written, if it
    still exists) and before committing; the raised :class:`ValidationFailed` leaves the
    unit of work uncommitted, so the write is rolled back.
    """
    movements = uow.movements.of_asset(client_id, asset_id)
    events = uow.movements.events_of([asset_id])
    try:
        walk(ledger_lines(movements, events))
    except Oversold as exc:
        raise oversold_error(exc, written=written, field=field) from exc


def earliest(*days: date | None) -> date:
    """The earliest of the given dates (None ones skipped): where figures are refreshed."""
    return min(day for day in days if day is not None)
