"""Text is data, never markup: stored names, e-mails and tickers shown where Streamlit renders
Markdown are escaped (the element's source is :func:`escape_markdown` of the text, which
Streamlit shows as the text itself); where it shows text as it is (select box options,
table cells) the text is given unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.db import UnitOfWork
from core.schemas import ClientOut
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    READER_EMAIL,
    assert_no_exception,
    button,
    create_client,
    expander,
    pt,
    selectbox,
    sign_in,
    sign_in_to_clients,
    text_input,
    user_by_email,
    values,
)

Make = Callable[[], UnitOfWork]
# What the security review stored, and the other ways a name could turn into markup:
# an image fetch and a live link, Streamlit's colour directive, HTML, emphasis.
HOSTILE_NAMES = [
    "![x](http://host/pixel.png) [site](http://evil.example)",
    ":red[x]",
    "<img src=x>",
    "**bold**",
]
HOSTILE_EMAIL = "**x**_y_@example.com"  # a valid e-mail address, emphasis in Markdown


@pytest.fixture(params=HOSTILE_NAMES, ids=["image-and-link", "colour", "html", "bold"])
def hostile(request: pytest.FixtureRequest, demo_env: Make) -> ClientOut:
    return create_client(demo_env, name=request.param, email=HOSTILE_EMAIL)


def test_client_detail_title_and_caption(hostile: ClientOut) -> None:
    at = sign_in(READER_EMAIL)
    at.query_params["client"] = str(hostile.id)
    at.switch_page("app_pages/client_detail.py").run()

    assert_no_exception(at)
    assert values(at.title) == [pt("detail.title", name=escape_markdown(hostile.name))]
    caption = f"{escape_markdown(HOSTILE_EMAIL)} · {pt('status.active')}"
    assert caption in values(at.caption)


def test_client_detail_picker_shows_the_name_as_typed(hostile: ClientOut) -> None:
    at = sign_in(READER_EMAIL)
    at.switch_page("app_pages/client_detail.py").run()

    assert_no_exception(at)
    # Select box options are plain text in Streamlit: escaping would show the backslashes.
    assert selectbox(at, "detail.pick").options == [f"{hostile.name} · {HOSTILE_EMAIL}"]


def test_clients_page_messages_escape_the_name(demo_env: Make, hostile: ClientOut) -> None:
    at = sign_in_to_clients(ADMIN_EMAIL)
    assert_no_exception(at)
    # The table and the select boxes show text as it is.
    assert list(at.dataframe[0].value[pt("field.name")]) == [hostile.name]
    section = expander(at, "clients.edit")
    assert selectbox(section, "clients.select").options == [f"{hostile.name} · {HOSTILE_EMAIL}"]

    button(section, "clients.save").click().run()
    assert_no_exception(at)
    assert values(at.success) == [pt("clients.updated", name=escape_markdown(hostile.name))]

    button(expander(at, "clients.edit"), "clients.delete").click().run()
    assert values(at.warning) == [pt("clients.delete_confirm", name=escape_markdown(hostile.name))]
    button(at, "clients.delete_yes").click().run()
    assert_no_exception(at)
    assert values(at.success) == [pt("clients.deleted", name=escape_markdown(hostile.name))]


def test_creating_a_client_with_a_hostile_name_says_so_as_text(demo_env: Make) -> None:
    at = sign_in_to_clients(ADMIN_EMAIL)
    form = expander(at, "clients.new")
    text_input(form, "field.name").input(HOSTILE_NAMES[0])
    text_input(form, "field.email").input(HOSTILE_EMAIL)
    button(form, "clients.create").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("clients.created", name=escape_markdown(HOSTILE_NAMES[0]))]


def test_assets_page_added_message_escapes_the_client_and_the_amount(
    demo_env: Make, hostile: ClientOut
) -> None:
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/assets.py").run()
    text_input(at, "assets.search").input("petro").run()
    selectbox(at, "assets.pick").select("PETR4.SA").run()
    # Validation reads "R$R$10" as 10 (it drops "R$"); two dollar signs would be LaTeX.
    text_input(at, "field.quantity").input("R$R$10")
    text_input(at, "field.buy_price").input("30,50")
    button(at, "detail.save").click().run()

    assert_no_exception(at)
    expected = pt(
        "assets.added",
        quantity=escape_markdown("R$R$10"),
        symbol=escape_markdown("PETR4.SA"),
        client=escape_markdown(hostile.name),
    )
    assert values(at.success) == [expected]


def test_an_unknown_ticker_is_named_as_text(demo_env: Make) -> None:
    client = create_client(demo_env, name="Maria Souza", email="maria@example.com")
    at = sign_in(ADMIN_EMAIL)
    at.query_params["client"] = str(client.id)
    at.switch_page("app_pages/client_detail.py").run()
    add = expander(at, "detail.add")
    # A valid ticker shape that would become a live link (www.) if shown as Markdown.
    text_input(add, "field.symbol").input("WWW.EVIL.COM")
    text_input(add, "field.quantity").input("1")
    text_input(add, "field.buy_price").input("1")
    [save] = [b for b in add.button if b.label == pt("detail.save")]
    save.click().run()

    assert_no_exception(at)
    message = pt("validation.symbol_unknown", symbol=escape_markdown("WWW.EVIL.COM"))
    assert f":red[{message}]" in values(at.caption)
    assert message in " ".join(values(at.error))


def test_users_page_messages_escape_the_e_mail(app_env: Make) -> None:
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/users.py").run()
    form = expander(at, "users.new")
    text_input(form, "field.email").input(HOSTILE_EMAIL)
    text_input(form, "field.name").input("**Nova** :red[x]")
    text_input(form, "field.password").input("another-long-secret")
    button(form, "users.create").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("users.created", email=escape_markdown(HOSTILE_EMAIL))]
    assert HOSTILE_EMAIL in list(at.dataframe[0].value[pt("field.email")])

    user = user_by_email(app_env, HOSTILE_EMAIL)
    selectbox(expander(at, "users.manage"), "users.select").select(user.id).run()
    button(expander(at, "users.manage"), "users.change_role").click().run()
    assert values(at.success) == [pt("users.role_changed", email=escape_markdown(HOSTILE_EMAIL))]


def test_the_cache_caption_shows_its_key_as_text(demo_env: Make) -> None:
    at = sign_in(READER_EMAIL)
    at.switch_page("app_pages/assets.py").run()
    text_input(at, "assets.search").input("petro").run()

    assert_no_exception(at)
    (caption,) = [c for c in values(at.caption) if c.startswith("Cache:")]
    # The key (anka:md:demo:search:...) would be read as directives and shortcodes.
    assert ":md:" not in caption
    assert escape_markdown("anka:md:demo:search:") in caption
