"""The clients page as an admin: create, validate, edit, delete, search, filter and page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from core.db import UnitOfWork
from core.schemas import SEARCH_MAX, ClientOut
from tests.app.conftest import (
    ADMIN_EMAIL,
    CLIENTS_PAGE,
    PASSWORD,
    all_clients,
    assert_no_exception,
    button,
    create_client,
    expander,
    new_app,
    pt,
    selectbox,
    sign_in_to_clients,
    text_input,
    values,
)

Make = Callable[[], UnitOfWork]
VALID_CPF = "529.982.247-25"


def fill(block: Block, **fields: str) -> None:
    """Type into the client form's fields (name, email, document, phone)."""
    for field, value in fields.items():
        text_input(block, f"field.{field}").input(value)


def names_shown(at: AppTest) -> list[str]:
    """The names in the clients table (empty when the table is not shown)."""
    if not at.dataframe:
        return []
    return list(at.dataframe[0].value[pt("field.name")])


def seed(make: Make) -> list[ClientOut]:
    """25 clients: three with accented names, every fifth numbered one inactive."""
    rows = [
        create_client(make, name="João Gonçalves", email="joao@example.com"),
        create_client(make, name="Ângela Ribeiro", email="angela@example.com"),
        create_client(make, name="Conceição Araújo", email="ceicao@example.com"),
    ]
    for i in range(22):
        rows.append(
            create_client(
                make,
                name=f"Cliente {i:02d}",
                email=f"cliente{i:02d}@example.com",
                status="inactive" if i % 5 == 0 else "active",
            )
        )
    return rows


@pytest.fixture
def admin_at(app_env: Make) -> AppTest:
    """The clients page, signed in as the admin."""
    at = sign_in_to_clients(ADMIN_EMAIL)
    assert values(at.title) == [pt("clients.title")]
    return at


# -- create -------------------------------------------------------------------------------


def test_create_client_through_the_form(app_env: Make, admin_at: AppTest) -> None:
    at = admin_at
    assert values(at.info) == [pt("clients.empty")]
    form = expander(at, "clients.new")
    fill(form, name="José da Silva", email="jose@example.com", document=VALID_CPF)
    button(form, "clients.create").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("clients.created", name="José da Silva")]
    assert not at.error
    assert names_shown(at) == ["José da Silva"]
    stored = all_clients(app_env)
    assert [(c.name, c.email, c.document, c.status) for c in stored] == [
        ("José da Silva", "jose@example.com", "52998224725", "active")
    ]

    # The message is shown once.
    at.run()
    assert not at.success


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"name": "", "email": "x@", "document": "123.456.789-00"},
            {
                "name": "validation.required",
                "email": "validation.email",
                "document": "validation.document",
            },
        ),
        ({"name": "   ", "email": "ok@example.com"}, {"name": "validation.required"}),
        (
            {"name": "Ana", "email": "ana@example.com", "phone": "abc"},
            {"phone": "validation.phone"},
        ),
    ],
    ids=["name-email-cpf", "blank-name", "phone"],
)
def test_invalid_input_shows_each_message_and_stores_nothing(
    app_env: Make, admin_at: AppTest, fields: dict[str, str], expected: dict[str, str]
) -> None:
    at = admin_at
    form = expander(at, "clients.new")
    fill(form, **fields)
    button(form, "clients.create").click().run()

    assert_no_exception(at)
    assert not at.success
    assert all_clients(app_env) == []
    messages = {field: pt(key) for field, key in expected.items()}
    # Under each refused field, right after the submission...
    form = expander(at, "clients.new")
    assert values(form.caption) == [f":red[{m}]" for m in messages.values()]
    # ...and summed up above the form, each with its field's label.
    (summary,) = values(at.error)
    assert summary.startswith(pt("clients.fix_fields"))
    for field, message in messages.items():
        assert f"**{pt('field.' + field)}:** {message}" in summary
    # What was typed is still there to be corrected.
    for field, value in fields.items():
        assert text_input(form, f"field.{field}").value == value


def test_corrected_input_is_stored_and_the_messages_go(app_env: Make, admin_at: AppTest) -> None:
    at = admin_at
    form = expander(at, "clients.new")
    fill(form, name="José", email="x@", document="123.456.789-00")
    button(form, "clients.create").click().run()
    assert at.error

    form = expander(at, "clients.new")
    fill(form, email="jose@example.com", document=VALID_CPF)
    button(form, "clients.create").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("clients.created", name="José")]
    assert not at.error
    assert not [c for c in values(expander(at, "clients.new").caption) if ":red[" in c]
    assert [c.email for c in all_clients(app_env)] == ["jose@example.com"]


