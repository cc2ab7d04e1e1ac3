"""The exports as typed column lists.

A row is a tuple in column order. Values are ``str``, ``int``, ``Decimal``, ``date``,
timezone-aware ``datetime`` (UTC) or ``None`` (an unavailable figure, such as an undefined
IRR or a lot without a quote: an empty cell, never a zero). The writers format each value by
its column's :class:`Kind`; headers are catalogue keys translated for the user's locale.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal, get_args


class Kind(enum.StrEnum):
    """How a column's values are written."""

    TEXT = "text"  # free text: formula-neutralised
    INTEGER = "integer"
    DECIMAL = "decimal"  # exact (a quantity): every stored digit, no trailing zeros
    MONEY = "money"  # an amount, two decimals, in the row's currency (BRL when none is named)
    PRICE = "price"  # a unit price: at least two decimals, up to every stored digit
    PERCENT = "percent"  # a ratio (0.1234), shown as a percentage (12.34%)
    DATE = "date"
    DATETIME = "datetime"  # stored in UTC, written in São Paulo time


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the header's catalogue key, its kind, and an Excel width in characters.

    ``currency`` names the column (in the same row) holding a money column's currency; a
    money column without one is in reais.
    """

    label: str
    kind: Kind
    width: float = 14.0
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Dataset:
    """An export: its name (file names, audit), its title's catalogue key, its columns."""

    name: str
    title: str
    columns: tuple[Column, ...]

    def index(self, label: str) -> int:
        """The position of the column with header key ``label``."""
        return next(i for i, column in enumerate(self.columns) if column.label == label)


DatasetName = Literal[
    "clients", "allocations", "daily_returns", "portfolio_summary", "ledger", "positions"
]
DATASET_NAMES: tuple[DatasetName, ...] = get_args(DatasetName)

CLIENTS = Dataset(
    "clients",
    "export.dataset.clients",
    (
        Column("export.col.id", Kind.INTEGER, 8),
        Column("field.name", Kind.TEXT, 32),
        Column("field.email", Kind.TEXT, 32),
        Column("field.document", Kind.TEXT, 20),
        Column("field.phone", Kind.TEXT, 18),
        Column("field.status", Kind.TEXT, 10),
        Column("field.notes", Kind.TEXT, 40),
        Column("field.created_at", Kind.DATETIME, 20),
        Column("field.updated_at", Kind.DATETIME, 20),
    ),
)

ALLOCATIONS = Dataset(
    "allocations",
    "export.dataset.allocations",
    (
        Column("export.col.client", Kind.TEXT, 28),
        Column("export.col.client_email", Kind.TEXT, 28),
        Column("col.ticker", Kind.TEXT, 12),
        Column("col.name", Kind.TEXT, 28),
        Column("col.currency", Kind.TEXT, 8),
        Column("col.quantity", Kind.DECIMAL, 12),
        Column("col.buy_price", Kind.PRICE, 14, currency="col.currency"),
        Column("col.buy_date", Kind.DATE, 12),
        Column("col.invested", Kind.MONEY, 16, currency="col.currency"),
        Column("col.price", Kind.PRICE, 14, currency="col.currency"),
        Column("export.col.previous_close", Kind.PRICE, 14, currency="col.currency"),
        Column("col.daily_change", Kind.PERCENT, 12),
        Column("col.return_pct", Kind.PERCENT, 12),
        Column("col.gain", Kind.MONEY, 16, currency="col.currency"),
        Column("col.market_value", Kind.MONEY, 16, currency="col.currency"),
        Column("col.weight", Kind.PERCENT, 10),
        Column("col.note", Kind.TEXT, 24),
    ),
)

DAILY_RETURNS = Dataset(
    "daily_returns",
    "export.dataset.daily_returns",
    (
        Column("export.col.client", Kind.TEXT, 28),
        Column("export.col.client_email", Kind.TEXT, 28),
        Column("export.col.date", Kind.DATE, 12),
        Column("col.market_value", Kind.MONEY, 16),
        Column("export.col.flow_in", Kind.MONEY, 16),
        Column("export.col.flow_out", Kind.MONEY, 16),
        Column("col.invested", Kind.MONEY, 16),
        Column("export.col.daily_return", Kind.PERCENT, 12),
        Column("export.col.cumulative_twr", Kind.PERCENT, 14),
    ),
)

PORTFOLIO_SUMMARY = Dataset(
    "portfolio_summary",
    "export.dataset.portfolio_summary",
    (
        Column("export.col.client", Kind.TEXT, 28),
        Column("export.col.client_email", Kind.TEXT, 28),
        Column("field.status", Kind.TEXT, 10),
        Column("export.col.as_of", Kind.DATE, 14),
        Column("col.invested", Kind.MONEY, 16),
        Column("col.market_value", Kind.MONEY, 16),
        Column("col.return_pct", Kind.PERCENT, 14),
        Column("export.col.twr", Kind.PERCENT, 12),
        Column("export.col.irr", Kind.PERCENT, 12),
    ),
)

# Every movement of the ledger; the cells a kind has no use for are empty (a buy has no
# income type, income no quantity, price or fees).
LEDGER = Dataset(
    "ledger",
    "export.dataset.ledger",
    (
        Column("export.col.client", Kind.TEXT, 28),
        Column("export.col.client_email", Kind.TEXT, 28),
        Column("export.col.date", Kind.DATE, 12),
        Column("field.kind", Kind.TEXT, 10),
        Column("col.ticker", Kind.TEXT, 12),
        Column("col.currency", Kind.TEXT, 8),
        Column("col.quantity", Kind.DECIMAL, 12),
        Column("field.price", Kind.PRICE, 14, currency="col.currency"),
        Column("field.fees", Kind.MONEY, 12, currency="col.currency"),
        Column("field.income_type", Kind.TEXT, 16),
        Column("field.amount", Kind.MONEY, 14, currency="col.currency"),
        Column("field.tax", Kind.MONEY, 14, currency="col.currency"),
    ),
)

# One row per client and asset from core.services.positions (figures in the asset's
# currency but the market value in reais and the weight, which are in reais).
POSITIONS = Dataset(
    "positions",
    "export.dataset.positions",
    (
        Column("export.col.client", Kind.TEXT, 28),
        Column("export.col.client_email", Kind.TEXT, 28),
        Column("col.ticker", Kind.TEXT, 12),
        Column("col.name", Kind.TEXT, 28),
        Column("col.currency", Kind.TEXT, 8),
        Column("col.quantity", Kind.DECIMAL, 12),
        Column("export.col.average_cost", Kind.PRICE, 14, currency="col.currency"),
        Column("col.price", Kind.PRICE, 14, currency="col.currency"),
        Column("col.market_value", Kind.MONEY, 16, currency="col.currency"),
        Column("export.col.unrealised", Kind.MONEY, 16, currency="col.currency"),
        Column("export.col.realised", Kind.MONEY, 16, currency="col.currency"),
        Column("export.col.income", Kind.MONEY, 16, currency="col.currency"),
        Column("export.col.total_return", Kind.MONEY, 16, currency="col.currency"),
        Column("export.col.total_return_pct", Kind.PERCENT, 12),
        Column("export.col.market_value_brl", Kind.MONEY, 16),
        Column("export.col.weight_brl", Kind.PERCENT, 12),
        Column("col.note", Kind.TEXT, 24),
    ),
)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (CLIENTS, ALLOCATIONS, DAILY_RETURNS, PORTFOLIO_SUMMARY, LEDGER, POSITIONS)
}
