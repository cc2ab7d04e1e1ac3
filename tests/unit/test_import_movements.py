"""Movements rows read without the database: kind spellings in both languages, the columns
each kind needs or must leave blank, and the templates reading back as valid rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.imports.columns import template_headers
from core.imports.movement_rows import income_type_value, kind_value
from core.imports.templates import template_csv, template_xlsx
from core.imports.validation import check_file

HEADER = (
    "Cliente;Ativo;Tipo;Data;Quantidade;Preço;Taxas;Tipo de provento;Valor bruto;Imposto retido"
)


def rows(*lines: str, header: str = HEADER, locale: str = "pt_BR"):  # type: ignore[no-untyped-def]
    data = ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")
    report = check_file("movements", "m.csv", data, locale)
    assert not report.file_errors, report.file_errors
    return report.rows


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Compra", "buy"),
        ("C", "buy"),
        ("buy", "buy"),
        (" VENDA ", "sell"),
        ("v", "sell"),
        ("Sell", "sell"),
        ("Provento", "income"),
        ("income", "income"),
        ("Rendimento", "income"),
        ("troca", None),
    ],
)
def test_kind_spellings(text: str, kind: str | None) -> None:
    assert kind_value(text) == kind


def test_income_type_spellings() -> None:
    assert income_type_value("Dividendo") == "dividend"
    assert income_type_value("Juros sobre capital próprio") == "jcp"
    assert income_type_value("Amortização") == "amortizacao"
    assert income_type_value("Distribution") == "rendimento"
    assert income_type_value("bônus") == "bônus"  # left for the schema to refuse


def test_each_kind_needs_its_columns_and_leaves_the_others_blank() -> None:
    buy, sell, income, bad_income, no_kind, income_with_price = rows(
        "a@example.com;petr4;compra;10/03/2025;100;30,5;;;;",
        "a@example.com;PETR4.SA;venda;11/03/2025;;30;;;;",
        "a@example.com;PETR4.SA;provento;12/03/2025;;;;JCP;100;15",
        "a@example.com;PETR4.SA;provento;12/03/2025;;;;bônus;10;20",
        "a@example.com;PETR4.SA;;12/03/2025;1;1;;;;",
        "a@example.com;PETR4.SA;provento;12/03/2025;;5;;dividendo;10;",
    )
    assert buy.valid
    assert buy.values == {
        "client": "a@example.com",
        "symbol": "PETR4.SA",  # resolved as buys are
        "kind": "buy",
        "quantity": Decimal(100),
        "price": Decimal("30.5"),
        "fees": Decimal(0),  # blank fees are zero
        "date": date(2025, 3, 10),
    }
    assert [(r.field, r.key) for r in sell.reasons] == [("quantity", "validation.required")]
    assert income.values["income_type"] == "jcp"
    assert (income.values["amount"], income.values["tax"]) == (Decimal(100), Decimal(15))
    assert {r.field for r in bad_income.reasons} == {"income_type", "tax"}
    assert [(r.field, r.key) for r in no_kind.reasons] == [("kind", "validation.required")]
    assert [(r.field, r.key) for r in income_with_price.reasons] == [
        ("price", "import.row.not_for_kind")
    ]


def test_english_headers() -> None:
    (row,) = rows(
        "a@example.com,AAPL,Buy,2025-03-10,10,150.25,1,,,",
        header="Client,Ticker,Kind,Date,Quantity,Price,Fees,Income type,Gross amount,Tax withheld",
        locale="en",
    )
    assert row.valid
    assert (row.values["kind"], row.values["price"]) == ("buy", Decimal("150.25"))


@pytest.mark.parametrize("locale", ["pt_BR", "en"])
def test_the_templates_read_back_as_three_valid_rows(locale: str) -> None:
    for name, data in (
        ("m.csv", template_csv("movements", locale)),
        ("m.xlsx", template_xlsx("movements", locale)),
    ):
        report = check_file("movements", name, data, locale)
        assert report.columns == [
            "client",
            "symbol",
            "kind",
            "date",
            "quantity",
            "price",
            "fees",
            "income_type",
            "amount",
            "tax",
        ]
        assert [r.values.get("kind") for r in report.rows] == ["buy", "sell", "income"]
        assert all(r.valid for r in report.rows)
    assert template_headers("movements", "en")[:4] == [
        "Client (e-mail or CPF/CNPJ)",
        "Asset",
        "Kind",
        "Date",
    ]
