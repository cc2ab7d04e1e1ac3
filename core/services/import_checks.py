"""Checking an import's rows against stored data and market data, for
:mod:`core.services.imports` (the preview and the commit run the same checks).

How clients, allocations and movements are matched and judged is described in
:mod:`core.services.imports`; the movements' ledger rules are in
:mod:`core.services.movement_imports`. The checks fill an :class:`ImportPlan` with what a
commit will write and set each valid row's action (``create``, ``update``, ``unchanged``)
or refuse it with reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.book_limits import invested_fits, lot_cost, total
from core.db import UnitOfWork
from core.documents import normalize_document
from core.errors import ValidationFailed
from core.imports.report import ImportReport, RowResult
from core.imports.validation import mark_duplicates
from core.market.port import MarketData, Quote
from core.models import Asset, Client
from core.services.allocations import check_first_trade, verify_new_symbols
from core.services.movement_imports import MovementPlan, check_movements
from core.trade_schemas import AllocationIn

LOT_FIELDS = ("quantity", "buy_price", "buy_date")


@dataclass(slots=True)
class MarketAnswers:
    """What market data said about the tickers not held yet: a quote for each known one,
    the reason (message key and parameters) for each refused one."""

    quotes: dict[str, Quote] = field(default_factory=dict)
    refused: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


@dataclass(slots=True)
class ImportPlan:
    """What a commit will write, row by row (filled while checking stored data): each
    clients row's stored match and changed fields, each allocation row's client, the stored
    assets, and a movements file's plan."""

    clients: dict[int, Client | None] = field(default_factory=dict)  # row -> match
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)  # row -> field: new
    client_ids: dict[int, int] = field(default_factory=dict)  # allocation row -> client
    assets: dict[str, Asset] = field(default_factory=dict)  # symbol -> stored asset
    movements: MovementPlan | None = None  # a movements file's plan


# -- market data (outside any transaction) --------------------------------------------------


def ask_market(uow: UnitOfWork, market: MarketData, report: ImportReport) -> MarketAnswers:
    """Ask market data (one batched call, outside any transaction) about the valid rows'
    tickers not stored yet (a movements file's buys only; nothing for a clients file)."""
    if report.kind == "clients":
        return MarketAnswers()
    symbols = sorted(
        {
            str(row.values["symbol"])
            for row in report.rows
            if row.valid and row.values.get("kind", "buy") == "buy"  # movements: buys only
        }
    )
    with uow:
        stored = uow.assets.stored_symbols(symbols)
    quotes, refused = verify_new_symbols(market, [s for s in symbols if s not in stored])
    return MarketAnswers(quotes, refused)


# -- checks against stored data -------------------------------------------------------------


def check_stored(uow: UnitOfWork, report: ImportReport, answers: MarketAnswers) -> ImportPlan:
    """Judge every valid row against stored data (inside ``uow``'s block; allocations and
    movements lock their clients' books first): set its action or refuse it, and return
    what a commit writes."""
    if report.kind == "clients":
        return _check_clients(uow, report)
    if report.kind == "movements":
        return _check_movements(uow, report, answers)
    return _check_allocations(uow, report, answers)


def _valid(report: ImportReport) -> list[RowResult]:
    return [row for row in report.rows if row.valid]


def _check_clients(uow: UnitOfWork, report: ImportReport) -> ImportPlan:
    plan = ImportPlan()
    rows = _valid(report)
    stored = uow.clients.by_keys(
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
        row.matched = f"{match.name} · {match.email}"  # the preview says whom it updates
        row.previous = {f: getattr(match, f) for f in changes}
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


def _check_allocations(uow: UnitOfWork, report: ImportReport, answers: MarketAnswers) -> ImportPlan:
    plan = ImportPlan()
    rows = _valid(report)
    emails, documents = _client_keys(rows)
    stored = uow.clients.by_keys(emails, documents)
    by_email = {client.email.lower(): client.id for client in stored}
    by_document = {client.document: client.id for client in stored if client.document}
    symbols = sorted({str(row.values["symbol"]) for row in rows})
    plan.assets = uow.assets.by_symbols(symbols)
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


def _check_movements(uow: UnitOfWork, report: ImportReport, answers: MarketAnswers) -> ImportPlan:
    """Clients found as for allocations, then the ledger's rules
    (:mod:`core.services.movement_imports`)."""
    rows = _valid(report)
    emails, documents = _client_keys(rows)
    stored = uow.clients.by_keys(emails, documents)
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
    return ImportPlan(client_ids=client_ids, assets=plan.assets, movements=plan)


def _lot(row: RowResult) -> dict[str, Any]:
    return {f: row.values[f] for f in LOT_FIELDS}


def _stored_lots(uow: UnitOfWork, client_ids: set[int]) -> set[tuple[Any, ...]]:
    return {
        _lot_key(cid, symbol, {"buy_date": day, "quantity": qty, "buy_price": price})
        for cid, symbol, day, qty, price in uow.allocations.lots_of(client_ids)
    }
