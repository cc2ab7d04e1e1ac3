"""Export use cases: clients, allocations (with live figures), daily returns, the
portfolio summary, the ledger and positions (with live figures), as CSV or Excel, for any
signed-in role, with an audit entry.

Both roles may export (reading is all an export does); the role is still checked here, as
every service does. Each export is validated first (unknown or inapplicable filters, a
start date after the end date, a client that does not exist are refused with message keys),
then streamed from the database inside one unit of work into the caller's binary stream,
and recorded in the audit log (action ``export``: the datasets, their filters and row
counts) in that same transaction — an export that fails half-way leaves no record.

Allocations carry the live figures of the client page (:func:`core.services.portfolio.
price_rows`), from one batched quote call for every ticker in the export, made before the
transaction opens. The portfolio summary is the stored metrics of each client's latest
close; daily returns are the stored series. The ledger and positions rows come from
:mod:`core.services.ledger_exports` (positions are priced client by client before the
export's transaction opens).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.analytics.lots import invested_amount
from core.db import UnitOfWork
from core.documents import format_document
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.exports.csv_writer import write_csv
from core.exports.datasets import DATASETS, DatasetName
from core.exports.xlsx_writer import MIME as XLSX_MIME
from core.exports.xlsx_writer import Sheet, SummaryLines, write_xlsx
from core.formatting import DISPLAY_TZ, format_date
from core.i18n import Translator
from core.market.port import MarketData, QuoteBatch
from core.models import Role
from core.schemas import SEARCH_MAX, Clean, Status, parse
from core.services.audit import audit_change
from core.services.clients import folded_search
from core.services.ledger_exports import (
    PricedClient,
    ledger_rows,
    position_rows,
    price_positions,
)
from core.services.portfolio import AllocationRow, price_rows
from core.services.principal import Principal

ExportFormat = Literal["csv", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx")
MIME: dict[str, str] = {"csv": "text/csv", "xlsx": XLSX_MIME}
ACTION = ENTITY = "export"
# Downloads through the browser are served from memory by Streamlit: past this many rows a
# page asks for a client or a shorter range instead (scripts call export() with no limit).
DASHBOARD_MAX_ROWS = 500_000

# The filters each dataset takes; any other one given is refused.
FILTERS: dict[str, tuple[str, ...]] = {
    "clients": ("search", "status"),
    "allocations": ("client_id",),
    "daily_returns": ("client_id", "start", "end"),
    "portfolio_summary": ("search", "status"),
    "ledger": ("client_id",),
    "positions": ("client_id",),
}
PRICED = ("allocations", "positions")  # the datasets priced with market data


class ExportQuery(BaseModel):
    """One dataset to export and its filters (all optional: no filter exports everything)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: DatasetName
    search: Annotated[str, Clean] = ""
    status: Status | None = None
    client_id: int | None = Field(default=None, ge=1)
    start: date | None = None
    end: date | None = None

    def model_post_init(self, _context: Any) -> None:
        for name in ("search", "status", "client_id", "start", "end"):
            if getattr(self, name) not in (None, "") and name not in FILTERS[self.dataset]:
                raise ValidationFailed.single(name, "validation.unknown_field")
        if len(self.search) > SEARCH_MAX:
            raise ValidationFailed.single("search", "validation.too_long", max=SEARCH_MAX)
        if self.start and self.end and self.start > self.end:
            raise ValidationFailed.single("end", "validation.date_range")

    def filters(self) -> dict[str, Any]:
        """The filters in force, JSON-ready (for the audit entry)."""
        values = {name: getattr(self, name) for name in FILTERS[self.dataset]}
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in values.items()
            if value not in (None, "")
        }


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What was written: a suggested file name, its MIME type, rows per dataset."""

    file_name: str
    mime: str
    rows: dict[str, int]


def require_signed_in(actor: Principal) -> None:
    """Exports are open to every role Anka knows (admins and read-only users), no other."""
    if actor.role not in set(Role):
        raise PermissionDenied()


def check_queries(
    queries: Sequence[ExportQuery | Mapping[str, Any]], fmt: str = "xlsx"
) -> list[ExportQuery]:
    """Validate what to export before anything runs (pages call it to show the messages).

    A CSV holds one dataset; a workbook one sheet per dataset, each dataset at most once.
    """
    if fmt not in FORMATS:
        raise ValidationFailed.single("format", "validation.choice")
    parsed = [q if isinstance(q, ExportQuery) else parse(ExportQuery, q) for q in queries]
    names = [q.dataset for q in parsed]
    if not parsed or len(set(names)) != len(names) or (fmt == "csv" and len(parsed) != 1):
        raise ValidationFailed.single("dataset", "validation.invalid")
    return parsed


def daily_rows(uow: UnitOfWork, query: ExportQuery | Mapping[str, Any]) -> int:
    """How many rows a daily-returns export would hold (pages check it against
    :data:`DASHBOARD_MAX_ROWS` before offering the download)."""
    q = query if isinstance(query, ExportQuery) else parse(ExportQuery, query)
    with uow:
        return uow.exports.daily_returns_count(q.client_id, q.start, q.end)


def file_name(
    queries: Sequence[ExportQuery], fmt: str, at: datetime, *, market_name: str = ""
) -> str:
    """``anka-<datasets>[-client-<id>][-demo]-<yyyymmdd-hhmm>.<fmt>`` (São Paulo time);
    allocations priced with demo data say so in the name too."""
    parts = ["anka", *(q.dataset.replace("_", "-") for q in queries)]
    clients = {q.client_id for q in queries if q.client_id is not None}
    if len(clients) == 1:
        parts.append(f"client-{clients.pop()}")
    if market_name == "demo" and any(q.dataset in PRICED for q in queries):
        parts.append("demo")
    parts.append(at.astimezone(DISPLAY_TZ).strftime("%Y%m%d-%H%M"))
    return "-".join(parts) + f".{fmt}"


def export(
    uow: UnitOfWork,
    market: MarketData | None,
    actor: Principal,
    queries: Sequence[ExportQuery | Mapping[str, Any]],
    fmt: str,
    out: BinaryIO,
    locale: str,
    *,
    now: datetime | None = None,
) -> ExportResult:
    """Write the export to ``out`` (left open, not rewound) and record it in the audit log.

    ``market`` prices allocations and positions; the other datasets do not need it (None).
    """
    require_signed_in(actor)
    parsed = check_queries(queries, fmt)
    source = market.name if market else ""
    at = now or datetime.now(UTC)
    t = Translator(locale)
    batch = _quotes(uow, market, parsed)
    priced = _positions(uow, market, parsed)
    with uow:
        clients = _named_clients(uow, parsed)
        sheets = [Sheet(DATASETS[q.dataset], _rows(uow, q, batch, priced, t)) for q in parsed]
        if fmt == "csv":
            counts = {sheets[0].dataset.name: write_csv(sheets[0].dataset, sheets[0].rows, out, t)}
        else:

            def summary(counts: Mapping[str, int]) -> SummaryLines:
                return _summary(actor, at, parsed, counts, clients, source, t)

            counts = write_xlsx(sheets, summary, out, t)
        audit_change(
            uow,
            actor,
            ACTION,
            ENTITY,
            "+".join(q.dataset for q in parsed),
            None,
            {
                "format": fmt,
                "datasets": [
                    {"dataset": q.dataset, "filters": q.filters(), "rows": counts[q.dataset]}
                    for q in parsed
                ],
            },
        )
        uow.commit()
    return ExportResult(file_name(parsed, fmt, at, market_name=source), MIME[fmt], counts)


# -- rows -----------------------------------------------------------------------------------


def _quotes(
    uow: UnitOfWork, market: MarketData | None, queries: list[ExportQuery]
) -> QuoteBatch | None:
    """One batched quote call for every ticker the allocation export holds (no transaction
    is open while the market answers)."""
    wanted = [q for q in queries if q.dataset == "allocations"]
    if not wanted:
        return None
    if market is None:
        raise ValueError("allocations are priced with market data: pass one")
    with uow:
        symbols = uow.exports.held_symbols(wanted[0].client_id)
    return market.quotes(symbols) if symbols else None


def _positions(
    uow: UnitOfWork, market: MarketData | None, queries: list[ExportQuery]
) -> list[PricedClient]:
    """The positions export's clients, priced (outside the export's transaction)."""
    wanted = [q for q in queries if q.dataset == "positions"]
    if not wanted:
        return []
    if market is None:
        raise ValueError("positions are priced with market data: pass one")
    return price_positions(uow, market, wanted[0].client_id)


def _named_clients(uow: UnitOfWork, queries: list[ExportQuery]) -> dict[int, tuple[str, str]]:
    """Name and e-mail of every client a filter names; an unknown one is NotFound."""
    named: dict[int, tuple[str, str]] = {}
    for q in queries:
        if q.client_id is not None and q.client_id not in named:
            client = uow.clients.get(q.client_id)
            if client is None:
                raise NotFound()
            named[q.client_id] = (client.name, client.email)
    return named


def _rows(
    uow: UnitOfWork,
    q: ExportQuery,
    batch: QuoteBatch | None,
    priced: list[PricedClient],
    t: Translator,
) -> Iterator[tuple[Any, ...]]:
    """The rows of one query, in its dataset's column order (lazily: nothing is read until
    the writer asks)."""
    if q.dataset == "clients":
        clients = uow.exports.clients(folded_search(uow, q.search), q.status)
        for cid, name, email, document, phone, status, notes, created, updated in clients:
            shown = format_document(document) if document else None
            yield (cid, name, email, shown, phone, t(f"status.{status}"), notes, created, updated)
    elif q.dataset == "allocations":
        yield from _allocation_rows(uow, q.client_id, batch, t)
    elif q.dataset == "daily_returns":
        yield from uow.exports.daily_returns(q.client_id, q.start, q.end)
    elif q.dataset == "ledger":
        yield from ledger_rows(uow, q.client_id, t)
    elif q.dataset == "positions":
        yield from position_rows(priced, t)
    else:
        for name, email, status, *figures in uow.exports.portfolio_summary(
            folded_search(uow, q.search), q.status
        ):
            yield (name, email, t(f"status.{status}"), *figures)


def _allocation_rows(
    uow: UnitOfWork, client_id: int | None, batch: QuoteBatch | None, t: Translator
) -> Iterator[tuple[Any, ...]]:
    """Lots priced client by client, as the client page prices them (weights within each
    client's portfolio and currency); only one client's lots are held at a time."""
    lots = uow.exports.allocations(client_id)
    for _client, group in itertools.groupby(lots, key=lambda lot: lot[0]):
        mine = list(group)
        name, email = mine[0][1], mine[0][2]
        bases = [
            AllocationRow(
                allocation_id=lot_id,
                symbol=symbol,
                name=asset_name,
                currency=currency,
                quantity=quantity,
                buy_price=buy_price,
                buy_date=buy_date,
                invested=invested_amount(quantity, buy_price),
            )
            for (
                _,
                _,
                _,
                lot_id,
                symbol,
                asset_name,
                currency,
                quantity,
                buy_price,
                buy_date,
            ) in mine
        ]
        priced, _totals = price_rows(bases, batch)
        for row in priced:
            yield (
                name,
                email,
                row.symbol,
                row.name,
                row.currency,
                row.quantity,
                row.buy_price,
                row.buy_date,
                row.invested,
                row.price,
                row.previous_close,
                row.daily_change,
                row.accumulated_return,
                row.gain,
                row.market_value,
                row.weight,
                _note(row, t),
            )


def _note(row: AllocationRow, t: Translator) -> str | None:
    if row.failure:
        return t(f"market.failed.{row.failure}")
    if row.stale:
        return t("market.stale")
    return None


# -- the summary sheet ------------------------------------------------------------------------


def _describe_filters(q: ExportQuery, clients: Mapping[int, tuple[str, str]], t: Translator) -> str:
    """The filters in words, in the user's language ("none" when everything is exported)."""
    parts = []
    if q.search:
        parts.append(f"{t('field.search')}: {q.search}")
    if q.status:
        parts.append(f"{t('field.status')}: {t(f'status.{q.status}')}")
    if q.client_id is not None:
        name, email = clients[q.client_id]
        parts.append(f"{t('export.filter.client')}: {name} ({email})")
    if q.start:
        parts.append(f"{t('export.filter.start')}: {format_date(q.start, t.locale)}")
    if q.end:
        parts.append(f"{t('export.filter.end')}: {format_date(q.end, t.locale)}")
    return " · ".join(parts) if parts else t("export.summary.no_filters")


def _summary(
    actor: Principal,
    at: datetime,
    queries: list[ExportQuery],
    counts: Mapping[str, int],
    clients: Mapping[int, tuple[str, str]],
    market_name: str,
    t: Translator,
) -> SummaryLines:
    lines: list[tuple[str, Any]] = [
        (t("export.summary.exported_by"), actor.email),
        (t("export.summary.exported_at"), at),
    ]
    for q in queries:
        title = t(DATASETS[q.dataset].title)
        lines.append((t("export.summary.dataset"), title))
        lines.append((t("export.summary.rows", dataset=title), counts[q.dataset]))
        lines.append((t("export.summary.filters", dataset=title), _describe_filters(q, clients, t)))
    if any(q.dataset in PRICED for q in queries):
        lines.append((t("export.summary.quotes"), t(f"market.source.{market_name}")))
    lines.append((t("export.summary.notes"), t("export.summary.notes_text")))
    return lines
