"""Which columns each import takes, and matching a file's header names to them.

A header matches a field ignoring case, accents, spaces and punctuation (``Preço de
compra``, ``preco_de_compra`` and ``PRECO DE COMPRA`` are one name), in Portuguese or
English: the template's labels in every language of the catalogue, plus a few common
synonyms. Missing required columns, unknown columns and a field given twice are reported
with the names as the file wrote them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core.i18n import CATALOGUE, translate
from core.imports.report import Kind, Reason


@dataclass(frozen=True, slots=True)
class Column:
    """One field of an import: its label key (the template header) and synonyms."""

    field: str
    label_key: str
    required: bool
    synonyms: tuple[str, ...] = ()


COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "clients": (
        Column("name", "field.name", True, ("nome", "name", "nome completo", "full name")),
        Column("email", "field.email", True, ("email", "e-mail", "mail")),
        Column(
            "document",
            "field.document",
            False,
            ("cpf/cnpj", "cpf", "cnpj", "documento", "document", "cpf ou cnpj"),
        ),
        Column("phone", "field.phone", False, ("telefone", "phone", "celular", "fone", "tel")),
        Column("status", "field.status", False, ("situação", "status")),
        Column("notes", "field.notes", False, ("observações", "observação", "obs", "notes")),
    ),
    "allocations": (
        Column(
            "client",
            "import.col.client",
            True,
            ("cliente", "client", "e-mail do cliente", "client e-mail", "client email"),
        ),
        Column(
            "symbol",
            "field.symbol",
            True,
            ("ativo", "ticker", "código", "símbolo", "symbol", "asset", "ação"),
        ),
        Column(
            "quantity", "field.quantity", True, ("quantidade", "qtd", "qtde", "quantity", "qty")
        ),
        Column(
            "buy_price",
            "field.buy_price",
            True,
            ("preço de compra", "preço", "preço médio", "buy price", "price", "purchase price"),
        ),
        Column(
            "buy_date",
            "field.buy_date",
            True,
            ("data de compra", "data", "buy date", "date", "purchase date"),
        ),
    ),
    # The ledger: buys, sells and income, one row each, named by the kind column; the
    # columns a kind does not use are left blank (see core.imports.movement_rows).
    "movements": (
        Column(
            "client",
            "import.col.client",
            True,
            ("cliente", "client", "e-mail do cliente", "client e-mail", "client email"),
        ),
        Column(
            "symbol",
            "field.symbol",
            True,
            ("ativo", "ticker", "código", "símbolo", "symbol", "asset", "ação"),
        ),
        Column(
            "kind",
            "field.kind",
            True,
            ("tipo", "movimento", "operação", "tipo de movimento", "kind", "movement", "type"),
        ),
        Column("date", "field.date", True, ("data", "date", "data do movimento", "trade date")),
        Column(
            "quantity", "field.quantity", False, ("quantidade", "qtd", "qtde", "quantity", "qty")
        ),
        Column("price", "field.price", False, ("preço", "preço unitário", "price", "unit price")),
        Column("fees", "field.fees", False, ("taxas", "custos", "corretagem", "fees", "costs")),
        Column(
            "income_type",
            "field.income_type",
            False,
            ("tipo de provento", "provento", "income type"),
        ),
        Column("amount", "field.amount", False, ("valor bruto", "valor", "amount", "gross")),
        Column("tax", "field.tax", False, ("imposto retido", "imposto", "ir", "tax", "withheld")),
    ),
}

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def fold_header(name: str) -> str:
    """``Preço de Compra`` -> ``preco_de_compra``: no accents, case or punctuation."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    ).casefold()
    return _NOT_ALNUM.sub("_", plain).strip("_")


def _names(column: Column) -> set[str]:
    labels = {translate(column.label_key, locale) for locale in CATALOGUE}
    return {fold_header(name) for name in (*labels, *column.synonyms, column.field)}


ALIASES: dict[Kind, dict[str, str]] = {
    kind: {alias: column.field for column in columns for alias in _names(column)}
    for kind, columns in COLUMNS.items()
}


# Columns that Anka's own export writes but an import does not take: a clients file
# exported from the Reports page can be edited and imported back (its ID and timestamps
# are skipped; clients are matched by CPF/CNPJ, then e-mail, as always).
IGNORED = "_ignored"
EXPORT_ONLY: dict[Kind, tuple[str, ...]] = {
    "clients": ("export.col.id", "field.created_at", "field.updated_at"),
    "allocations": (),
    "movements": (),
}
_SKIPPED: dict[Kind, set[str]] = {
    kind: {fold_header(translate(key, locale)) for key in keys for locale in CATALOGUE}
    for kind, keys in EXPORT_ONLY.items()
}


def template_headers(kind: Kind, locale: str) -> list[str]:
    """The header row of the template in ``locale``."""
    return [translate(column.label_key, locale) for column in COLUMNS[kind]]


@dataclass(slots=True)
class Mapping:
    """Which file column holds which field (by position), or what is wrong with the header."""

    # Per file column: its field, IGNORED for a column of our export that imports skip,
    # None for a blank header over empty cells.
    fields: list[str | None]
    errors: list[Reason]


def map_header(kind: Kind, header: list[str], locale: str) -> Mapping:
    """Match ``header`` to the fields of ``kind``; report missing, unknown, repeated ones.

    Column names in the reasons are as the file wrote them, or (missing ones) as the
    template in ``locale`` names them.
    """
    aliases = ALIASES[kind]
    fields: list[str | None] = []
    unknown: list[str] = []
    repeated: list[str] = []
    seen: set[str] = set()
    for name in header:
        target = aliases.get(fold_header(name)) if name.strip() else None
        if target is None and fold_header(name) in _SKIPPED[kind]:
            fields.append(IGNORED)
            continue
        if name.strip() and target is None:
            unknown.append(name)
        elif target in seen:
            repeated.append(name)
            target = None
        elif target:
            seen.add(target)
        fields.append(target)
    errors: list[Reason] = []
    missing = [c for c in COLUMNS[kind] if c.required and c.field not in seen]
    if missing:
        names = ", ".join(translate(c.label_key, locale) for c in missing)
        errors.append(Reason("import.file.missing_columns", {"columns": names}))
    if unknown:
        expected = ", ".join(template_headers(kind, locale))
        errors.append(
            Reason(
                "import.file.unknown_columns",
                {"columns": ", ".join(unknown), "expected": expected},
            )
        )
    if repeated:
        errors.append(Reason("import.file.repeated_columns", {"columns": ", ".join(repeated)}))
    return Mapping(fields, errors)
