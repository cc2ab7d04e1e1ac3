"""The statements as pages hand them out: the months stored, a month's list (without the
PDFs), one stored PDF, a month's PDFs in one ZIP file, and a statement drawn on demand.

Any signed-in role may read them; every PDF or ZIP handed out is recorded in the audit log
as an export (action ``export``, dataset ``statement``, with the client or the month and how
many statements), like the data exports: a statement carries the client's CPF and book.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date

from core.db import UnitOfWork
from core.errors import NotFound, ValidationFailed
from core.i18n import Translator
from core.reports.statement_pdf import client_statement_pdf
from core.repositories.statements import StoredStatement
from core.services.audit import audit_change
from core.services.exports import ACTION, ENTITY, require_signed_in
from core.services.principal import Principal

LIST_LIMIT = 500  # rows a month's list shows (the page says when there are more)
ZIP_LIMIT = 2_000  # statements in one ZIP file (about 50 MB); more are refused, by name


def stored_months(uow: UnitOfWork, actor: Principal) -> list[date]:
    """The first days of the months with stored statements, latest first."""
    require_signed_in(actor)
    with uow:
        return uow.statements.months()


def month_statements(
    uow: UnitOfWork, actor: Principal, month: date, client_id: int | None = None
) -> tuple[list[StoredStatement], int]:
    """The statements stored for ``month`` (one client's when ``client_id``), by name, at
    most :data:`LIST_LIMIT`, and how many there are in all."""
    require_signed_in(actor)
    with uow:
        total = uow.statements.count(month, client_id=client_id)
        return uow.statements.listed(month, client_id=client_id, limit=LIST_LIMIT), total


def file_name(item: StoredStatement) -> str:
    """``extrato-<client id>-<yyyy-mm>.pdf``: the file a stored statement downloads as
    (the client page's monthly statement has the same name)."""
    return f"extrato-{item.client_id}-{item.period_start:%Y-%m}.pdf"


def _audit(uow: UnitOfWork, actor: Principal, fmt: str, filters: dict[str, object], n: int) -> None:
    audit_change(
        uow,
        actor,
        ACTION,
        ENTITY,
        "statement",
        None,
        {"format": fmt, "datasets": [{"dataset": "statement", "filters": filters, "rows": n}]},
    )


def statement_pdf(uow: UnitOfWork, actor: Principal, statement_id: int) -> bytes:
    """A stored statement's PDF (:class:`~core.errors.NotFound` when it is gone); audited."""
    require_signed_in(actor)
    with uow:
        found = uow.statements.pdf(statement_id)
        if found is None:
            raise NotFound()
        client_id, start, pdf = found
        _audit(uow, actor, "pdf", {"client_id": client_id, "month": f"{start:%Y-%m}"}, 1)
        uow.commit()
    return pdf


def month_zip(
    uow: UnitOfWork, actor: Principal, month: date, client_id: int | None = None
) -> bytes:
    """Every statement of ``month`` (or one client's) in one ZIP file, one PDF per client
    named as :func:`file_name` (the PDFs are compressed already: stored, not deflated);
    refused (``statements.zip_too_large``) above :data:`ZIP_LIMIT`. Audited."""
    require_signed_in(actor)
    buffer = io.BytesIO()
    with uow:
        total = uow.statements.count(month, client_id=client_id)
        if total > ZIP_LIMIT:
            raise ValidationFailed.single("month", "statements.zip_too_large", max=ZIP_LIMIT)
        stored = uow.statements.with_pdfs(month, client_id=client_id, limit=ZIP_LIMIT)
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for item, pdf in stored:
                archive.writestr(file_name(item), pdf)
        filters: dict[str, object] = {"month": f"{month:%Y-%m}"}
        if client_id is not None:
            filters["client_id"] = client_id
        _audit(uow, actor, "zip", filters, len(stored))
        uow.commit()
    return buffer.getvalue()


def on_demand_pdf(
    make_uow: Callable[[], UnitOfWork],
    market_name: str,
    actor: Principal,
    client_id: int,
    start: date,
    end: date,
    *,
    firm: str,
    t: Translator,
) -> bytes:
    """The client's statement for [start, end], drawn now from the stored data; audited."""
    require_signed_in(actor)
    pdf = client_statement_pdf(make_uow, market_name, actor, client_id, start, end, firm=firm, t=t)
    with make_uow() as uow:
        filters = {"client_id": client_id, "start": start.isoformat(), "end": end.isoformat()}
        _audit(uow, actor, "pdf", filters, 1)
        uow.commit()
    return pdf