def test_duplicate_e_mail_is_refused(app_env: Make, admin_at: AppTest) -> None:
    create_client(app_env, name="Ana Lima", email="ana@example.com", document=VALID_CPF)
    at = admin_at
    at.run()

    form = expander(at, "clients.new")
    fill(form, name="Outra Ana", email="ANA@example.com")
    button(form, "clients.create").click().run()

    assert_no_exception(at)
    assert pt("validation.email_taken") in " ".join(values(at.error))
    assert f":red[{pt('validation.email_taken')}]" in values(expander(at, "clients.new").caption)
    assert [c.name for c in all_clients(app_env)] == ["Ana Lima"]

    # Same with the CPF, typed without punctuation.
    form = expander(at, "clients.new")
    fill(form, email="outra@example.com", document="52998224725")
    button(form, "clients.create").click().run()
    assert pt("validation.document_taken") in " ".join(values(at.error))
    assert [c.name for c in all_clients(app_env)] == ["Ana Lima"]


# -- edit and delete ----------------------------------------------------------------------


def _pick(at: AppTest, client: ClientOut) -> Block:
    """Select ``client`` in the edit section and return that section."""
    section = expander(at, "clients.edit")
    selectbox(section, "clients.select").select(client.id).run()
    return expander(at, "clients.edit")


def test_edit_client(app_env: Make, admin_at: AppTest) -> None:
    first = create_client(app_env, name="Ana Lima", email="ana@example.com")
    second = create_client(app_env, name="Bruno Costa", email="bruno@example.com")
    at = admin_at
    at.run()

    section = _pick(at, second)
    assert text_input(section, "field.name").value == "Bruno Costa"
    fill(section, name="Bruno Costa Filho", phone="(11) 99999-0000")
    button(section, "clients.save").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("clients.updated", name="Bruno Costa Filho")]
    stored = {c.id: c for c in all_clients(app_env)}
    assert stored[second.id].name == "Bruno Costa Filho"
    assert stored[second.id].phone == "(11) 99999-0000"
    assert stored[first.id].name == "Ana Lima"
    assert "Bruno Costa Filho" in names_shown(at)


def test_edit_with_invalid_e_mail_changes_nothing(app_env: Make, admin_at: AppTest) -> None:
    client = create_client(app_env, name="Ana Lima", email="ana@example.com")
    at = admin_at
    at.run()

    section = _pick(at, client)
    fill(section, email="x@")
    button(section, "clients.save").click().run()

    assert_no_exception(at)
    assert not at.success
    assert pt("validation.email") in " ".join(values(at.error))
    assert f":red[{pt('validation.email')}]" in values(expander(at, "clients.edit").caption)
    assert [c.email for c in all_clients(app_env)] == ["ana@example.com"]


def test_delete_needs_confirmation(app_env: Make, admin_at: AppTest) -> None:
    keep = create_client(app_env, name="Ana Lima", email="ana@example.com")
    gone = create_client(app_env, name="Bruno Costa", email="bruno@example.com")
    at = admin_at
    at.run()

    section = _pick(at, gone)
    button(section, "clients.delete").click().run()
    assert values(at.warning) == [pt("clients.delete_confirm", name="Bruno Costa")]
    assert len(all_clients(app_env)) == 2

    button(at, "clients.delete_yes").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("clients.deleted", name="Bruno Costa")]
    assert [c.id for c in all_clients(app_env)] == [keep.id]
    assert names_shown(at) == ["Ana Lima"]
    assert not at.warning


def test_cancel_keeps_the_client(app_env: Make, admin_at: AppTest) -> None:
    client = create_client(app_env, name="Ana Lima", email="ana@example.com")
    at = admin_at
    at.run()

    button(expander(at, "clients.edit"), "clients.delete").click().run()
    assert values(at.warning) == [pt("clients.delete_confirm", name="Ana Lima")]
    button(at, "clients.cancel").click().run()

    assert_no_exception(at)
    assert not at.warning
    assert [c.id for c in all_clients(app_env)] == [client.id]
    assert pt("clients.delete") in [b.label for b in at.button]


# -- search, filter, pages ----------------------------------------------------------------


def test_search_ignores_accents_and_case(app_env: Make, admin_at: AppTest) -> None:
    seed(app_env)
    at = admin_at
    at.run()
    assert values(at.caption)[0] == pt("clients.total", total=25, page=1, pages=2)

    text_input(at, "clients.search").input("JOAO goncalves").run()

    assert_no_exception(at)
    assert names_shown(at) == ["João Gonçalves"]
    assert values(at.caption)[0] == pt("clients.total", total=1, page=1, pages=1)
    assert at.query_params["q"] == "JOAO goncalves"

    text_input(at, "clients.search").input("conceicao").run()
    assert names_shown(at) == ["Conceição Araújo"]


def test_search_by_formatted_cpf(app_env: Make, admin_at: AppTest) -> None:
    create_client(app_env, name="Ana Lima", email="ana@example.com", document=VALID_CPF)
    create_client(app_env, name="Bruno Costa", email="bruno@example.com")
    at = admin_at

    text_input(at, "clients.search").input(VALID_CPF).run()

    assert names_shown(at) == ["Ana Lima"]
    assert list(at.dataframe[0].value[pt("field.document")]) == [VALID_CPF]


