"""Download buttons for exports: nothing is generated until the user clicks.

Each button hands Streamlit a callable (deferred download): the export runs only when the
button is clicked, on a worker thread, so drawing a page never builds a file and the audit
log records real downloads, not page views. Streamlit needs the whole file as bytes to
serve it, so the callable streams the export into a ``SpooledTemporaryFile`` (in memory up
to a few MB, on disk beyond) and reads it back: the rows themselves are never all held as
Python objects, only the finished file, once. Very large datasets (millions of rows) are
better taken with the same service from a script (see ``bench/exports.py``).

Anything the user chose is validated while the page is drawn (the page shows the message
and no buttons); the callable runs outside the page and cannot show a message, so a failure
there (the database going away mid-export) is logged and the browser reports the failed
download.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from core.db import UnitOfWork
from core.i18n import Translator
from core.market.port import MarketData
from core.services import exports as export_service
from core.services.principal import Principal

log = logging.getLogger(__name__)

SPOOL_BYTES = 8 * 1024 * 1024

Queries = Sequence[Mapping[str, Any]]


def export_bytes(
    uow: UnitOfWork,
    market: MarketData | None,
    actor: Principal,
    queries: Queries,
    fmt: str,
    locale: str,
) -> bytes:
    """Run the export into a spooled temporary file and return the finished file."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        export_service.export(uow, market, actor, queries, fmt, spool, locale)
        spool.seek(0)
        return spool.read()


def deferred(
    make_uow: Callable[[], UnitOfWork],
    market: MarketData | None,
    actor: Principal,
    queries: Queries,
    fmt: str,
    locale: str,
) -> Callable[[], bytes]:
    """The callable a download button runs on click (it touches no Streamlit state)."""
    uow = make_uow()  # created on the page's thread, entered on the download's

    def generate() -> bytes:
        try:
            return export_bytes(uow, market, actor, queries, fmt, locale)
        except Exception:
            log.exception("export failed: %s as %s", [q.get("dataset") for q in queries], fmt)
            raise

    return generate


def download_button(
    label_key: str,
    *,
    make_uow: Callable[[], UnitOfWork],
    market: MarketData | None = None,
    actor: Principal,
    queries: Queries,
    fmt: str,
    t: Translator,
    key: str,
    help_key: str | None = None,
    container: Any = st,
) -> None:
    """One download button (label from the catalogue) for ``queries`` in ``fmt``.

    ``queries`` must already have passed :func:`core.services.exports.check_queries`.
    """
    parsed = export_service.check_queries(queries, fmt)
    source = market.name if market else ""
    name = export_service.file_name(parsed, fmt, datetime.now(UTC), market_name=source)
    container.download_button(
        t(label_key),
        data=deferred(make_uow, market, actor, queries, fmt, t.locale),
        file_name=name,
        mime=export_service.MIME[fmt],
        key=key,
        help=t(help_key) if help_key else None,
        on_click="ignore",
        icon=":material/download:",
    )
