"""The dashboard's web server: Streamlit's own app plus the two routes that own the cookie.

A Streamlit script talks to the browser over a WebSocket and cannot set an HttpOnly
cookie, so signing in ends with the browser loading :data:`~dashboard.auth.TICKET_ROUTE`
here: the one-time ticket of a checked password becomes the session's random token, set
as an HttpOnly, SameSite=Strict cookie (Secure when the request came over HTTPS or Anka
runs in production, which is always behind an HTTPS proxy). Signing out loads
:data:`~dashboard.auth.SIGN_OUT_ROUTE`, which ends the session the cookie names and
deletes the cookie. ``streamlit run`` finds :data:`app` by itself.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

# `streamlit run dashboard/server.py` imports this file as `server`, with dashboard/ (not
# the project) on sys.path.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import RedirectResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402
from streamlit.starlette import App  # noqa: E402

from core.config import get_settings  # noqa: E402
from core.db import UnitOfWork, engine_for, uow_factory  # noqa: E402
from core.embedded import resolve_database_url  # noqa: E402
from core.services import sessions  # noqa: E402
from dashboard.auth import COOKIE_NAME, SIGN_OUT_ROUTE, TICKET_ROUTE  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "streamlit_app.py"


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    return uow_factory(engine_for(resolve_database_url(get_settings())))


def _uow() -> UnitOfWork:
    return UnitOfWork(_factory())


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\r\n\\"):
        return "/"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or get_settings().env == "production"


async def session_from_ticket(request: Request) -> Response:
    """Redeem a sign-in ticket for the session cookie, then go where the user was going."""
    ticket = request.query_params.get("ticket", "")
    token = await run_in_threadpool(sessions.redeem_ticket, _uow(), ticket) if ticket else None
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    if token is not None:
        response.set_cookie(
            COOKIE_NAME,
            token,
            max_age=int(sessions.SESSION_LIFETIME.total_seconds()),
            path="/",
            httponly=True,
            secure=_secure(request),
            samesite="strict",
        )
    return response


async def sign_out(request: Request) -> Response:
    """End the session the cookie names (if still open) and delete the cookie."""
    token = request.cookies.get(COOKIE_NAME)
    if token:
        await run_in_threadpool(sessions.sign_out, _uow(), token=token)
    response = RedirectResponse("/", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, secure=_secure(request), samesite="strict"
    )
    return response


app = App(
    SCRIPT,
    routes=[
        Route(TICKET_ROUTE, session_from_ticket, methods=["GET"]),
        Route(SIGN_OUT_ROUTE, sign_out, methods=["GET"]),
    ],
)
