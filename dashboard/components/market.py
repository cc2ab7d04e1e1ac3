"""Market-data captions: the demo label, the source, and the cache facts of an answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import streamlit as st

from core.formatting import DISPLAY_TZ
from core.i18n import Translator
from core.market.port import CacheInfo
from dashboard.components.markdown import escape_markdown


def source_banner(source: str, t: Translator) -> None:
    """Demo data is always labelled as such; Yahoo quotes say they may be delayed."""
    if source == "demo":
        st.warning(t("market.source.demo"), icon=":material/science:")
    else:
        st.caption(t("market.source.yahoo"))


def cache_caption(infos: Iterable[CacheInfo], t: Translator) -> None:
    """A small caption with what the cache did (like an X-Cache header)."""
    infos = list(infos)
    if not infos:
        return
    if any(info.status == "bypass" for info in infos):
        st.caption(f":orange[{t('market.cache.bypass')}]")
        return
    if any(info.status == "shared" for info in infos):
        # Redis is down: the quotes are the poller's last ones, stored in PostgreSQL.
        st.caption(f":orange[{t('market.cache.shared')}]")
        return
    statuses = sorted({info.status for info in infos})
    first = infos[0]
    ttl = "—" if first.ttl_s is None else f"{first.ttl_s} s"
    label = " / ".join(t(f"market.cache.{s}") for s in statuses)
    key = first.key if len(infos) == 1 else f"{first.key} (+{len(infos) - 1})"
    # The key is data (``anka:md:demo:quote:PETR4.SA``): its colons would start directives.
    st.caption(t("market.cache", status=label, cache_key=escape_markdown(key), ttl=ttl))


@dataclass(frozen=True, slots=True)
class Freshness:
    """How old the quotes on screen are: when the oldest was fetched, and whether it is late."""

    updated_at: datetime
    age_s: float
    stale: bool


def quotes_freshness(infos: Iterable[CacheInfo], now: datetime, interval_s: float) -> Freshness:
    """The quotes' update time is ``now`` minus the oldest quote's age (``CacheInfo.age_s``).

    They are late when that age is above two live intervals (the poller missed at least one
    round), or when any was served stale because the source failed. Answers with no age
    (fetched just now, or Redis bypassed) count as fresh. With Redis down the quotes come
    from PostgreSQL (status ``shared``), aged from the poll that stored them.
    """
    infos = list(infos)
    ages = [info.age_s for info in infos if info.age_s is not None]
    age = max(ages, default=0.0)
    stale = age > 2 * interval_s or any(info.status == "stale" for info in infos)
    return Freshness(updated_at=now - timedelta(seconds=age), age_s=age, stale=stale)


def freshness_caption(freshness: Freshness, interval_s: float, t: Translator) -> None:
    """ "Atualizado hh:mm:ss" (São Paulo time), with a marker when the quotes are late."""
    time = freshness.updated_at.astimezone(DISPLAY_TZ).strftime("%H:%M:%S")
    st.caption(t("detail.quotes_updated", time=time))
    if freshness.stale:
        st.caption(f":orange[{t('detail.quotes_stale', limit=round(2 * interval_s))}]")
