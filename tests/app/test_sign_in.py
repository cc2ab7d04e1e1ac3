"""Signing in and out of the dashboard, against the real users table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit_authenticator.models.cookie_model import CookieModel

from core.db import UnitOfWork
from core.services import users as user_service
from core.services.principal import SYSTEM
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
    assert ADMIN_EMAIL in sidebar
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

    assert values(at.error) == [pt("login.failed")]
    assert_sign_in_form(at)
    # The form works again right away, e.g. for a colleague on the same browser.
    at.text_input[0].input(ADMIN_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert values(at.title) == [landing_title()]
    assert ADMIN_EMAIL in " ".join(values(at.sidebar.markdown))


def _cookie_for(monkeypatch: pytest.MonkeyPatch, email: str) -> None:
    """Make the browser send a valid re-authentication cookie for ``email``.

    AppTest cannot send cookies, so the reading of the cookie is replaced; like the real
    one, it is ignored once streamlit-authenticator's "logout" flag is set.
    """
    token = {"username": email, "exp_date": (datetime.now() + timedelta(days=1)).timestamp()}

    def get_cookie(self: CookieModel) -> dict[str, Any] | bool:
        return False if st.session_state["logout"] else token

    monkeypatch.setattr(CookieModel, "get_cookie", get_cookie)


def test_cookie_signs_an_active_user_back_in(monkeypatch: pytest.MonkeyPatch) -> None:
    _cookie_for(monkeypatch, ADMIN_EMAIL)

    at = new_app().run()

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]


def test_cookie_of_a_deactivated_user_shows_the_form(
    app_env: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = user_by_email(app_env, READER_EMAIL)
    user_service.set_active(app_env(), SYSTEM, reader.id, active=False)
    _cookie_for(monkeypatch, READER_EMAIL)

    at = new_app().run()

    assert values(at.error) == [pt("login.failed")]
    assert_sign_in_form(at)
    at.text_input[0].input(ADMIN_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert values(at.title) == [landing_title()]


def test_sign_out_returns_to_the_form_and_signing_in_again_works() -> None:
    at = sign_in(ADMIN_EMAIL)
    assert values(at.title) == [landing_title()]

    button(at.sidebar, "app.logout").click().run()

    assert_sign_in_form(at)
    assert not at.error
    assert values(at.info) == [pt("login.prompt")]
    assert at.session_state["authentication_status"] is None

    at.text_input[0].input(READER_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    assert READER_EMAIL in " ".join(values(at.sidebar.markdown))
    assert pt("role.read_only") in " ".join(values(at.sidebar.markdown))


def test_too_many_failed_attempts_are_refused() -> None:
    at = new_app().run()
    for _ in range(12):
        at.text_input[0].input(ADMIN_EMAIL)
        at.text_input[1].input("wrong-password-123")
        at.button[0].click().run()

    assert values(at.error) == [pt("login.too_many")]
