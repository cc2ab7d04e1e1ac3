"""Anka's entry point: page config, sign-in, and navigation built from the user's role.

Pages a role may not use are never registered with ``st.navigation``, so no URL reaches
them; the services check the role again on every write.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboard/streamlit_app.py` puts dashboard/ on sys.path, not the project.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import runtime  # noqa: E402
from dashboard.auth import sign_in, sign_out  # noqa: E402
from dashboard.components.feedback import guarded  # noqa: E402
from dashboard.components.markdown import escape_markdown  # noqa: E402
from dashboard.navigation import denied_page_notice, pages_for, sign_in_pages  # noqa: E402

st.set_page_config(page_title="Anka", page_icon="⚓", layout="wide")
runtime.setup_logging()
t = runtime.translator()

with guarded(t):
    principal = sign_in(t)
    st.session_state[runtime.PRINCIPAL_KEY] = principal
    if principal is None:
        # Hidden stand-ins keep the URL's page, so signing in lands where the link pointed.
        st.navigation(sign_in_pages(t), position="hidden")
        st.stop()

    with st.sidebar:
        st.markdown(
            t(
                "app.signed_in_as",
                name=escape_markdown(principal.email),
                role=t(f"role.{principal.role}"),
            )
        )
        # A callback, so the run after the click starts signed out (form, no sidebar).
        st.button(t("app.logout"), key="anka_logout", on_click=sign_out)

    navigation = st.navigation(pages_for(principal, t))
    denied_page_notice(principal, t)
    navigation.run()