def test_status_filter(app_env: Make, admin_at: AppTest) -> None:
    seed(app_env)
    at = admin_at

    selectbox(at, "clients.status_filter").select("inactive").run()

    assert_no_exception(at)
    shown = names_shown(at)
    assert shown == [f"Cliente {i:02d}" for i in range(0, 22, 5)]
    assert set(at.dataframe[0].value[pt("field.status")]) == {pt("status.inactive")}
    assert at.query_params["status"] == "inactive"

    selectbox(at, "clients.status_filter").select("active").run()
    assert len(names_shown(at)) == 20
    assert values(at.caption)[0] == pt("clients.total", total=20, page=1, pages=1)


def test_pages_of_ten(app_env: Make, admin_at: AppTest) -> None:
    seed(app_env)
    at = admin_at
    selectbox(at, "clients.page_size").select(10).run()
    first_page = names_shown(at)
    assert len(first_page) == 10
    assert values(at.caption)[0] == pt("clients.total", total=25, page=1, pages=3)
    assert button(at, "clients.prev").disabled

    button(at, "clients.next").click().run()
    second_page = names_shown(at)
    assert len(second_page) == 10
    assert not set(first_page) & set(second_page)
    assert values(at.caption)[0] == pt("clients.total", total=25, page=2, pages=3)
    assert at.query_params["page"] == "2"

    button(at, "clients.next").click().run()
    assert len(names_shown(at)) == 5
    assert button(at, "clients.next").disabled

    button(at, "clients.prev").click().run()
    assert names_shown(at) == second_page
    assert_no_exception(at)

    # A new search starts again at page 1.
    text_input(at, "clients.search").input("cliente").run()
    assert values(at.caption)[0] == pt("clients.total", total=22, page=1, pages=3)


def test_page_past_the_end_in_the_url_is_clamped(app_env: Make) -> None:
    seed(app_env)

    # Signed in by hand: the message shows on the first run of the clients page, the one
    # that reads the URL (the landing page, drawn right after signing in, ignores it).
    at = new_app()
    at.query_params["page"] = "99"
    at.query_params["size"] = "10"
    at.run()
    at.text_input[0].input(ADMIN_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.switch_page(CLIENTS_PAGE).run()

    assert_no_exception(at)
    assert not at.error
    assert pt("clients.page_clamped", asked=99, page=3) in values(at.info)
    assert values(at.caption)[0] == pt("clients.total", total=25, page=3, pages=3)
    assert len(names_shown(at)) == 5
    assert at.query_params["page"] == "3"


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "-1"},
        {"page": "0"},
        {"size": "100000"},
        {"status": "bogus"},
        {"q": "a" * 150},
    ],
    ids=["page-abc", "page-negative", "page-zero", "size-huge", "status-bogus", "q-too-long"],
)
def test_nonsense_in_the_url_is_ignored(app_env: Make, params: dict[str, str]) -> None:
    create_client(app_env, name="Ana Lima", email="ana@example.com")

    at = sign_in_to_clients(ADMIN_EMAIL, query_params=params)

    assert_no_exception(at)
    assert not at.error
    assert values(at.title) == [pt("clients.title")]
    if "q" in params:
        # Cut to the search box's limit: no match, but no error either.
        assert len(text_input(at, "clients.search").value) == SEARCH_MAX
        assert values(at.info) == [pt("clients.empty")]
    else:
        assert names_shown(at) == ["Ana Lima"]
        assert at.query_params["page"] == "1"


@pytest.mark.parametrize(
    "search",
    ["<script>alert(1)</script>", "'; DROP TABLE clients; --", "100%_\\", "**negrito** :red[x]"],
    ids=["script", "sql", "like-wildcards", "markdown"],
)
def test_hostile_search_shows_the_empty_message(
    app_env: Make, admin_at: AppTest, search: str
) -> None:
    create_client(app_env, name="Ana Lima", email="ana@example.com")
    at = admin_at

    text_input(at, "clients.search").input(search).run()

    assert_no_exception(at)
    assert not at.error
    assert values(at.info) == [pt("clients.empty")]
    assert not at.dataframe
    assert [c.name for c in all_clients(app_env)] == ["Ana Lima"]


def test_clicking_a_row_opens_that_clients_page(app_env: Make) -> None:
    clients = seed(app_env)
    at = sign_in_to_clients(ADMIN_EMAIL)
    shown = names_shown(at)
    row = shown.index("Ângela Ribeiro")
    assert pt("clients.click_to_open") in values(at.caption)
    # The table's timestamp column holds timestamps (it sorts), not text.
    created = at.dataframe[0].value[pt("field.created_at")]
    assert str(created.dtype).startswith("datetime64")

    # What the browser sends when a row is clicked: the table's selection.
    at.session_state["clients_table"] = {"selection": {"rows": [row], "columns": []}}
    at.run()

    assert_no_exception(at)
    angela = next(c for c in clients if c.name == "Ângela Ribeiro")
    assert at.query_params["client"] == str(angela.id)
    assert values(at.title) == [pt("detail.title", name="Ângela Ribeiro")]
