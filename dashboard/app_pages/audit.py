"""Audit (admins only): the latest changes, filterable by type, action and user."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.repositories.audit import AuditFilter
from core.services.audit import latest_changes
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.feedback import guarded
from dashboard.components.tables import describe_changes, record_label

ENTITIES = (
    "all",
    "client",
    "user",
    "allocation",
    "movement",
    "asset_event",
    "asset",
    "import",
    "export",
)
ACTIONS = ("all", "create", "update", "delete", "export")

t = runtime.translator()
actor = runtime.principal()

st.title(t("audit.title"))
with guarded(t):
    col_entity, col_action, col_actor = st.columns(3)
    entity = col_entity.selectbox(
        t("audit.entity"), ENTITIES, format_func=lambda e: t(f"entity.{e}"), key="audit_entity"
    )
    action = col_action.selectbox(
        t("audit.action"), ACTIONS, format_func=lambda a: t(f"action.{a}"), key="audit_action"
    )
    actor_filter = col_actor.text_input(t("audit.actor"), max_chars=254, key="audit_actor")
    flt = AuditFilter(
        entity=None if entity == "all" else entity,
        action=None if action == "all" else action,
        actor_email=actor_filter or None,
    )
    entries = latest_changes(runtime.uow(), actor, flt)
    if not entries:
        st.info(t("audit.empty"))
    else:
        frame = pd.DataFrame(
            [
                {
                    t("audit.at"): columns.local_time(e.at),
                    t("field.email"): e.actor_email,
                    t("audit.action"): t(f"action.{e.action}"),
                    t("audit.entity"): t(f"entity.{e.entity}"),
                    t("audit.entity_id"): record_label(e.entity, e.entity_id, e.after),
                    t("audit.changes"): describe_changes(e.before, e.after, t, e.entity),
                }
                for e in entries
            ]
        )
        # The changes take the room the short columns leave (in view at 1,400 px).
        config = {
            t("audit.at"): columns.timestamp(t),
            t("field.email"): columns.text(width=170),
            t("audit.action"): columns.text(width=80),
            t("audit.entity"): columns.text(width=95),
            t("audit.entity_id"): columns.text(width=90),
            t("audit.changes"): columns.text(width=800),
        }
        columns.table(frame, hide_index=True, width="stretch", column_config=config)
