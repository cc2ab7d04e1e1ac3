"""Sign-in and sign-out on the dashboard, with the session kept on the server.

Why not streamlit-authenticator's cookie: that library writes its re-authentication cookie
from JavaScript (so it can never be HttpOnly) and makes it a self-contained signed token
(so nothing on the server can end it before it expires), and its attempt limit locks an
account hard. Here the password is checked by :func:`core.services.sessions.sign_in`
under a throttle of growing delays; the browser is then sent to
:mod:`dashboard.server`'s ticket route, which sets an HttpOnly (and, behind HTTPS, Secure)
cookie holding a random token. Every run looks the session up in PostgreSQL again
(:func:`core.services.sessions.current` / :func:`~core.services.sessions.resume`), so a
signed-out, reset, deactivated or re-roled user's cookie lands on the sign-in form.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

import streamlit as st
from sqlalchemy.exc import OperationalError
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from core.i18n import Translator
from core.services import sessions
from core.services.principal import Principal
from dashboard import runtime

log = logging.getLogger(__name__)

COOKIE_NAME = "anka_session"
SESSION_ID_KEY = "anka_session_id"
# Kept under the names the pages and tests already read.
STATUS_KEY = "authentication_status"
USERNAME_KEY = "username"
TICKET_ROUTE = "/auth/session"
SIGN_OUT_ROUTE = "/auth/sign-out"


def _send_browser_to(url: str) -> None:
    """Make the browser load ``url`` (a route of :mod:`dashboard.server`).

    Streamlit's own ``st.login`` uses this message to reach its auth routes; a script
    cannot set an HttpOnly cookie over the WebSocket, so the browser must make a request.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    message = ForwardMsg()
    message.auth_redirect.url = url
    ctx.enqueue(message)


def _cookie_token() -> str | None:
    """The session token the browser sent when this Streamlit session connected."""
    value = st.context.cookies.get(COOKIE_NAME)
    return value if isinstance(value, str) and value else None


def _source() -> str:
    """Where the attempt comes from, for the throttle (``local`` on this machine)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "local"


def _here() -> str:
    """The path and query of the page the user asked for, to come back to after sign-in."""
    path = urlsplit(st.context.url or "").path or "/"
    query = urlencode({k: st.query_params.get_all(k) for k in st.query_params}, doseq=True)
    return path + (f"?{query}" if query else "")


def _remember(signed_in: sessions.SignedIn) -> Principal:
    st.session_state[SESSION_ID_KEY] = signed_in.session_id
    st.session_state[STATUS_KEY] = True
    st.session_state[USERNAME_KEY] = signed_in.principal.email.lower()
    return signed_in.principal


def _forget() -> None:
    for key in (SESSION_ID_KEY, USERNAME_KEY):
        st.session_state.pop(key, None)
    st.session_state[STATUS_KEY] = None


def current_principal() -> Principal | None:
    """Who is signed in on this run, checked against the server's session record."""
    session_id = st.session_state.get(SESSION_ID_KEY)
    if session_id is not None:
        principal = sessions.current(runtime.uow(), session_id)
        if principal is not None:
            return principal
        _forget()
        return None
    token = _cookie_token()
    if token is None:
        return None
    signed_in = sessions.resume(runtime.uow(), token)
    return None if signed_in is None else _remember(signed_in)


def _form(t: Translator) -> tuple[str, str] | None:
    """Draw the sign-in form; the typed e-mail and password once submitted."""
    with st.form("anka_sign_in"):
        st.subheader(t("login.form"))
        email = st.text_input(t("login.username"), key="anka_sign_in_email")
        password = st.text_input(t("login.password"), type="password", key="anka_sign_in_password")
        submitted = st.form_submit_button(t("login.submit"))
    return (email, password) if submitted else None


def sign_in(t: Translator) -> Principal | None:
    """The signed-in user, or None after drawing the sign-in form (and its outcome)."""
    st.session_state.setdefault(STATUS_KEY, None)
    principal = current_principal()
    if principal is not None:
        return principal
    attempt = _form(t)
    if attempt is None:
        st.info(t("login.prompt"))
        return None
    email, password = attempt
    outcome = sessions.sign_in(runtime.uow(), email, password, source=_source())
    if outcome.wait_s:
        st.error(t("login.wait", seconds=outcome.wait_s))
        return None
    if outcome.signed_in is None or outcome.ticket is None:
        st.session_state[STATUS_KEY] = False
        st.error(t("login.failed"))
        return None
    _remember(outcome.signed_in)
    _send_browser_to(TICKET_ROUTE + "?" + urlencode({"ticket": outcome.ticket, "next": _here()}))
    # The browser reloads with its cookie now; this run draws nothing more.
    st.info(t("login.entering"))
    st.stop()
    return None  # pragma: no cover - st.stop() raises


def sign_out() -> None:
    """End the session on the server, then have the browser drop its cookie (the sign-out
    button's callback)."""
    session_id = st.session_state.get(SESSION_ID_KEY)
    if session_id is not None:
        try:
            sessions.sign_out(runtime.uow(), session_id=session_id)
        except OperationalError:
            # The cookie route tries again with the cookie's token; this tab forgets anyway.
            log.exception("database unavailable at sign-out")
    _forget()
    st.session_state[runtime.PRINCIPAL_KEY] = None
    _send_browser_to(SIGN_OUT_ROUTE)
