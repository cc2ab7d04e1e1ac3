"""Users (admins only): create accounts, change roles, deactivate, reset passwords."""

from __future__ import annotations

import streamlit as st

from core.errors import ValidationFailed
from core.schemas import EMAIL_MAX, PASSWORD_MAX, USER_NAME_MAX, UserOut
from core.services import users as user_service
from dashboard import runtime
from dashboard.components.feedback import (
    field_hint,
    guarded,
    show_field_errors,
    translate_field_errors,
)
from dashboard.components.tables import users_frame

ROLES = ("read_only", "admin")
NEW_ERRORS = "users_new_errors"

t = runtime.translator()
actor = runtime.principal()


def _create() -> None:
    errors = st.session_state.get(NEW_ERRORS, {})
    with st.expander(t("users.new"), expanded=bool(errors)):
        if errors:
            show_field_errors(errors, t)
        with st.form("user_new"):
            email = st.text_input(t("field.email"), max_chars=EMAIL_MAX + 50)
            field_hint(errors, "email")
            name = st.text_input(t("field.name"), max_chars=USER_NAME_MAX + 50)
            field_hint(errors, "name")
            role = st.selectbox(t("field.role"), ROLES, format_func=lambda r: t(f"role.{r}"))
            password = st.text_input(
                t("field.password"), type="password", max_chars=PASSWORD_MAX + 10
            )
            field_hint(errors, "password")
            submitted = st.form_submit_button(t("users.create"), type="primary")
        if not submitted:
            return
        data = {"email": email, "name": name, "role": role, "password": password}
        try:
            created = user_service.create_user(runtime.uow(), actor, data)
        except ValidationFailed as error:
            # Run again so each message is drawn under its field (read before the form).
            st.session_state[NEW_ERRORS] = translate_field_errors(error, t)
            st.rerun()
        st.session_state.pop(NEW_ERRORS, None)
        runtime.flash(t("users.created", email=created.email))
        st.rerun()


def _manage(users: list[UserOut]) -> None:
    by_id = {u.id: u for u in users}
    with st.expander(t("users.manage")):
        chosen = st.selectbox(
            t("users.select"),
            list(by_id),
            format_func=lambda uid: f"{by_id[uid].email} ({t('role.' + by_id[uid].role)})",
            key="users_pick",
        )
        user = by_id[chosen]
        role_col, active_col = st.columns(2)
        new_role = role_col.selectbox(
            t("field.role"),
            ROLES,
            index=ROLES.index(user.role),
            format_func=lambda r: t(f"role.{r}"),
            key=f"users_role_{user.id}",
        )
        if role_col.button(t("users.change_role"), key="users_change_role"):
            user_service.change_role(runtime.uow(), actor, user.id, new_role)
            runtime.flash(t("users.role_changed", email=user.email))
            st.rerun()
        label = t("users.deactivate") if user.is_active else t("users.activate")
        if active_col.button(label, key="users_toggle_active"):
            user_service.set_active(runtime.uow(), actor, user.id, active=not user.is_active)
            done = "users.deactivated" if user.is_active else "users.activated"
            runtime.flash(t(done, email=user.email))
            st.rerun()
        with st.form(f"users_reset_{user.id}", clear_on_submit=True):
            password = st.text_input(
                t("users.new_password"), type="password", max_chars=PASSWORD_MAX + 10
            )
            if st.form_submit_button(t("users.reset_password")):
                try:
                    user_service.reset_password(runtime.uow(), actor, user.id, password)
                except ValidationFailed as error:
                    show_field_errors(translate_field_errors(error, t), t)
                else:
                    runtime.flash(t("users.password_reset", email=user.email))
                    st.rerun()


st.title(t("users.title"))
runtime.show_flash()
with guarded(t):
    all_users = user_service.list_users(runtime.uow(), actor)
    st.dataframe(users_frame(all_users, t), hide_index=True, width="stretch")
    _create()
    _manage(all_users)
