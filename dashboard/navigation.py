"""Which pages each role gets: admins see the administration section, readers never do.

The overview is the landing page; clients and the other pages keep their own URLs, so a
shared link (``/clients?q=...``) still opens where it points. A reader who opens an admin
page's URL (``/users``, ``/jobs``...) lands on the overview and is told the page is not
theirs (:func:`denied_page_notice`), rather than landing there silently.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from core.i18n import Translator
from core.services.principal import SYSTEM, Principal

PAGES = Path(__file__).resolve().parent / "app_pages"
LANDING_URL_PATH = "overview"
DENIED_KEY = "anka_denied_page"  # set by a denied stand-in, shown once by the landing page


def _sign_in_placeholder() -> None:
    """Draws nothing: the entry script shows the sign-in form itself."""


def sign_in_pages(t: Translator) -> list[StreamlitPage]:
    """Hidden stand-ins, one per page URL, for a session nobody has signed in to yet.

    A page's identity is its URL path, so while the sign-in form shows, the URL keeps naming
    the page asked for; the sign-in returns the browser there (the cookie route's ``next``):
    a link opened while signed out (``/clients?q=...``) lands there, and a role that lacks
    the page lands on the overview.
    """
    everything = pages_for(SYSTEM, t)
    # The default page answers at "/" (empty path), as the sign-in stand-in does.
    paths = [page.url_path for section in everything.values() for page in section if page.url_path]
    login = st.Page(_sign_in_placeholder, title=t("login.form"), url_path="sign-in")
    return [login] + [
        st.Page(_sign_in_placeholder, title=t("login.form"), url_path=path) for path in paths
    ]


def _landing(t: Translator) -> StreamlitPage:
    return st.Page(
        PAGES / "overview.py",
        title=t("nav.overview"),
        icon=":material/dashboard:",
        url_path=LANDING_URL_PATH,
        default=True,
    )


def _denied_page(landing: StreamlitPage) -> None:
    """What an admin page's URL runs for a reader: back to the landing page, which says why."""
    st.session_state[DENIED_KEY] = True
    st.switch_page(landing)


def denied_stand_ins(t: Translator) -> list[StreamlitPage]:
    """Hidden pages at the admin pages' URLs, for a principal who is not an admin.

    Without them ``st.navigation`` falls back to the default page silently when a reader
    opens ``/users`` (the page is not registered for the role); with them, that URL is a
    page of its own that sends the reader to the landing page with a notice. They run no
    admin page code: the admin pages themselves are registered for admins only.
    """
    landing = _landing(t)
    paths = [page.url_path for page in _admin_pages(t)]
    return [
        st.Page(
            partial(_denied_page, landing),
            title=t("nav.no_access"),
            url_path=path,
            visibility="hidden",
        )
        for path in paths
    ]


def denied_page_notice(principal: Principal | None, t: Translator) -> None:
    """On the run after a denied stand-in (see :func:`denied_stand_ins`), tell the reader
    once that the page they opened is not theirs; nothing otherwise."""
    if st.session_state.pop(DENIED_KEY, False) and principal is not None:
        st.warning(t("nav.no_access"))


def pages_for(principal: Principal, t: Translator) -> dict[str, list[StreamlitPage]]:
    """The navigation sections for ``principal``; admin pages only for admins (anyone else
    gets hidden stand-ins at their URLs, :func:`denied_stand_ins`)."""
    sections: dict[str, list[StreamlitPage]] = {
        t("nav.section.portfolio"): [
            _landing(t),
            st.Page(
                PAGES / "clients.py",
                title=t("nav.clients"),
                icon=":material/group:",
                url_path="clients",
            ),
            st.Page(
                PAGES / "client_detail.py",
                title=t("nav.client_detail"),
                icon=":material/account_balance_wallet:",
                url_path="client",
            ),
            st.Page(
                PAGES / "assets.py",
                title=t("nav.assets"),
                icon=":material/search:",
                url_path="assets",
            ),
            st.Page(
                PAGES / "reports.py",
                title=t("nav.reports"),
                icon=":material/download:",
                url_path="reports",
            ),
        ]
    }
    if principal.is_admin:
        sections[t("nav.section.admin")] = _admin_pages(t)
    else:
        sections[t("nav.section.portfolio")] += denied_stand_ins(t)
    return sections


def _admin_pages(t: Translator) -> list[StreamlitPage]:
    """The administration section (registered for admins only)."""
    return [
        st.Page(
            PAGES / "users.py",
            title=t("nav.users"),
            icon=":material/manage_accounts:",
            url_path="users",
        ),
        st.Page(
            PAGES / "audit.py",
            title=t("nav.audit"),
            icon=":material/history:",
            url_path="audit",
        ),
        st.Page(
            PAGES / "jobs.py",
            title=t("nav.jobs"),
            icon=":material/schedule:",
            url_path="jobs",
        ),
        st.Page(
            PAGES / "imports.py",
            title=t("nav.import"),
            icon=":material/upload_file:",
            url_path="import",
        ),
        st.Page(
            PAGES / "events.py",
            title=t("nav.events"),
            icon=":material/event:",
            url_path="events",
        ),
    ]
