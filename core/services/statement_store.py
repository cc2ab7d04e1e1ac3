"""The stored statements as pages read them: the months stored, a month's list (without
the PDFs), one PDF, and a month's PDFs in one ZIP file. Any signed-in role may read them
(``actor`` is who asks; reading changes nothing)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from core.db import UnitOfWork
from core.errors import NotFound
from core.repositories.statements import StoredStatement
from core.services.principal import Principal

ZIP_LIMIT = 2_000  # statements in one ZIP file (a month's, or one client's)


def stored_months(uow: UnitOfWork, actor: Principal) -> list[date]:
    """The first days of the months with stored statements, latest first."""
    with uow:
        return uow.statements.months()


def month_statements(
    uow: UnitOfWork, actor: Principal, month: date, client_id: int | None = None
) -> list[StoredStatement]:
    """The statements stored for ``month`` (one client's when ``client_id``), by name."""
    with uow:
        return uow.statements.listed(month, client_id=client_id)


def file_name(item: StoredStatement) -> str:
    """``extrato-<client id>-<yyyy-mm>.pdf``: the file a stored statement downloads as
    (the client page's on-demand statement has the same name)."""
    return f"extrato-{item.client_id}-{item.period_start:%Y-%m}.pdf"


def statement_pdf(uow: UnitOfWork, actor: Principal, statement_id: int) -> bytes:
    """A stored statement's PDF (:class:`~core.errors.NotFound` when it is gone)."""
    with uow:
        pdf = uow.statements.pdf(statement_id)
    if pdf is None:
        raise NotFound()
    return pdf


def month_zip(
    uow: UnitOfWork, actor: Principal, month: date, client_id: int | None = None
) -> bytes:
    """Every statement of ``month`` (or one client's) in one ZIP file, one PDF per client
    named as :func:`file_name` (the PDFs are compressed already: stored, not deflated)."""
    buffer = io.BytesIO()
    with uow, zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for item, pdf in uow.statements.with_pdfs(month, client_id=client_id, limit=ZIP_LIMIT):
            archive.writestr(file_name(item), pdf)
    return buffer.getvalue()
