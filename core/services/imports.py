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

The checks are in :mod:`core.services.import_checks`; this module runs them and writes.

The commit runs in one unit of work under an advisory lock (two imports never interleave):
any refused row, or any row the database refuses while writing, rolls everything back and
raises :class:`core.imports.report.ImportRejected` with the report. A successful import
leaves one audit entry (entity ``import``, id = the file's SHA-256) with the counts and the
ids created and updated (with each updated client's fields before and after).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.db import UnitOfWork
from core.imports.report import ImportOutcome, ImportRejected, ImportReport, Kind
from core.imports.validation import check_file
from core.market.port import MarketData
from core.services.allocations import new_asset_values
from core.services.audit import audit_change
from core.services.import_checks import ImportPlan, MarketAnswers, ask_market, check_stored
from core.services.import_writes import as_json, naming_refused_row
from core.services.movement_imports import movement_rows
from core.services.principal import Principal, require_admin
from core.trade_schemas import AssetIn

ENTITY = "import"
IMPORT_LOCK = "anka:import"


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
    answers = ask_market(uow, market, report)
    with uow:
        check_stored(uow, report, answers)
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
    answers = ask_market(uow, market, report)
    with uow:
        uow.locks.hold(IMPORT_LOCK)  # two imports never interleave
        plan = check_stored(uow, report, answers)
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


# -- writes ---------------------------------------------------------------------------------


def _write_clients(
    uow: UnitOfWork, report: ImportReport, plan: ImportPlan, answers: MarketAnswers
) -> dict[str, Any]:
    now = uow.clock.now()  # the transaction's time, as the forms use
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
    with naming_refused_row(report, updated_rows):
        uow.clients.update_many(changes)
    created_rows = [row for row in report.rows if row.action == "create"]
    defaults = {"document": None, "phone": None, "status": "active", "notes": None}
    with naming_refused_row(report, created_rows):
        created = uow.clients.insert_many([{**defaults, **row.values} for row in created_rows])
    return {"created_ids": created, "updated_clients": audit}


def _write_allocations(
    uow: UnitOfWork, report: ImportReport, plan: ImportPlan, answers: MarketAnswers
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
    with naming_refused_row(report, rows):
        created = uow.movements.insert_many(lots)
    return {"created_ids": created, "clients": _drop_figures(uow, lots)}


def _drop_figures(uow: UnitOfWork, movements: list[dict[str, Any]]) -> list[int]:
    """As when a movement is added by hand: the clients' figures from the earliest new
    date on are dropped (and recomputed); the clients, sorted."""
    since: dict[int, date] = {}
    for movement in movements:
        client_id = movement["client_id"]
        since[client_id] = min(since.get(client_id, movement["date"]), movement["date"])
    uow.figures.invalidate(since)
    return sorted(since)


def _write_movements(
    uow: UnitOfWork, report: ImportReport, plan: ImportPlan, answers: MarketAnswers
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
    with naming_refused_row(report, rows):
        created = uow.movements.insert_many(values)
    return {"created_ids": created, "clients": _drop_figures(uow, values)}
