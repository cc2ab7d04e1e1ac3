"""Sessions in a real browser: the cookie is out of scripts' reach and ends on the server.

A reviewer copied the session cookie before **Sair** and replayed it in another browser;
it signed in for 24 hours. Now sign-out ends the session on the server, so the replayed
cookie lands on the sign-in form, and so does a forged one.
"""

from __future__ import annotations

import base64
import json

from playwright.sync_api import Browser, Page, expect

from dashboard.auth import COOKIE_NAME
from tests.e2e.conftest import ACTION_TIMEOUT_MS, VIEWPORT, Anka
from tests.e2e.test_journey import heading, session_cookies, sign_in, sign_out, t


def on_the_sign_in_form(page: Page) -> None:
    expect(page.get_by_role("button", name=t("login.submit"), exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=t("app.logout"), exact=True)).to_have_count(0)
    expect(heading(page, t("overview.title"))).to_have_count(0)
    expect(page.get_by_text(t("error.unexpected"))).to_have_count(0)


def open_with_cookie(browser: Browser, anka: Anka, cookie: dict[str, object]) -> Page:
    """Another browser (a fresh profile) that sends ``cookie`` to Anka."""
    context = browser.new_context(viewport=VIEWPORT, locale="pt-BR")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.add_cookies([cookie])  # type: ignore[list-item]
    page = context.new_page()
    page.goto(f"{anka.url}/clients")
    return page


def test_the_cookie_is_http_only_and_a_copy_dies_with_sign_out(
    anka: Anka, page: Page, browser: Browser
) -> None:
    sign_in(page, f"{anka.url}/clients?q=silva", anka.admin_email, anka.admin_password)

    # Back on the page the link named, with the cookie out of scripts' reach.
    expect(heading(page, t("clients.title"))).to_be_visible()
    assert "/clients?q=silva" in page.url
    (cookie,) = session_cookies(page)
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert COOKIE_NAME not in page.evaluate("document.cookie")
    # A reload (a new Streamlit session) is signed in by the cookie alone.
    page.reload()
    expect(page.get_by_role("button", name=t("app.logout"), exact=True)).to_be_visible()

    copy = dict(cookie)
    sign_out(page)
    replayed = open_with_cookie(browser, anka, copy)

    on_the_sign_in_form(replayed)
    replayed.context.close()


def test_a_forged_cookie_lands_on_the_sign_in_form(anka: Anka, browser: Browser) -> None:
    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    forged = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'username': anka.admin_email})}."
    host = anka.url.removeprefix("http://").split(":")[0]
    page = open_with_cookie(
        browser, anka, {"name": COOKIE_NAME, "value": forged, "domain": host, "path": "/"}
    )

    on_the_sign_in_form(page)
    page.context.close()
