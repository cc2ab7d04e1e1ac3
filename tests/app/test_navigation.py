"""Which pages each role reaches: admins get the administration pages, readers never do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from core.db import UnitOfWork
from core.models import AuditEntry, User
from core.services import users as user_service
from core.services.principal import SYSTEM
from tests.app.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    READER_EMAIL,
    assert_no_exception,
    button_labels,
    create_client,
    landing_title,
    new_app,
    pt,
    sign_in,
    sign_in_to_clients,
    values,
)

Make = Callable[[], UnitOfWork]


def _counts(make: Make) -> tuple[int, int]:
    """How many users and audit entries are stored."""
    with make() as uow:
        users = uow.session.scalar(select(func.count()).select_from(User))
        audit = uow.session.scalar(select(func.count()).select_from(AuditEntry))
    return int(users or 0), int(audit or 0)


def _assert_no_admin_content(at: AppTest) -> None:
    assert pt("users.title") not in values(at.title)
    assert pt("audit.title") not in values(at.title)
    labels = [e.label for e in at.expander]
    assert pt("users.new") not in labels
    assert pt("users.manage") not in labels
    assert pt("users.create") not in button_labels(at)


def test_admin_reaches_users_and_audit(app_env: Make) -> None:
    at = sign_in(ADMIN_EMAIL)

    at.switch_page("app_pages/users.py").run()
    assert_no_exception(at)
    assert values(at.title) == [pt("users.title")]
    emails = list(at.dataframe[0].value[pt("field.email")])
    assert sorted(emails) == sorted([ADMIN_EMAIL, READER_EMAIL])

    at.switch_page("app_pages/audit.py").run()
    assert_no_exception(at)
    assert values(at.title) == [pt("audit.title")]

    at.switch_page("app_pages/clients.py").run()
    assert values(at.title) == [pt("clients.title")]

    # The URL an admin types (see the reader's case below) does reach the page.
    at._page_hash = calc_hash("users")
    at.run()
    assert values(at.title) == [pt("users.title")]


@pytest.mark.parametrize("page", ["app_pages/users.py", "app_pages/audit.py"])
def test_reader_cannot_switch_to_an_admin_page(app_env: Make, page: str) -> None:
    before = _counts(app_env)
    at = sign_in(READER_EMAIL)
    assert values(at.title) == [landing_title()]

    # The page is not registered with st.navigation for this role, so there is nothing
    # to switch to.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)

    at.run()
    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    _assert_no_admin_content(at)
    assert _counts(app_env) == before


@pytest.mark.parametrize("url_path", ["users", "audit"])
def test_reader_typing_an_admin_url_gets_the_landing_page(app_env: Make, url_path: str) -> None:
    before = _counts(app_env)
    at = sign_in(READER_EMAIL)

    # What the browser asks for at /users or /audit: the hash of the page's url_path.
    # AppTest has no public way to request a page that is not registered.
    at._page_hash = calc_hash(url_path)
    at.run()

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    _assert_no_admin_content(at)
    assert _counts(app_env) == before


ADMIN_PATHS = ["users", "audit", "jobs", "import", "events"]


@pytest.mark.parametrize("url_path", ADMIN_PATHS)
def test_reader_opening_an_admin_url_is_told_they_have_no_access(
    app_env: Make, url_path: str
) -> None:
    at = sign_in(READER_EMAIL)

    at._page_hash = calc_hash(url_path)  # the browser asks for /users, /jobs...
    at.run()

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    assert pt("nav.no_access") in values(at.warning)
    _assert_no_admin_content(at)
    # The browser is at the landing page's URL now: told once, not on every run.
    at._page_hash = ""  # the page the last run finished on
    assert pt("nav.no_access") not in values(at.run().warning)
    assert values(at.title) == [landing_title()]


@pytest.mark.parametrize("url_path", ADMIN_PATHS)
def test_reader_signing_in_from_an_admin_link_is_told_they_have_no_access(
    app_env: Make, url_path: str
) -> None:
    # A link opened while signed out: the sign-in stand-in keeps the URL's page.
    at = new_app()
    at._page_hash = calc_hash(url_path)
    at.run()
    at.text_input[0].input(READER_EMAIL)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.run()  # the cookie route's reload

    assert_no_exception(at)
    assert values(at.title) == [landing_title()]
    assert pt("nav.no_access") in values(at.warning)
    _assert_no_admin_content(at)


def test_an_admin_url_has_no_notice_for_an_admin_nor_the_landing_page_for_a_reader(
    app_env: Make,
) -> None:
    at = sign_in(ADMIN_EMAIL)
    at._page_hash = calc_hash("jobs")
    at.run()
    assert values(at.title) == [pt("jobs.title")]
    assert pt("nav.no_access") not in values(at.warning)

    reader = sign_in(READER_EMAIL)
    assert values(reader.title) == [landing_title()]
    assert pt("nav.no_access") not in values(reader.warning)


def test_reader_sees_the_clients_table_but_no_controls(app_env: Make) -> None:
    create_client(app_env, name="Maria Souza", email="maria@example.com")

    at = sign_in_to_clients(READER_EMAIL)

    assert_no_exception(at)
    assert values(at.title) == [pt("clients.title")]
    assert list(at.dataframe[0].value[pt("field.name")]) == ["Maria Souza"]
    labels = button_labels(at)
    for key in ("clients.create", "clients.save", "clients.delete", "clients.delete_yes"):
        assert pt(key) not in labels
    expanders = [e.label for e in at.expander]
    assert pt("clients.new") not in expanders
    assert pt("clients.edit") not in expanders
    assert not at.get("form")
    # The filters and the pager are there for everyone.
    assert pt("clients.next") in labels
    assert [w.label for w in at.text_input] == [pt("clients.search")]


def test_a_role_change_ends_the_session_and_applies_at_the_next_sign_in(app_env: Make) -> None:
    second_admin = user_service.create_user(
        app_env(),
        SYSTEM,
        {"email": "chefe@example.com", "name": "chefe", "role": "admin", "password": PASSWORD},
    )
    at = sign_in("chefe@example.com")
    at.switch_page("app_pages/users.py").run()
    assert values(at.title) == [pt("users.title")]

    user_service.change_role(app_env(), SYSTEM, second_admin.id, "read_only")
    at.run()

    # A role change ends the user's sessions: the next click asks for the password ...
    assert_no_exception(at)
    assert pt("login.submit") in button_labels(at)
    assert not at.title
    # ... and signing in again gives the new role's pages only.
    at = sign_in("chefe@example.com")
    assert values(at.title) == [landing_title()]
    _assert_no_admin_content(at)
    assert pt("clients.create") not in button_labels(at)
    assert pt("role.read_only") in " ".join(values(at.sidebar.markdown))
