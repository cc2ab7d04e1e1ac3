"""The users page (admins): create, change role, deactivate, reset passwords."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from core.db import UnitOfWork
from core.schemas import PASSWORD_MIN
from core.services import users as user_service
from dashboard.components.markdown import escape_markdown
from tests.app.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    READER_EMAIL,
    assert_no_exception,
    button,
    expander,
    landing_title,
    pt,
    selectbox,
    sign_in,
    text_input,
    user_by_email,
    values,
)

Make = Callable[[], UnitOfWork]
NEW_PASSWORD = "another-long-secret"


@pytest.fixture
def users_at(app_env: Make) -> AppTest:
    """The users page, signed in as the admin."""
    at = sign_in(ADMIN_EMAIL)
    at.switch_page("app_pages/users.py").run()
    assert values(at.title) == [pt("users.title")]
    return at


def _manage(at: AppTest, make: Make, email: str) -> Block:
    """Pick the user with ``email`` in the management section and return that section."""
    user = user_by_email(make, email)
    selectbox(expander(at, "users.manage"), "users.select").select(user.id).run()
    return expander(at, "users.manage")


def test_create_user(app_env: Make, users_at: AppTest) -> None:
    at = users_at
    form = expander(at, "users.new")
    text_input(form, "field.email").input("nova@example.com")
    text_input(form, "field.name").input("Nova Pessoa")
    selectbox(form, "field.role").select("admin")
    text_input(form, "field.password").input(NEW_PASSWORD)
    button(form, "users.create").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("users.created", email=escape_markdown("nova@example.com"))]
    created = user_by_email(app_env, "nova@example.com")
    assert (created.name, created.role, created.is_active) == ("Nova Pessoa", "admin", True)
    assert user_service.verify_password(app_env(), "nova@example.com", NEW_PASSWORD) is not None
    assert "nova@example.com" in list(at.dataframe[0].value[pt("field.email")])


def test_create_user_with_a_short_password_and_a_taken_e_mail(
    app_env: Make, users_at: AppTest
) -> None:
    at = users_at
    form = expander(at, "users.new")
    text_input(form, "field.email").input("nova@example.com")
    text_input(form, "field.name").input("Nova Pessoa")
    text_input(form, "field.password").input("curta")
    button(form, "users.create").click().run()

    assert_no_exception(at)
    short = pt("validation.password_short", min=PASSWORD_MIN)
    assert short in " ".join(values(at.error))
    assert f":red[{short}]" in values(expander(at, "users.new").caption)
    assert not at.success
    assert len(at.dataframe[0].value) == 2

    form = expander(at, "users.new")
    text_input(form, "field.email").input(READER_EMAIL.upper())
    text_input(form, "field.password").input(NEW_PASSWORD)
    button(form, "users.create").click().run()
    taken = pt("validation.email_taken")
    assert taken in " ".join(values(at.error))
    assert values(expander(at, "users.new").caption) == [f":red[{taken}]"]
    assert len(at.dataframe[0].value) == 2


def test_change_role(app_env: Make, users_at: AppTest) -> None:
    at = users_at
    section = _manage(at, app_env, READER_EMAIL)
    reader = user_by_email(app_env, READER_EMAIL)
    section.selectbox(key=f"users_role_{reader.id}").select("admin")
    button(section, "users.change_role").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("users.role_changed", email=escape_markdown(READER_EMAIL))]
    assert user_by_email(app_env, READER_EMAIL).role == "admin"


def test_deactivate_and_reactivate(app_env: Make, users_at: AppTest) -> None:
    at = users_at
    section = _manage(at, app_env, READER_EMAIL)
    button(section, "users.deactivate").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("users.deactivated", email=escape_markdown(READER_EMAIL))]
    assert user_by_email(app_env, READER_EMAIL).is_active is False
    assert values(sign_in(READER_EMAIL).error) == [pt("login.failed")]

    button(expander(at, "users.manage"), "users.activate").click().run()
    assert user_by_email(app_env, READER_EMAIL).is_active is True


def test_the_last_admin_cannot_deactivate_themselves(app_env: Make, users_at: AppTest) -> None:
    at = users_at
    section = _manage(at, app_env, ADMIN_EMAIL)
    button(section, "users.deactivate").click().run()

    assert_no_exception(at)
    assert pt("validation.last_admin") in " ".join(values(at.error))
    assert user_by_email(app_env, ADMIN_EMAIL).is_active is True


def test_reset_password(app_env: Make, users_at: AppTest) -> None:
    at = users_at
    section = _manage(at, app_env, READER_EMAIL)
    text_input(section, "users.new_password").input(NEW_PASSWORD)
    button(section, "users.reset_password").click().run()

    assert_no_exception(at)
    assert values(at.success) == [pt("users.password_reset", email=escape_markdown(READER_EMAIL))]
    assert user_service.verify_password(app_env(), READER_EMAIL, NEW_PASSWORD) is not None
    assert user_service.verify_password(app_env(), READER_EMAIL, PASSWORD) is None
    assert values(sign_in(READER_EMAIL, NEW_PASSWORD).title) == [landing_title()]


def test_reset_with_a_short_password_changes_nothing(app_env: Make, users_at: AppTest) -> None:
    at = users_at
    section = _manage(at, app_env, READER_EMAIL)
    text_input(section, "users.new_password").input("curta")
    button(section, "users.reset_password").click().run()

    assert_no_exception(at)
    assert not at.success
    assert pt("validation.password_short", min=PASSWORD_MIN) in " ".join(values(at.error))
    assert user_service.verify_password(app_env(), READER_EMAIL, PASSWORD) is not None
