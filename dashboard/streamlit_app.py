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
from dashboard.auth import sign_in, signed_out  # noqa: E402
from dashboard.components.feedback import guarded  # noqa: E402
from dashboard.navigation import pages_for, sign_in_pages  # noqa: E402

st.set_page_config(page_title="Anka", page_icon="⚓", layout="wide")
runtime.setup_logging()
t = runtime.translator()

with guarded(t):
    if not st.session_state.get("authentication_status"):
        # Before the sign-in, whose cookie component reruns the script at once: register
        # the page the URL names, or the rerun would forget it and open the overview.
        st.navigation(sign_in_pages(t), position="hidden")
    principal, authenticator = sign_in(t)
    st.session_state[runtime.PRINCIPAL_KEY] = principal
    if principal is None:
        st.navigation(sign_in_pages(t), position="hidden")
        st.stop()

    with st.sidebar:
        st.markdown(
            t("app.signed_in_as", name=f"`{principal.email}`", role=t(f"role.{principal.role}"))
        )
        # Not "logout": streamlit-authenticator keeps its own flag under that session key.
        authenticator.logout(t("app.logout"), location="sidebar", key="anka_logout")
    if not st.session_state.get("authentication_status"):
        # Signed out just now: show the sign-in form instead of the rest of this run.
        signed_out()
        st.rerun()

    navigation = st.navigation(pages_for(principal, t))
    navigation.run()
