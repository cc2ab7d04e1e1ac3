"""Process-wide resources for the dashboard (cached by Streamlit) and per-session helpers.

The engine is created once per server process (``st.cache_resource``); every service call
gets a fresh :class:`core.db.UnitOfWork`. This module is the only place where the dashboard
touches configuration.
"""

from __future__ import annotations

import logging

import streamlit as st
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings, get_settings
from core.db import UnitOfWork, engine_for, uow_factory
from core.embedded import resolve_database_url, resolve_redis_url
from core.errors import PermissionDenied
from core.i18n import Translator
from core.logging_setup import configure, secrets_from
from core.market.cache import CachedMarketData
from core.market.factory import build_market_data
from core.market.shared_quotes import SharedQuotes
from core.redis_client import redis_for
from core.services.principal import Principal

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _session_factory(database_url: str) -> sessionmaker[Session]:
    return uow_factory(engine_for(database_url))


@st.cache_resource(show_spinner=False)
def setup_logging() -> None:
    """Anka's log format and redaction for this server process (once), Streamlit's own
    handlers included (they do not propagate to the root logger)."""
    s = get_settings()
    configure(s.log_json, secrets=secrets_from(s))


def settings() -> Settings:
    """The process settings."""
    return get_settings()


@st.cache_resource(show_spinner=False)
def database_url() -> str:
    """The configured database URL (or the embedded server's, started on first use)."""
    return resolve_database_url(get_settings())


def uow() -> UnitOfWork:
    """A new unit of work for one service call."""
    return UnitOfWork(_session_factory(database_url()))


def translator() -> Translator:
    """The translator for the configured UI language."""
    return Translator(get_settings().locale)


PRINCIPAL_KEY = "anka_principal"
FLASH_KEY = "anka_flash"
OUTCOME_KEY = "anka_form_outcome"  # see dashboard.components.form_outcome


def principal() -> Principal:
    """The signed-in user (set by the entry script before any page runs)."""
    actor = st.session_state.get(PRINCIPAL_KEY)
    if actor is None:
        raise PermissionDenied()
    return actor


def flash(message: str) -> None:
    """Queue a success message to show after the next rerun.

    A success is the outcome of the latest attempt: the messages kept from any earlier
    refused form are forgotten (see :mod:`dashboard.components.form_outcome`).
    """
    st.session_state[FLASH_KEY] = message
    st.session_state.pop(OUTCOME_KEY, None)


def show_flash() -> None:
    """Show (once) the message queued by :func:`flash`, in a slot drawn on every run.

    The browser keeps a panel (``st.expander``) open or closed by its place on the page: a
    message pushing the page down on one run and not on the next would bring the panels
    back closed, with a refusal's messages hidden inside.
    """
    slot = st.container()
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        slot.success(message)


@st.cache_resource(show_spinner=False)
def _market(
    market_data: str, redis_url: str, ttl_s: int, home_dir: str, db_url: str
) -> CachedMarketData:
    factory = _session_factory(db_url)
    shared = SharedQuotes(lambda: UnitOfWork(factory), ttl_s=ttl_s)
    return build_market_data(get_settings(), redis_for(redis_url), shared=shared)


def market() -> CachedMarketData:
    """The configured market data behind the Redis cache (one per server process).

    Its quotes never come from the source once per page while Redis is down: they come from
    what the live poller last stored in PostgreSQL (:mod:`core.market.shared_quotes`).
    """
    s = get_settings()
    return _market(s.market_data, resolve_redis_url(s), s.cache_ttl_s, s.home_dir, database_url())


def redis() -> Redis:
    """The Redis client for this process (configured, or the embedded server)."""
    return redis_for(resolve_redis_url(get_settings()))


def engine() -> Engine:
    """The database engine of this process (the jobs take it, not a unit of work)."""
    return engine_for(database_url())
