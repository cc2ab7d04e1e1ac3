"""Which pages each role gets: admins see the administration section, readers never do.

The overview is the landing page; clients and the other pages keep their own URLs, so a
shared link (``/clients?q=...``) still opens where it points.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from core.i18n import Translator
from core.services.principal import SYSTEM, Principal

PAGES = Path(__file__).resolve().parent / "app_pages"


def _sign_in_placeholder() -> None:
    """Draws nothing: the entry script shows the sign-in form itself."""


def sign_in_pages(t: Translator) -> list[StreamlitPage]:
    """Hidden stand-ins, one per page URL, for a session nobody has signed in to yet.

    A page's identity is its URL path, so when the sign-in completes (the cookie component
    reruns the script at once) the page the URL named is still the one asked for: a link
    opened while signed out (``/clients?q=...``) lands there, and a role that lacks the page
    lands on the overview.
    """
    everything = pages_for(SYSTEM, t)
    # The default page answers at "/" (empty path), as the sign-in stand-in does.
    paths = [page.url_path for section in everything.values() for page in section if page.url_path]
    login = st.Page(_sign_in_placeholder, title=t("login.form"), url_path="sign-in")
    return [login] + [
        st.Page(_sign_in_placeholder, title=t("login.form"), url_path=path) for path in paths
    ]


def pages_for(principal: Principal, t: Translator) -> dict[str, list[StreamlitPage]]:
    """The navigation sections for ``principal``; admin pages only for admins."""
    sections: dict[str, list[StreamlitPage]] = {
        t("nav.section.portfolio"): [
            st.Page(
                PAGES / "overview.py",
                title=t("nav.overview"),
                icon=":material/dashboard:",
                url_path="overview",
                default=True,
            ),
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
        sections[t("nav.section.admin")] = [
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
        ]
    return sections
