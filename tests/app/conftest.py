"""Fixtures for driving the dashboard with Streamlit's AppTest against the real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from core.config import get_settings
from core.db import UnitOfWork, uow_factory
from core.schemas import UserOut
from core.services import users as user_service
from core.services.principal import SYSTEM

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")
ADMIN_EMAIL = "admin@example.com"
READER_EMAIL = "leitura@example.com"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def app_env(
    committed_engine: Engine, redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[[], UnitOfWork]]:
    """Environment for the app (database, Redis, pt-BR), with an admin and a reader."""
    monkeypatch.setenv("ANKA_LOCALE", "pt_BR")
    monkeypatch.setenv("ANKA_HOME_DIR", str(tmp_path))
    get_settings.cache_clear()
    factory = uow_factory(committed_engine)
    make = lambda: UnitOfWork(factory)  # noqa: E731
    for email, role in ((ADMIN_EMAIL, "admin"), (READER_EMAIL, "read_only")):
        user_service.create_user(
            make(),
            SYSTEM,
            {"email": email, "name": email.split("@")[0], "role": role, "password": PASSWORD},
        )
    yield make
    get_settings.cache_clear()


def new_app() -> AppTest:
    """A fresh app session."""
    return AppTest.from_file(APP, default_timeout=30)


def sign_in(email: str, password: str = PASSWORD) -> AppTest:
    """A session signed in as ``email`` (or showing the failure)."""
    at = new_app().run()
    at.text_input[0].input(email)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def user_by_email(make: Callable[[], UnitOfWork], email: str) -> UserOut:
    """Look a user up by e-mail."""
    with make() as uow:
        user = uow.users.by_email(email)
        assert user is not None
        return UserOut.model_validate(user)
