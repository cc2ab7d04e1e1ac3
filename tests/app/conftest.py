"""Fixtures for driving the dashboard with Streamlit's AppTest against the real database."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Button, Element, Selectbox, TextInput

from core.config import get_settings
from core.db import UnitOfWork, uow_factory
from core.i18n import translate
from core.market.demo import DemoMarketData
from core.schemas import ClientOut, UserOut
from core.services import allocations as allocation_service
from core.services import clients as client_service
from core.services import users as user_service
from core.services.principal import SYSTEM

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")
CLIENTS_PAGE = "app_pages/clients.py"
LANDING_TITLE_KEY = "overview.title"  # the page every role lands on after signing in
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


@pytest.fixture
def demo_env(
    app_env: Callable[[], UnitOfWork], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], UnitOfWork]]:
    """The app on the demo market data, caching in the real Redis."""
    monkeypatch.setenv("ANKA_MARKET_DATA", "demo")
    monkeypatch.setenv("ANKA_REDIS_URL", redis_url)
    get_settings.cache_clear()
    yield app_env
    get_settings.cache_clear()


def new_app() -> AppTest:
    """A fresh app session."""
    return AppTest.from_file(APP, default_timeout=30)


def sign_in(
    email: str, password: str = PASSWORD, query_params: Mapping[str, str] | None = None
) -> AppTest:
    """A session signed in as ``email`` (or showing the failure).

    ``query_params`` are in the URL from the first run, as when a shared link is opened.
    """
    at = new_app()
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    at.run()
    at.text_input[0].input(email)
    at.text_input[1].input(password)
    at.button[0].click().run()
    if at.session_state["authentication_status"]:
        # In a browser the sign-in sends the browser to the cookie route, which reloads the
        # page; AppTest has no browser, so run once more.
        at.run()
    return at


def sign_in_to_clients(
    email: str, password: str = PASSWORD, query_params: Mapping[str, str] | None = None
) -> AppTest:
    """A session signed in as ``email`` and on the clients page (the landing page is the
    overview); ``query_params`` stay in the URL, as when a shared clients link is opened."""
    at = sign_in(email, password, query_params)
    if at.session_state["authentication_status"]:
        at.switch_page(CLIENTS_PAGE).run()
    return at


def landing_title() -> str:
    """The title of the page shown right after signing in."""
    return pt(LANDING_TITLE_KEY)


def pt(key: str, **params: Any) -> str:
    """The Portuguese catalogue text for ``key``."""
    return translate(key, "pt_BR", **params)


def values(elements: Iterable[Element]) -> list[Any]:
    """The values of text elements (titles, messages, captions...)."""
    return [e.value for e in elements]


def expander(at: AppTest, label_key: str) -> Block:
    """The expander whose label is the catalogue text ``label_key``."""
    label = pt(label_key)
    found = [e for e in at.expander if e.label == label]
    assert found, f"no expander {label!r} in {[e.label for e in at.expander]}"
    return found[0]


def text_input(container: AppTest | Block, label_key: str) -> TextInput:
    """The only text input labelled with the catalogue text ``label_key`` in ``container``."""
    label = pt(label_key)
    found = [w for w in container.text_input if w.label == label]
    assert len(found) == 1, f"{len(found)} text inputs labelled {label!r}"
    return found[0]


def selectbox(container: AppTest | Block, label_key: str) -> Selectbox[Any]:
    """The first select box labelled with the catalogue text ``label_key`` in ``container``."""
    label = pt(label_key)
    found = [w for w in container.selectbox if w.label == label]
    assert found, f"no select box {label!r}"
    return found[0]


def button(container: AppTest | Block, label_key: str) -> Button:
    """The only button (form submit buttons included) labelled ``label_key``."""
    label = pt(label_key)
    found = [b for b in container.button if b.label == label]
    assert len(found) == 1, f"{len(found)} buttons labelled {label!r}"
    return found[0]


def button_labels(at: AppTest) -> list[str]:
    """Every button label on the page (sidebar included)."""
    return [b.label for b in at.button]


def assert_no_exception(at: AppTest) -> None:
    """Neither an uncaught exception nor the generic 'something went wrong' message."""
    assert not at.exception, values(at.exception)
    assert pt("error.unexpected") not in values(at.error)


def create_client(make: Callable[[], UnitOfWork], **fields: Any) -> ClientOut:
    """Store a client through the service, as the system."""
    return client_service.create_client(make(), SYSTEM, fields)


def hold(
    make: Callable[[], UnitOfWork],
    client_id: int,
    symbol: str,
    quantity: str,
    buy_price: str,
    buy_date: date,
) -> None:
    """Give a client a lot of a demo-catalogue ticker, through the service, as the system."""
    lot = {"quantity": quantity, "buy_price": buy_price, "buy_date": buy_date}
    allocation_service.add_allocation(
        make(), DemoMarketData(), SYSTEM, client_id, {"symbol": symbol}, lot
    )


def all_clients(make: Callable[[], UnitOfWork], search: str = "") -> list[ClientOut]:
    """Every stored client matching ``search`` (up to 100)."""
    return client_service.list_clients(make(), {"search": search, "page_size": 100}).items


def user_by_email(make: Callable[[], UnitOfWork], email: str) -> UserOut:
    """Look a user up by e-mail."""
    with make() as uow:
        user = uow.users.by_email(email)
        assert user is not None
        return UserOut.model_validate(user)
