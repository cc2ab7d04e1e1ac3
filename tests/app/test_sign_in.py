"""Signing in and out of the dashboard, against the real users table."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core import login_throttle
from core.db import UnitOfWork
from core.services import sessions
from core.services import users as user_service
from core.services.principal import SYSTEM
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    READER_EMAIL,
    assert_no_exception,
    button,
    landing_title,
    new_app,
    pt,
    sign_in,
    user_by_email,
    values,
)

pytestmark = pytest.mark.usefixtures("app_env")

Make = Callable[[], UnitOfWork]


def assert_sign_in_form(at: AppTest) -> None:
    """Only the sign-in form is on screen: no page, no sidebar."""
    assert [w.label for w in at.text_input] == [pt("login.username"), pt("login.password")]
    assert [b.label for b in at.button] == [pt("login.submit")]
    assert not at.title
    assert not at.sidebar.markdown
    assert not at.dataframe
    assert_no_exception(at)


def test_first_visit_shows_the_form_and_the_prompt() -> None:
    at = new_app().run()

    assert_sign_in_form(at)
    assert pt("login.form") in values(at.subheader)
    assert values(at.info) == [pt("login.prompt")]


def test_admin_signs_in_and_sees_the_landing_page() -> None:
    at = sign_in(ADMIN_EMAIL)

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    sidebar = " ".join(values(at.sidebar.markdown))
    assert "Conectado como" in sidebar
    assert escape_markdown(ADMIN_EMAIL) in sidebar
    assert pt("role.admin") in sidebar
    # The form is gone once signed in.
    assert pt("login.submit") not in [b.label for b in at.button]
    assert not at.error


def test_e_mail_is_case_insensitive() -> None:
    at = sign_in(ADMIN_EMAIL.upper())

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (ADMIN_EMAIL, "wrong-password-123"),
        ("ninguem@example.com", PASSWORD),
        (ADMIN_EMAIL, ""),
    ],
    ids=["wrong-password", "unknown-e-mail", "empty-password"],
)
def test_failed_sign_in_shows_one_message_and_no_page(email: str, password: str) -> None:
    at = sign_in(email, password)

    assert values(at.error) == [pt("login.failed")]
    assert_sign_in_form(at)


def test_deactivated_user_cannot_sign_in(app_env: Make) -> None:
    reader = user_by_email(app_env, READER_EMAIL)
    user_service.set_active(app_env(), SYSTEM, reader.id, active=False)

    at = sign_in(READER_EMAIL)

    assert values(at.error) == [pt("login.failed")]
    assert_sign_in_form(at)


def test_deactivation_ends_an_open_session_and_shows_the_form(app_env: Make) -> None:
    at = sign_in(READER_EMAIL)
    assert values(at.title) == [landing_title()]
    reader = user_by_email(app_env, READER_EMAIL)
    user_service.set_active(app_env(), SYSTEM, reader.id, active=False)

    at.run()

    assert_sign_in_form(at)
    # The form works again right away, e.g. for a colleague on the same browser.
    at.text_input[0].input(ADMIN_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.run()
    assert values(at.title) == [landing_title()]
    assert escape_markdown(ADMIN_EMAIL) in " ".join(values(at.sidebar.markdown))


def _cookie_for(make: Make, monkeypatch: pytest.MonkeyPatch, email: str) -> str:
    """Make the browser send the session cookie of a real sign-in of ``email``.

    AppTest cannot send cookies, so only the reading of the cookie is replaced; the token is
    what the cookie route would have set (the ticket redeemed), checked against the database.
    """
    outcome = sessions.sign_in(make(), email, PASSWORD, source="10.9.9.9")
    assert outcome.ticket is not None
    token = sessions.redeem_ticket(make(), outcome.ticket)
    assert token is not None
    send_cookie(monkeypatch, token)
    return token


def send_cookie(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setattr("dashboard.auth._cookie_token", lambda: value)


def test_cookie_signs_an_active_user_back_in(
    app_env: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cookie_for(app_env, monkeypatch, ADMIN_EMAIL)

    at = new_app().run()

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]


@pytest.mark.parametrize(
    "change",
    [
        lambda make, uid: user_service.set_active(make(), SYSTEM, uid, active=False),
        lambda make, uid: user_service.reset_password(
            make(), SYSTEM, uid, "brand-new-passphrase-7"
        ),
        lambda make, uid: user_service.change_role(make(), SYSTEM, uid, "admin"),
    ],
    ids=["deactivated", "password-reset", "role-changed"],
)
def test_a_cookie_issued_before_a_change_to_the_user_shows_the_form(
    app_env: Make, monkeypatch: pytest.MonkeyPatch, change: Callable[[Make, int], object]
) -> None:
    _cookie_for(app_env, monkeypatch, READER_EMAIL)
    change(app_env, user_by_email(app_env, READER_EMAIL).id)

    at = new_app().run()

    assert_sign_in_form(at)
    at.text_input[0].input(ADMIN_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.run()
    assert values(at.title) == [landing_title()]


def test_a_cookie_copied_before_sign_out_shows_the_form(
    app_env: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cookie_for(app_env, monkeypatch, ADMIN_EMAIL)
    at = new_app().run()
    assert values(at.title) == [landing_title()]
    button(at.sidebar, "app.logout").click().run()

    replayed = new_app().run()  # another browser, the same cookie

    assert_sign_in_form(replayed)


@pytest.mark.parametrize(
    "cookie",
    [
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VybmFtZSI6ImFkbWluQGV4YW1wbGUuY29tIn0.",
        "eyJhbGciOiJIUzI1NiJ9.e30.bad-signature",
        "not a token at all",
    ],
    ids=["alg-none", "bad-signature", "garbage"],
)
def test_a_forged_cookie_lands_on_the_form_not_on_an_error(
    app_env: Make, monkeypatch: pytest.MonkeyPatch, cookie: str
) -> None:
    send_cookie(monkeypatch, cookie)

    at = new_app().run()

    assert_sign_in_form(at)
    assert not at.error
    assert values(at.info) == [pt("login.prompt")]


def test_sign_out_returns_to_the_form_and_signing_in_again_works(app_env: Make) -> None:
    at = sign_in(ADMIN_EMAIL)
    assert values(at.title) == [landing_title()]

    session_id = at.session_state["anka_session_id"]
    button(at.sidebar, "app.logout").click().run()

    assert_sign_in_form(at)
    assert not at.error
    assert values(at.info) == [pt("login.prompt")]
    assert at.session_state["authentication_status"] is None
    assert sessions.current(app_env(), session_id) is None

    at.text_input[0].input(READER_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.run()
    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    assert escape_markdown(READER_EMAIL) in " ".join(values(at.sidebar.markdown))
    assert pt("role.read_only") in " ".join(values(at.sidebar.markdown))


def test_repeated_failures_slow_down_and_the_owner_gets_through(app_env: Make) -> None:
    at = new_app().run()
    for _ in range(login_throttle.PAIR.free + 1):
        at.text_input[0].input(ADMIN_EMAIL)
        at.text_input[1].input("wrong-password-123")
        at.button[0].click().run()

    assert values(at.error) == [pt("login.wait", seconds=1)]
    # The real owner, from another address, is not held back.
    assert sessions.sign_in(app_env(), ADMIN_EMAIL, PASSWORD, source="10.7.7.7").signed_in


def test_a_sign_in_sends_the_browser_to_the_cookie_route() -> None:
    at = new_app().run()
    at.text_input[0].input(ADMIN_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()

    assert values(at.info) == [pt("login.entering")]
    assert at.session_state["authentication_status"] is True


def test_an_e_mail_with_markdown_characters_shows_as_typed_in_the_sidebar(app_env: Make) -> None:
    email = "a`**b**`$x$@example.com"
    user_service.create_user(
        app_env(), SYSTEM, {"email": email, "name": "A", "role": "admin", "password": PASSWORD}
    )

    at = sign_in(email)

    (line,) = values(at.sidebar.markdown)
    # Escaped, so it renders as the literal address rather than breaking out of a code span.
    assert escape_markdown(email) in line
    assert f"`{email}`" not in line
