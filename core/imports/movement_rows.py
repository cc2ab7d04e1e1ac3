"""One row of a movements file (the client's ledger), checked without the database.

A row is a buy, a sell or income, named by its kind column in either language (folded: no
accents or case): ``compra``/``c``/``buy``, ``venda``/``v``/``sell``,
``provento``/``rendimento``/``income`` — the export's own words (``Compra``, ``Venda``,
``Provento``; ``Buy``, ``Sell``, ``Income``) among them. Buys and sells take quantity,
price and fees (blank fees are zero) through :class:`core.trade_schemas.TradeIn` /
:class:`core.trade_schemas.SellIn`; income takes its type, the gross amount and the tax withheld
(blank is zero) through :class:`core.trade_schemas.IncomeIn`. A cell a kind does not use must be
blank (``import.row.not_for_kind``). Income types: ``dividendo``/``dividend``, ``jcp``
(also "juros sobre capital próprio"), ``rendimento``/``distribution``,
``amortização``/``amortizacao``/``amortisation``/``amortization``, and the catalogue's
names in both languages.

The ticker is read as the allocations import reads it (:class:`core.trade_schemas.AssetIn`, then
:func:`core.market.symbols.resolve_symbol`: ``petr4`` is ``PETR4.SA``). Whether the client
exists, holds enough to sell or holds the asset at all is judged by
:mod:`core.services.movement_imports`.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from core.errors import ValidationFailed
from core.i18n import CATALOGUE, translate
from core.imports import cells
from core.imports.reading import Cell
from core.imports.report import RowResult
from core.market.symbols import resolve_symbol
from core.schemas import parse
from core.trade_schemas import AssetIn, IncomeIn, SellIn, TradeIn

TRADE_FIELDS = ("quantity", "price", "fees")
INCOME_FIELDS = ("income_type", "amount", "tax")
KIND_SPELLINGS: dict[str, tuple[str, ...]] = {
    "buy": ("compra", "c", "buy", "b"),
    "sell": ("venda", "v", "sell", "s"),
    "income": ("provento", "proventos", "rendimento", "income"),
}
INCOME_TYPE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "dividend": ("dividendo", "dividendos", "dividend", "dividends"),
    "jcp": ("jcp", "juros sobre capital proprio", "juros sobre o capital proprio"),
    "rendimento": ("rendimento", "rendimentos", "distribution"),
    "amortizacao": ("amortizacao", "amortisation", "amortization"),
}


def fold(text: str) -> str:
    """``Amortização`` -> ``amortizacao``: no accents or case, spaces squeezed."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).casefold()
    return " ".join(plain.split())


def _lookup(spellings: dict[str, tuple[str, ...]], prefix: str) -> dict[str, str]:
    table = {fold(word): value for value, words in spellings.items() for word in words}
    for value in spellings:
        for locale in CATALOGUE:
            table.setdefault(fold(translate(f"{prefix}.{value}", locale)), value)
    return table


_KINDS = _lookup(KIND_SPELLINGS, "movement_kind")
_INCOME_TYPES = _lookup(INCOME_TYPE_SPELLINGS, "income_type")


def kind_value(text: str) -> str | None:
    """The stored kind (buy, sell, income) a cell names, or None."""
    return _KINDS.get(fold(text))


def income_type_value(text: str) -> str:
    """The stored income type a cell names; other text passes through for the schema to
    refuse (``validation.choice``)."""
    return _INCOME_TYPES.get(fold(text), text)


def _refuse_all(result: RowResult, error: ValidationFailed) -> None:
    for field, (key, params) in error.field_errors.items():
        result.refuse(key, field, **params)


def _client(result: RowResult, by_field: dict[str, Cell]) -> str:
    client = cells.text_value(by_field["client"]) if "client" in by_field else ""
    if client and "@" not in client:  # a CPF/CNPJ, maybe a number that lost its zeros
        client = cells.document_value(by_field["client"])
    if not client:
        result.refuse("validation.required", "client")
    return client


def _symbol(result: RowResult, by_field: dict[str, Cell]) -> str | None:
    try:
        parsed = parse(AssetIn, {"symbol": cells.text_value(by_field.get("symbol"))})
    except ValidationFailed as error:
        _refuse_all(result, error)
        return None
    return resolve_symbol(parsed.symbol)


def _kind(result: RowResult, by_field: dict[str, Cell]) -> str | None:
    if "kind" not in by_field:
        result.refuse("validation.required", "kind")
        return None
    kind = kind_value(cells.text_value(by_field["kind"]))
    if kind is None:
        result.refuse("import.row.kind", "kind")
    return kind


def _figures(result: RowResult, kind: str, by_field: dict[str, Cell], locale: str) -> dict:
    """The kind's own cells parsed by its schema (empty when refused)."""
    used, unused = (
        (INCOME_FIELDS, TRADE_FIELDS) if kind == "income" else (TRADE_FIELDS, INCOME_FIELDS)
    )
    for name in unused:
        if name in by_field:
            result.refuse("import.row.not_for_kind", name)
    data: dict[str, Any] = {}
    for name in used:
        if name not in by_field:
            continue
        cell = by_field[name]
        if name == "income_type":
            data[name] = income_type_value(cells.text_value(cell))
        else:
            data[name] = cells.number_value(cell, locale)
    if "date" in by_field:
        try:
            data["date"] = cells.date_value(by_field["date"])
        except cells.CellError as error:
            result.refuse(error.key, "date")
    schema = IncomeIn if kind == "income" else SellIn if kind == "sell" else TradeIn
    try:
        checked = parse(schema, data)
    except ValidationFailed as error:
        _refuse_all(result, error)
        return {}
    return checked.model_dump()


def movement_row(parts: tuple[RowResult, dict[str, Cell], set[str]], locale: str) -> RowResult:
    """A movements row read and checked on its own (see the module docstring)."""
    result, by_field, _marked = parts
    client = _client(result, by_field)
    symbol = _symbol(result, by_field)
    kind = _kind(result, by_field)
    if kind is None:
        if "date" not in by_field:
            result.refuse("validation.required", "date")
        return result
    figures = _figures(result, kind, by_field, locale)
    if result.valid and symbol and figures:
        result.values = {"client": client, "symbol": symbol, "kind": kind, **figures}
    return result
