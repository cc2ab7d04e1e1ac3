"""The two routes that own the session cookie, called as the server calls them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from starlette.requests import Request
from starlette.responses import Response

from core.db import UnitOfWork
from core.services import sessions
from core.services.principal import Principal
from core.services.users import create_user
from dashboard import server

MakeUow = Callable[[], UnitOfWork]
PASSWORD = "correct-horse-battery"


def request(path: str, query: dict[str, str], *, scheme: str = "http", cookie: str = "") -> Request:
    headers = [(b"host", b"anka.example")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": scheme,
            "server": ("anka.example", 443 if scheme == "https" else 80),
            "path": path,
            "query_string": urlencode(query).encode(),
            "headers": headers,
        }
    )


def call(route: Callable[[Request], object], req: Request) -> Response:
    return asyncio.run(route(req))  # type: ignore[arg-type]


@pytest.fixture
def ticket(make_uow: MakeUow, admin: Principal, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(server, "_uow", make_uow)
    data = {"email": "ops@example.com", "name": "Ops", "role": "admin", "password": PASSWORD}
    create_user(make_uow(), admin, data)
    outcome = sessions.sign_in(make_uow(), "ops@example.com", PASSWORD, source="10.0.0.1")
    assert outcome.ticket is not None
    return outcome.ticket


def test_the_ticket_becomes_an_http_only_strict_cookie(make_uow: MakeUow, ticket: str) -> None:
    response = call(server.session_from_ticket, request("/auth/session", {"ticket": ticket}))

    cookie = response.headers["set-cookie"]
    assert response.status_code == 303
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on a laptop
    token = cookie.split(";")[0].removeprefix(f"{server.COOKIE_NAME}=")
    assert sessions.resume(make_uow(), token) is not None


def test_over_https_the_cookie_is_secure(ticket: str) -> None:
    req = request("/auth/session", {"ticket": ticket}, scheme="https")

    assert "Secure" in call(server.session_from_ticket, req).headers["set-cookie"]


def test_a_used_or_unknown_ticket_sets_no_cookie(ticket: str) -> None:
    call(server.session_from_ticket, request("/auth/session", {"ticket": ticket}))

    for used in (ticket, "made-up"):
        response = call(server.session_from_ticket, request("/auth/session", {"ticket": used}))
        assert "set-cookie" not in response.headers
        assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/clients?q=silva", "/clients?q=silva"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
    ],
)
def test_the_redirect_stays_on_this_site(ticket: str, target: str, location: str) -> None:
    req = request("/auth/session", {"ticket": ticket, "next": target})

    assert call(server.session_from_ticket, req).headers["location"] == location


def test_sign_out_ends_the_cookie_session_and_deletes_the_cookie(
    make_uow: MakeUow, ticket: str
) -> None:
    issued = call(server.session_from_ticket, request("/auth/session", {"ticket": ticket}))
    token = issued.headers["set-cookie"].split(";")[0].removeprefix(f"{server.COOKIE_NAME}=")

    response = call(
        server.sign_out, request("/auth/sign-out", {}, cookie=f"{server.COOKIE_NAME}={token}")
    )

    assert sessions.resume(make_uow(), token) is None
    assert 'anka_session=""' in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
