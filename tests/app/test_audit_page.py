"""The audit page (admins): who changed what, filterable by type, action and user."""

from __future__ import annotations

from collections.abc import Callable

from core.db import UnitOfWork
from tests.app.conftest import (
    ADMIN_EMAIL,
    all_clients,
    assert_no_exception,
    button,
    expander,
    pt,
    selectbox,
    sign_in_to_clients,
    text_input,
    values,
)

Make = Callable[[], UnitOfWork]


def test_audit_lists_a_client_created_on_the_page_and_filters(app_env: Make) -> None:
    at = sign_in_to_clients(ADMIN_EMAIL)
    form = expander(at, "clients.new")
    text_input(form, "field.name").input("Ana Lima")
    text_input(form, "field.email").input("ana@example.com")
    button(form, "clients.create").click().run()
    (client,) = all_clients(app_env)

    at.switch_page("app_pages/audit.py").run()

    assert_no_exception(at)
    assert values(at.title) == [pt("audit.title")]
    table = at.dataframe[0].value
    # Newest first: the client, then the two users the fixture created as the system.
    assert list(table[pt("audit.entity")]) == [
        pt("entity.client"),
        pt("entity.user"),
        pt("entity.user"),
    ]
    newest = table.iloc[0]
    assert newest[pt("field.email")] == ADMIN_EMAIL
    assert newest[pt("audit.action")] == pt("action.create")
    assert newest[pt("audit.entity_id")] == str(client.id)
    # Field labels in Portuguese, not the snapshot's keys.
    assert f"{pt('field.name')}: Ana Lima" in newest[pt("audit.changes")]
    assert f"{pt('field.email')}: ana@example.com" in newest[pt("audit.changes")]
    assert f"{pt('field.status')}: {pt('status.active')}" in newest[pt("audit.changes")]
    assert "name:" not in newest[pt("audit.changes")]

    selectbox(at, "audit.entity").select("user").run()
    assert set(at.dataframe[0].value[pt("audit.entity")]) == {pt("entity.user")}
    assert len(at.dataframe[0].value) == 2

    selectbox(at, "audit.entity").select("client").run()
    selectbox(at, "audit.action").select("delete").run()
    assert not at.dataframe
    assert values(at.info) == [pt("audit.empty")]

    selectbox(at, "audit.action").select("create").run()
    assert list(at.dataframe[0].value[pt("audit.entity_id")]) == [str(client.id)]

    selectbox(at, "audit.entity").select("all").run()
    selectbox(at, "audit.action").select("all").run()
    text_input(at, "audit.actor").input("admin@").run()
    assert list(at.dataframe[0].value[pt("field.email")]) == [ADMIN_EMAIL]
    assert_no_exception(at)


def test_audit_shows_edits_and_deletions(app_env: Make) -> None:
    at = sign_in_to_clients(ADMIN_EMAIL)
    form = expander(at, "clients.new")
    text_input(form, "field.name").input("Ana Lima")
    text_input(form, "field.email").input("ana@example.com")
    button(form, "clients.create").click().run()
    section = expander(at, "clients.edit")
    text_input(section, "field.name").input("Ana Lima Souza")
    button(section, "clients.save").click().run()
    button(expander(at, "clients.edit"), "clients.delete").click().run()
    button(at, "clients.delete_yes").click().run()
    assert all_clients(app_env) == []

    at.switch_page("app_pages/audit.py").run()
    selectbox(at, "audit.entity").select("client").run()

    assert_no_exception(at)
    table = at.dataframe[0].value
    assert list(table[pt("audit.action")]) == [
        pt("action.delete"),
        pt("action.update"),
        pt("action.create"),
    ]
    assert table.iloc[1][pt("audit.changes")] == f"{pt('field.name')}: Ana Lima → Ana Lima Souza"
    assert f"{pt('field.name')}: Ana Lima Souza" in table.iloc[0][pt("audit.changes")]
