"""The audit's changes in the user's words: field labels, values, and never a secret."""

from __future__ import annotations

from core.i18n import Translator
from dashboard.components.tables import (
    asset_type_label,
    describe_changes,
    field_name,
    record_label,
)

PT = Translator("pt_BR")
EN = Translator("en")


def test_a_creation_lists_labelled_fields_and_translated_values() -> None:
    after = {
        "id": 7,
        "name": "Ana Lima",
        "email": "ana@example.com",
        "document": "52998224725",
        "status": "active",
        "notes": None,
        "created_at": "2025-03-10T12:00:00Z",
    }
    assert describe_changes(None, after, PT, "client") == (
        "Nome: Ana Lima, E-mail: ana@example.com, CPF/CNPJ: 529.982.247-25, Situação: Ativo"
    )


def test_an_update_shows_old_and_new_in_the_locale() -> None:
    before = {"quantity": "100.00000000", "buy_price": "30.5", "buy_date": "2025-03-10"}
    after = {"quantity": "1000", "buy_price": "30.5", "buy_date": "2025-03-11"}
    assert describe_changes(before, after, PT, "allocation") == (
        "Quantidade: 100 → 1.000, Data de compra: 10/03/2025 → 11/03/2025"
    )
    assert describe_changes(before, after, EN, "allocation") == (
        "Quantity: 100 → 1,000, Buy date: 2025-03-10 → 2025-03-11"
    )


def test_booleans_roles_and_kinds_are_words() -> None:
    before = {"role": "read_only", "is_active": True}
    after = {"role": "admin", "is_active": False}
    assert describe_changes(before, after, PT, "user") == (
        "Perfil: somente leitura → administrador, Ativo: sim → não"
    )
    assert describe_changes(None, {"kind": "sell"}, PT, "movement") == "Tipo: Venda"
    imported = {"kind": "clients", "file_name": "c.csv", "rows": 13791}
    assert describe_changes(None, imported, PT, "import") == (
        "Tipo: Clientes, Arquivo: c.csv, Linhas: 13.791"
    )


def test_a_password_hash_or_token_is_never_shown() -> None:
    secret = "$2b$12$abcdefghijklmnopqrstuv"
    before = {"email": "a@example.com", "password_hash": secret}
    after = {"email": "a@example.com", "password_hash": secret + "x", "token_hash": "f" * 64}
    changed = describe_changes(before, after, PT, "user")
    assert changed.startswith("Senha: alterada")
    assert secret not in changed
    assert "f" * 64 not in changed
    assert describe_changes(None, after, PT, "user") == "E-mail: a@example.com"


def test_unknown_keys_stay_as_they_are_and_records_lose_hashes() -> None:
    assert field_name("mystery", PT) == "mystery"
    sha = "0123456789abcdef" * 4
    assert record_label("import", sha, {"file_name": "clientes.csv"}) == "clientes.csv"
    assert record_label("export", sha, None) == "01234567…"
    assert record_label("client", "42", None) == "42"


def test_asset_types_are_translated() -> None:
    assert asset_type_label("Equity", PT) == "Ação"
    assert asset_type_label("Cryptocurrency", PT) == "Criptomoeda"
    assert asset_type_label("MUTUALFUND", PT) == "Fundo"
    assert asset_type_label("Equity", EN) == "Stock"
    assert asset_type_label("Warrant", PT) == "Warrant"
    assert asset_type_label(None, PT) == "—"
