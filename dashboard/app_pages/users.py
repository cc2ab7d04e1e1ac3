"""Users (admins only): create accounts, change roles, deactivate, reset passwords."""

from __future__ import annotations

import streamlit as st

from core.errors import ValidationFailed
from core.schemas import EMAIL_MAX, PASSWORD_MAX, USER_NAME_MAX, UserOut
from core.services import users as user_service
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.feedback import field_hint, guarded, show_field_errors
from dashboard.components.form_outcome import attempted, form_errors, form_key, refuse, succeed
from dashboard.components.markdown import escape_markdown
from dashboard.components.pick import select_by_id
from dashboard.components.tables import users_frame

ROLES = ("read_only", "admin")
NEW_FORM = "user_new"

t = runtime.translator()
actor = runtime.principal()


def _create() -> None:
    errors = form_errors(NEW_FORM)
    with st.expander(t("users.new"), expanded=attempted(NEW_FORM)):
        if errors:
            show_field_errors(errors, t)
        with st.form(form_key(NEW_FORM)):  # a new key after each success: the form starts empty
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
            refuse(NEW_FORM, error, t)  # run again: each message is drawn under its field
        succeed(NEW_FORM, t("users.created", email=escape_markdown(created.email)))


def _manage(users: list[UserOut]) -> None:
    by_id = {u.id: u for u in users}
    manages = {uid: f"users_manage_{uid}" for uid in by_id}  # role and activation
    resets = {uid: f"users_reset_{uid}" for uid in by_id}
    with st.expander(t("users.manage"), expanded=attempted(*manages.values(), *resets.values())):
        chosen = select_by_id(
            t("users.select"),
            {uid: f"{u.email} ({t('role.' + u.role)})" for uid, u in by_id.items()},
            key="users_pick",
        )
        user = by_id[chosen]
        manage = manages[user.id]
        manage_errors = form_errors(manage)
        if manage_errors:
            show_field_errors(manage_errors, t)
        role_col, active_col = st.columns(2)
        new_role = role_col.selectbox(
            t("field.role"),
            ROLES,
            index=ROLES.index(user.role),
            format_func=lambda r: t(f"role.{r}"),
            key=f"users_role_{user.id}",
        )
        if role_col.button(t("users.change_role"), key="users_change_role"):
            try:
                user_service.change_role(runtime.uow(), actor, user.id, new_role)
            except ValidationFailed as error:
                refuse(manage, error, t)
            succeed(manage, t("users.role_changed", email=escape_markdown(user.email)))
        label = t("users.deactivate") if user.is_active else t("users.activate")
        if active_col.button(label, key="users_toggle_active"):
            try:
                user_service.set_active(runtime.uow(), actor, user.id, active=not user.is_active)
            except ValidationFailed as error:
                refuse(manage, error, t)
            done = "users.deactivated" if user.is_active else "users.activated"
            succeed(manage, t(done, email=escape_markdown(user.email)))
        reset = resets[user.id]
        reset_errors = form_errors(reset)
        if reset_errors:
            show_field_errors(reset_errors, t)
        # Cleared on every submission: a refused password is typed again, not kept on screen.
        with st.form(form_key(reset), clear_on_submit=True):
            password = st.text_input(
                t("users.new_password"), type="password", max_chars=PASSWORD_MAX + 10
            )
            field_hint(reset_errors, "password")
            submitted = st.form_submit_button(t("users.reset_password"))
        if submitted:
            try:
                user_service.reset_password(runtime.uow(), actor, user.id, password)
            except ValidationFailed as error:
                refuse(reset, error, t)
            succeed(reset, t("users.password_reset", email=escape_markdown(user.email)))


st.title(t("users.title"))
runtime.show_flash()
with guarded(t):
    all_users = user_service.list_users(runtime.uow(), actor)
    columns.table(users_frame(all_users, t), hide_index=True, width="stretch")
    _create()
    _manage(all_users)
