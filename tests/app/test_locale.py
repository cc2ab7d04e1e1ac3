"""The UI language follows ANKA_LOCALE: Brazilian Portuguese by default, English on request."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.config import get_settings
from core.db import UnitOfWork
from core.i18n import translate
from tests.app.conftest import (
    ADMIN_EMAIL,
    assert_no_exception,
    create_client,
    new_app,
    sign_in_to_clients,
    values,
)

Make = Callable[[], UnitOfWork]


def en(key: str, **params: object) -> str:
    return translate(key, "en", **params)


@pytest.fixture
def english(app_env: Make, monkeypatch: pytest.MonkeyPatch) -> Make:
    monkeypatch.setenv("ANKA_LOCALE", "en")
    get_settings.cache_clear()
    return app_env


def test_english_sign_in_form(english: Make) -> None:
    at = new_app().run()

    assert_no_exception(at)
    assert "Sign in to Anka" in values(at.subheader)
    assert [b.label for b in at.button] == ["Sign in"]
    assert [w.label for w in at.text_input] == ["E-mail", "Password"]
    assert values(at.info) == [en("login.prompt")]

    at.text_input[0].input(ADMIN_EMAIL)
    at.text_input[1].input("wrong-password-123")
    at.button[0].click().run()
    assert values(at.error) == ["Wrong e-mail or password."]


def test_english_clients_page(english: Make) -> None:
    create_client(english, name="Ana Lima", email="ana@example.com", status="inactive")

    at = sign_in_to_clients(ADMIN_EMAIL)

    assert_no_exception(at)
    assert values(at.title) == ["Clients"]
    assert at.text_input(key="clients_q").label == "Search by name, e-mail or CPF/CNPJ"
    assert "Signed in as" in " ".join(values(at.sidebar.markdown))
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == ["Name", "E-mail"]
    assert list(table["Status"]) == ["Inactive"]
    assert values(at.caption)[0] == en("clients.total", total=1, page=1, pages=1)
    labels = [e.label for e in at.expander]
    assert "New client" in labels
    assert "Edit client" in labels


def test_portuguese_is_the_default(app_env: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANKA_LOCALE", raising=False)
    get_settings.cache_clear()
    assert get_settings().locale == "pt_BR"

    at = sign_in_to_clients(ADMIN_EMAIL)

    assert_no_exception(at)
    assert values(at.title) == ["Clientes"]
    assert at.text_input(key="clients_q").label == "Buscar por nome, e-mail ou CPF/CNPJ"
    assert "Conectado como" in " ".join(values(at.sidebar.markdown))
    assert [b.label for b in at.sidebar.button] == ["Sair"]
