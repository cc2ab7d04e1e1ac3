"""Client use cases: create, read, update (full or partial), delete, search with paging.

Every write checks the actor's role, runs in one unit of work, and leaves an audit entry
with the client before and after, so the change and its record land together.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.documents import normalize_document
from core.errors import NotFound, ValidationFailed
from core.models import Client
from core.schemas import (
    ClientCreate,
    ClientOut,
    ClientPage,
    ClientPatch,
    ClientQuery,
    clean_text,
    parse,
)
from core.services.audit import audit_change
from core.services.integrity import translate_integrity_error
from core.services.principal import Principal, require_admin

ENTITY = "client"
# A CPF/CNPJ typed with punctuation: digits only, or the formatted (alphanumeric) CNPJ.
_DOCUMENT_LIKE = re.compile(
    r"[0-9./ -]+|[0-9A-Za-z]{2}\.[0-9A-Za-z]{3}\.[0-9A-Za-z]{3}/[0-9A-Za-z]{4}-[0-9]{2}"
)
WRITABLE_FIELDS = ("name", "email", "document", "phone", "status", "notes")
TEXT_FIELDS = ("name", "email", "phone", "notes")
Edit = TypeVar("Edit", ClientCreate, ClientPatch)


def _snapshot(client: Client) -> dict[str, Any]:
    return ClientOut.model_validate(client).model_dump(mode="json")


def create_client(
    uow: UnitOfWork, actor: Principal, data: ClientCreate | dict[str, Any]
) -> ClientOut:
    """Create a client; a duplicate e-mail or document raises :class:`core.errors.Conflict`."""
    require_admin(actor)
    payload = data if isinstance(data, ClientCreate) else parse(ClientCreate, data)
    with uow:
        try:
            client = uow.clients.add(Client(**payload.model_dump()))
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from exc
        after = _snapshot(client)
        audit_change(uow, actor, "create", ENTITY, client.id, None, after)
        uow.commit()
        return ClientOut.model_validate(after)


def get_client(uow: UnitOfWork, client_id: int) -> ClientOut:
    """The client with ``client_id`` or :class:`core.errors.NotFound`."""
    with uow:
        client = uow.clients.get(client_id)
        if client is None:
            raise NotFound()
        return ClientOut.model_validate(client)


def _apply(uow: UnitOfWork, actor: Principal, client_id: int, changes: dict[str, Any]) -> ClientOut:
    require_admin(actor)
    with uow:
        client = uow.clients.get(client_id, for_update=True)
        if client is None:
            raise NotFound()
        before = _snapshot(client)
        for field, value in changes.items():
            setattr(client, field, value)
        client.updated_at = func.now()
        try:
            uow.clients.refresh(client)
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from exc
        after = _snapshot(client)
        if {k: before[k] for k in WRITABLE_FIELDS} != {k: after[k] for k in WRITABLE_FIELDS}:
            audit_change(uow, actor, "update", ENTITY, client_id, before, after)
            uow.commit()
        return ClientOut.model_validate(after)


def _parse_edit(model: type[Edit], uow: UnitOfWork, client_id: int, data: Any) -> Edit:
    """``data`` validated as ``model`` for an edit of the stored client.

    Text the client already has, given back unchanged, counts as marked as text (see
    :func:`core.schemas.formula_like`): a note stored from an imported ``'- ligar na
    segunda`` does not stop the form from saving a new phone. New text meets the rule.
    """
    kept: list[str] = []
    if isinstance(data, dict):
        with uow:
            client = uow.clients.get(client_id)
            if client is not None:
                kept = [
                    field
                    for field in TEXT_FIELDS
                    if isinstance(data.get(field), str)
                    and clean_text(data[field]) == getattr(client, field)
                ]
    return parse(model, data, marked_as_text=kept)


def update_client(
    uow: UnitOfWork, actor: Principal, client_id: int, data: ClientCreate | dict[str, Any]
) -> ClientOut:
    """Replace every editable field of a client (omitted optional fields become empty)."""
    payload = (
        data if isinstance(data, ClientCreate) else _parse_edit(ClientCreate, uow, client_id, data)
    )
    return _apply(uow, actor, client_id, payload.model_dump())


def patch_client(
    uow: UnitOfWork, actor: Principal, client_id: int, data: ClientPatch | dict[str, Any]
) -> ClientOut:
    """Change only the fields given; ``None`` for a required field is refused."""
    payload = (
        data if isinstance(data, ClientPatch) else _parse_edit(ClientPatch, uow, client_id, data)
    )
    changes = {field: getattr(payload, field) for field in payload.model_fields_set}
    for required in ("name", "email", "status"):
        if required in changes and changes[required] is None:
            raise ValidationFailed.single(required, "validation.required")
    return _apply(uow, actor, client_id, changes)


def delete_client(uow: UnitOfWork, actor: Principal, client_id: int) -> None:
    """Delete a client with its allocations and stored figures (the audit keeps the client)."""
    require_admin(actor)
    with uow:
        client = uow.clients.get(client_id, for_update=True)
        if client is None:
            raise NotFound()
        before = _snapshot(client)
        uow.clients.delete(client_id)
        audit_change(uow, actor, "delete", ENTITY, client_id, before, None)
        uow.commit()


def _search_term(raw: str) -> str:
    """A CPF/CNPJ typed with punctuation searches the stored digits."""
    if _DOCUMENT_LIKE.fullmatch(raw) and any(c.isdigit() for c in raw):
        return normalize_document(raw)
    return raw


def folded_search(uow: UnitOfWork, raw: str) -> str:
    """What the clients list matches for ``raw`` (inside ``uow``'s block): a CPF/CNPJ
    typed with punctuation becomes its digits, then accents and case are folded."""
    return uow.clients.fold(_search_term(raw)) if raw else ""


def list_clients(uow: UnitOfWork, query: ClientQuery | dict[str, Any]) -> ClientPage:
    """One page of clients matching a contains-search (name, e-mail, CPF/CNPJ; accents and
    case ignored) and status, with the total count. Only that page is loaded into memory.

    Page 1 of an empty result is an empty page; any other page past the end is refused with
    ``validation.page_out_of_range`` so the caller can say how many pages there are.
    """
    q = query if isinstance(query, ClientQuery) else parse(ClientQuery, query)
    with uow:
        search = folded_search(uow, q.search)
        total = uow.clients.count(search=search, status=q.status)
        pages = max(1, -(-total // q.page_size))
        if q.page > pages:
            raise ValidationFailed.single("page", "validation.page_out_of_range", pages=pages)
        rows = uow.clients.page(
            search=search, status=q.status, offset=(q.page - 1) * q.page_size, limit=q.page_size
        )
        items = [ClientOut.model_validate(row) for row in rows]
    return ClientPage(items=items, total=total, page=q.page, page_size=q.page_size)
