"""Importing clients, allocations or movements from a file: preview, then an all-or-nothing
commit.

Both steps read and validate the whole file again (:func:`core.imports.validation.check_file`)
and then check each row against stored data and market data:

- **clients** are matched by CPF/CNPJ when the row has one, else by e-mail (both unique in
  the database, the e-mail ignoring case). A match is updated with the cells the file
  fills (a blank cell keeps the stored value) or left unchanged; no match is created.
  A row whose CPF/CNPJ and e-mail point at two different clients, or whose e-mail's
  client has another CPF/CNPJ, is refused rather than guessed.
- **allocations** name their client by e-mail or CPF/CNPJ (it must exist). A lot is the
  same lot when client, ticker, buy date, quantity and buy price are equal: re-importing a
  file adds nothing. A ticker not held yet must be known to market data (one batched quote
  request, outside any transaction); an unknown one is refused, never created. The buy date
  rules are the allocation service's own (:mod:`core.services.allocations`), and so is the
  limit on a client's invested total (:mod:`core.book_limits`): the file's new lots are
  added, in row order, to what each client already holds, and the row that would take the
  total to the limit is refused (later rows are judged without it, as a form would).
  The clients' rows are locked while they are counted, as the allocation service does.
- **movements** (buys, sells and income with a kind column) name their client the same
  way and obey the ledger's rules: see :mod:`core.services.movement_imports`.

The commit runs in one unit of work under an advisory lock (two imports never interleave):
any refused row, or any row the database refuses while writing, rolls everything back and
raises :class:`core.imports.report.ImportRejected` with the report. A successful import
leaves one audit entry (entity ``import``, id = the file's SHA-256) with the counts and the
ids created and updated (with each updated client's fields before and after).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, text

from core.book_limits import invested_fits, lot_cost, total
from core.db import UnitOfWork
from core.documents import normalize_document
from core.errors import ValidationFailed
from core.imports.report import ImportOutcome, ImportRejected, ImportReport, Kind, RowResult
from core.imports.validation import check_file, mark_duplicates
from core.market.port import MarketData, Quote
from core.models import Asset, Client, Movement
from core.repositories.figures import invalidate_figures
from core.schemas import AllocationIn, AssetIn
from core.services.allocations import check_first_trade, new_asset_values, verify_new_symbols
from core.services.audit import audit_change
from core.services.import_writes import as_json, insert_rows, update_clients
from core.services.job_runs import lock_key
from core.services.movement_imports import MovementPlan, check_movements, movement_rows
from core.services.principal import Principal, require_admin

ENTITY = "import"
IMPORT_LOCK = "anka:import"
LOT_FIELDS = ("quantity", "buy_price", "buy_date")


@dataclass(slots=True)
class _Market:
    """What market data said about the tickers not held yet."""

    quotes: dict[str, Quote] = field(default_factory=dict)
    refused: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


@dataclass(slots=True)
class _Plan:
    """What a commit will write, row by row (filled while checking stored data)."""

    clients: dict[int, Client | None] = field(default_factory=dict)  # row -> match
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)  # row -> field: new
    client_ids: dict[int, int] = field(default_factory=dict)  # allocation row -> client
    assets: dict[str, Asset] = field(default_factory=dict)  # symbol -> stored asset
    movements: MovementPlan | None = None  # a movements file's plan


def preview_import(
    uow: UnitOfWork,
    market: MarketData,
    actor: Principal,
    kind: Kind,
    file_name: str,
    data: bytes,
    locale: str,
) -> ImportReport:
    """Every row of the file marked valid or refused (with reasons) and what a commit would
    do with it; nothing is written."""
    require_admin(actor)
    report = check_file(kind, file_name, data, locale)
    if report.file_errors or not any(row.valid for row in report.rows):
        return report
    answers = _ask_market(uow, market, report)
    with uow:
        _check_stored(uow, report, answers)
    return report


def commit_import(
    uow: UnitOfWork,
    market: MarketData,
    actor: Principal,
    kind: Kind,
    file_name: str,
    data: bytes,
    locale: str,
) -> ImportOutcome:
    """Store the whole file or nothing (see the module docstring); one audit entry."""
    require_admin(actor)
    report = check_file(kind, file_name, data, locale)
    if not report.ok:
        raise ImportRejected(report)
    answers = _ask_market(uow, market, report)
    with uow:
        uow.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(IMPORT_LOCK)})
        plan = _check_stored(uow, report, answers)
        if not report.ok:
            raise ImportRejected(report)
        writer = {
            "clients": _write_clients,
            "allocations": _write_allocations,
            "movements": _write_movements,
        }[kind]
        summary = writer(uow, report, plan, answers)
        counts = report.actions()
        audit_change(
            uow,
            actor,
            "create",
            ENTITY,
            report.sha256,
            None,
            {
                "kind": kind,
                "file_name": file_name,
                "rows": len(report.rows),
                "created": counts["create"],
                "updated": counts["update"],
                "unchanged": counts["unchanged"],
                **summary,
            },
        )
        uow.commit()
    return ImportOutcome(
        kind=kind,
        rows=len(report.rows),
        created=counts["create"],
        updated=counts["update"],
        unchanged=counts["unchanged"],
        audit_entity_id=report.sha256,
    )


# -- market data (outside any transaction) --------------------------------------------------


def _ask_market(uow: UnitOfWork, market: MarketData, report: ImportReport) -> _Market:
    if report.kind == "clients":
        return _Market()
    symbols = sorted(
        {
            str(row.values["symbol"])
            for row in report.rows
            if row.valid and row.values.get("kind", "buy") == "buy"  # movements: buys only
        }
    )
    with uow:
        stored = set(uow.session.scalars(select(Asset.symbol).where(Asset.symbol.in_(symbols))))
    quotes, refused = verify_new_symbols(market, [s for s in symbols if s not in stored])
    return _Market(quotes, refused)


# -- checks against stored data -------------------------------------------------------------


def _check_stored(uow: UnitOfWork, report: ImportReport, answers: _Market) -> _Plan:
    if report.kind == "clients":
        return _check_clients(uow, report)
    if report.kind == "movements":
        return _check_movements(uow, report, answers)
    return _check_allocations(uow, report, answers)


def _valid(report: ImportReport) -> list[RowResult]:
    return [row for row in report.rows if row.valid]


def _clients_by_keys(uow: UnitOfWork, emails: set[str], documents: set[str]) -> list[Client]:
    if not emails and not documents:
        return []
    stmt = select(Client).where(
        or_(func.lower(Client.email).in_(sorted(emails)), Client.document.in_(sorted(documents)))
    )
    return list(uow.session.scalars(stmt))


def _check_clients(uow: UnitOfWork, report: ImportReport) -> _Plan:
    plan = _Plan()
    rows = _valid(report)
    stored = _clients_by_keys(
        uow,
        {str(row.values["email"]).lower() for row in rows},
        {str(row.values["document"]) for row in rows if row.values.get("document")},
    )
    by_email = {client.email.lower(): client for client in stored}
    by_document = {client.document: client for client in stored if client.document}
    claimed: dict[int, int] = {}  # stored client id -> the row that matched it first
    for row in rows:
        document = row.values.get("document")
        with_document = by_document.get(document) if document else None
        with_email = by_email.get(str(row.values["email"]).lower())
        if with_document and with_email and with_document.id != with_email.id:
            row.refuse("import.row.email_other_client", "email")
            continue
        match = with_document or with_email
        if match and document and match.document and match.document != document:
            row.refuse("import.row.document_differs", "document")
            continue
        if match is not None and match.id in claimed:
            # Two rows, one by CPF and one by e-mail, would both change this client.
            row.refuse("import.row.duplicate", None, row=claimed[match.id])
            continue
        plan.clients[row.row] = match
        if match is None:
            row.action = "create"
            continue
        claimed[match.id] = row.row
        changes = {f: v for f, v in row.values.items() if getattr(match, f) != v}
        plan.changes[row.row] = changes
        row.action = "update" if changes else "unchanged"
    return plan


def _client_keys(rows: list[RowResult]) -> tuple[set[str], set[str]]:
    emails, documents = set(), set()
    for row in rows:
        ref = str(row.values["client"])
        if "@" in ref:
            emails.add(ref.lower())
        else:
            documents.add(normalize_document(ref))
    return emails, documents


def _lot_key(client_id: int, symbol: str, lot: dict[str, Any]) -> tuple[Any, ...]:
    # Decimal equality ignores trailing zeros (100 == 100.00000000), and so does its hash.
    return (client_id, symbol, lot["buy_date"], Decimal(lot["quantity"]), Decimal(lot["buy_price"]))


def _check_allocations(uow: UnitOfWork, report: ImportReport, answers: _Market) -> _Plan:
    plan = _Plan()
    rows = _valid(report)
    emails, documents = _client_keys(rows)
    stored = _clients_by_keys(uow, emails, documents)
    by_email = {client.email.lower(): client.id for client in stored}
    by_document = {client.document: client.id for client in stored if client.document}
    symbols = sorted({str(row.values["symbol"]) for row in rows})
    plan.assets = {
        asset.symbol: asset
        for asset in uow.session.scalars(select(Asset).where(Asset.symbol.in_(symbols)))
    }
    for row in rows:
        ref = str(row.values["client"])
        client_id = (
            by_email.get(ref.lower()) if "@" in ref else by_document.get(normalize_document(ref))
        )
        if client_id is None:
            row.refuse("import.row.client_not_found", "client")
            continue
        plan.client_ids[row.row] = client_id
        symbol = str(row.values["symbol"])
        asset = plan.assets.get(symbol)
        quote = answers.quotes.get(symbol)
        if asset is not None:
            first_trade = asset.first_trade_date
        elif quote is not None:
            first_trade = quote.first_trade_date
        else:
            key, params = answers.refused.get(symbol, ("validation.symbol_unknown", {}))
            row.refuse(key, "symbol", **params)
            continue
        try:
            check_first_trade(first_trade, AllocationIn.model_construct(**_lot(row)))
        except ValidationFailed as error:
            for field_name, (key, params) in error.field_errors.items():
                row.refuse(key, field_name, **params)
    mark_duplicates(
        rows,
        None,
        lambda r: (
            _lot_key(plan.client_ids[r.row], str(r.values["symbol"]), r.values)
            if r.row in plan.client_ids
            else None
        ),
    )
    client_ids = set(plan.client_ids.values())
    uow.clients.lock_books(client_ids)  # as the allocation service, before counting
    existing = _stored_lots(uow, client_ids)
    invested = uow.allocations.invested_by_client(client_ids)
    for row in rows:
        if not row.valid:
            continue
        client_id = plan.client_ids[row.row]
        if _lot_key(client_id, str(row.values["symbol"]), row.values) in existing:
            row.action = "unchanged"
            continue
        after = total(
            (
                invested.get(client_id, Decimal(0)),
                lot_cost(row.values["quantity"], row.values["buy_price"]),
            )
        )
        if not invested_fits(after):
            row.refuse("validation.client_invested_too_large", "buy_price")
            continue
        invested[client_id] = after
        row.action = "create"
    return plan


def _check_movements(uow: UnitOfWork, report: ImportReport, answers: _Market) -> _Plan:
    """Clients found as for allocations, then the ledger's rules
    (:mod:`core.services.movement_imports`)."""
    rows = _valid(report)
    emails, documents = _client_keys(rows)
    stored = _clients_by_keys(uow, emails, documents)
    by_email = {client.email.lower(): client.id for client in stored}
    by_document = {client.document: client.id for client in stored if client.document}
    client_ids: dict[int, int] = {}
    for row in rows:
        ref = str(row.values["client"])
        found = (
            by_email.get(ref.lower()) if "@" in ref else by_document.get(normalize_document(ref))
        )
        if found is None:
            row.refuse("import.row.client_not_found", "client")
        else:
            client_ids[row.row] = found
    plan = check_movements(
        uow, report, client_ids, answers.quotes, answers.refused, uow.clients.lock_books
    )
    return _Plan(client_ids=client_ids, assets=plan.assets, movements=plan)


def _lot(row: RowResult) -> dict[str, Any]:
    return {f: row.values[f] for f in LOT_FIELDS}


def _stored_lots(uow: UnitOfWork, client_ids: set[int]) -> set[tuple[Any, ...]]:
    return {
        _lot_key(cid, symbol, {"buy_date": day, "quantity": qty, "buy_price": price})
        for cid, symbol, day, qty, price in uow.allocations.lots_of(client_ids)
    }


# -- writes ---------------------------------------------------------------------------------


def _write_clients(
    uow: UnitOfWork, report: ImportReport, plan: _Plan, answers: _Market
) -> dict[str, Any]:
    now = uow.session.scalar(select(func.now()))  # the transaction's time, as the forms use
    updated_rows = [row for row in report.rows if row.action == "update"]
    changes: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for row in updated_rows:
        match = plan.clients[row.row]
        assert match is not None
        new = plan.changes[row.row]
        changes.append({"id": match.id, **new, "updated_at": now})
        audit.append(
            {
                "id": match.id,
                "before": {f: as_json(getattr(match, f)) for f in new},
                "after": {f: as_json(v) for f, v in new.items()},
            }
        )
    update_clients(uow, report, updated_rows, changes)
    created_rows = [row for row in report.rows if row.action == "create"]
    defaults = {"document": None, "phone": None, "status": "active", "notes": None}
    created = insert_rows(
        uow, report, Client, created_rows, [{**defaults, **row.values} for row in created_rows]
    )
    return {"created_ids": created, "updated_clients": audit}


def _write_allocations(
    uow: UnitOfWork, report: ImportReport, plan: _Plan, answers: _Market
) -> dict[str, Any]:
    rows = [row for row in report.rows if row.action == "create"]
    for symbol in sorted({str(row.values["symbol"]) for row in rows} - set(plan.assets)):
        values = new_asset_values(AssetIn(symbol=symbol), answers.quotes[symbol])
        plan.assets[symbol] = uow.assets.get_or_create(values)
    # Each lot is a buy in the client's ledger.
    lots = [
        {
            "client_id": plan.client_ids[row.row],
            "asset_id": plan.assets[str(row.values["symbol"])].id,
            "kind": "buy",
            "quantity": row.values["quantity"],
            "price": row.values["buy_price"],
            "date": row.values["buy_date"],
        }
        for row in rows
    ]
    created = insert_rows(uow, report, Movement, rows, lots)
    return {"created_ids": created, "clients": _drop_figures(uow, lots)}


def _drop_figures(uow: UnitOfWork, movements: list[dict[str, Any]]) -> list[int]:
    """As when a movement is added by hand: the clients' figures from the earliest new
    date on are dropped (and recomputed); the clients, sorted."""
    since: dict[int, date] = {}
    for movement in movements:
        client_id = movement["client_id"]
        since[client_id] = min(since.get(client_id, movement["date"]), movement["date"])
    invalidate_figures(uow.session, since)
    return sorted(since)


def _write_movements(
    uow: UnitOfWork, report: ImportReport, plan: _Plan, answers: _Market
) -> dict[str, Any]:
    """New assets (bought in the file, verified with market data), then every new row."""
    assert plan.movements is not None
    new_symbols = {
        str(row.values["symbol"])
        for row in report.rows
        if row.action == "create" and row.values["kind"] == "buy"
    } - set(plan.movements.assets)
    for symbol in sorted(new_symbols):
        values = new_asset_values(AssetIn(symbol=symbol), answers.quotes[symbol])
        plan.movements.assets[symbol] = uow.assets.get_or_create(values)
    rows, values = movement_rows(report, plan.movements)
    created = insert_rows(uow, report, Movement, rows, values)
    return {"created_ids": created, "clients": _drop_figures(uow, values)}
