"""Sign-in with streamlit-authenticator, credentials built from the users table.

Only active users are in the credentials, so a deactivated user cannot sign in (nor come
back through the re-authentication cookie). On every run the signed-in user is looked up
again, so a role change or a deactivation takes effect on the next click.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from core.i18n import Translator
from core.login_throttle import LoginThrottle
from core.models import Role
from core.security import local_secret
from core.services.principal import Principal
from core.services.users import active_users_with_hashes
from dashboard import runtime

log = logging.getLogger(__name__)

COOKIE_NAME = "anka_session"
COOKIE_EXPIRY_DAYS = 1.0
MAX_LOGIN_ATTEMPTS = 10
SIGNED_IN_KEY = "anka_signed_in"
SIGNED_OUT_KEY = "anka_signed_out"


def _cookie_key() -> str:
    settings = runtime.settings()
    if settings.cookie_key is not None:
        return settings.cookie_key.get_secret_value()
    return local_secret(Path(settings.home_dir) / "cookie_key")


def _credentials(throttle: LoginThrottle) -> tuple[dict[str, Any], dict[str, Principal]]:
    users: dict[str, Any] = {}
    principals: dict[str, Principal] = {}
    for user, password_hash in active_users_with_hashes(runtime.uow()):
        username = user.email.lower()
        users[username] = {
            "email": user.email,
            "name": user.name,
            "password": password_hash,
            "roles": [user.role],
            "logged_in": False,
        }
        principals[username] = Principal(user_id=user.id, email=user.email, role=Role(user.role))
    # The library counts failures in this dict; seed it from Redis so the limit holds
    # across reruns, sessions and processes.
    for username, count in throttle.failures(list(users)).items():
        users[username]["failed_login_attempts"] = count
    return {"usernames": users}, principals


def _record_failures(
    throttle: LoginThrottle, credentials: dict[str, Any], before: dict[str, int]
) -> None:
    for username, data in credentials["usernames"].items():
        if data.get("failed_login_attempts", 0) > before.get(username, 0):
            throttle.record_failure(username)


def _fields(t: Translator) -> dict[str, str]:
    return {
        "Form name": t("login.form"),
        "Username": t("login.username"),
        "Password": t("login.password"),
        "Login": t("login.submit"),
    }


def _login_form(authenticator: stauth.Authenticate, t: Translator) -> None:
    """Draw the sign-in form (or sign in from the cookie) unless already signed in."""
    authenticator.login(location="main", fields=_fields(t), max_login_attempts=MAX_LOGIN_ATTEMPTS)


def _end_session(authenticator: stauth.Authenticate, t: Translator) -> None:
    """Forget the user and the re-authentication cookie, then show the form again."""
    st.session_state["authentication_status"] = None
    st.session_state["username"] = None
    # streamlit-authenticator reads the cookie again unless its own "logout" flag is set.
    st.session_state["logout"] = True
    authenticator.cookie_controller.delete_cookie()
    _login_form(authenticator, t)
    st.error(t("login.failed"))


def signed_out() -> None:
    """Note a sign-out (the button was pressed) for the next run's :func:`sign_in`."""
    st.session_state[SIGNED_OUT_KEY] = True


def sign_in(t: Translator) -> tuple[Principal | None, stauth.Authenticate]:
    """Show the sign-in form until the user is authenticated; return who signed in."""
    throttle = LoginThrottle(runtime.redis())
    credentials, principals = _credentials(throttle)
    before = {u: d["failed_login_attempts"] for u, d in credentials["usernames"].items()}
    authenticator = stauth.Authenticate(
        credentials, COOKIE_NAME, _cookie_key(), COOKIE_EXPIRY_DAYS, auto_hash=False
    )
    if st.session_state.pop(SIGNED_OUT_KEY, False):
        # The sign-out's rerun dropped the component deleting the cookie before the browser
        # ran it, so a reload would sign the user back in: delete it again on this run,
        # which stays on screen.
        authenticator.cookie_controller.delete_cookie()
    try:
        _login_form(authenticator, t)
    except LoginError as exc:
        log.info("sign-in refused: %s", exc)
        if "attempts" in str(exc):
            st.session_state["authentication_status"] = None
            st.error(t("login.too_many"))
        else:
            # A re-authentication cookie for a user who can no longer sign in: raised before
            # the form was drawn, so without this the form would never show.
            _end_session(authenticator, t)
        return None, authenticator
    finally:
        _record_failures(throttle, credentials, before)
    status = st.session_state.get("authentication_status")
    username = st.session_state.get("username")
    if status and username in principals:
        if not st.session_state.get(SIGNED_IN_KEY):
            # Fresh sign-in: forget earlier failures. The form is not cleared here: the
            # library is setting the session cookie inside it, and clearing (or a rerun)
            # would drop the cookie; the cookie component's own rerun removes the form.
            st.session_state[SIGNED_IN_KEY] = True
            throttle.reset(username)
        return principals[username], authenticator
    st.session_state[SIGNED_IN_KEY] = False
    if status is False:
        st.error(t("login.failed"))
    elif status and username not in principals:
        # Signed in earlier but deactivated since: end the session.
        _end_session(authenticator, t)
    else:
        st.info(t("login.prompt"))
    return None, authenticator
