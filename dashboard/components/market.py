"""Market-data captions: the demo label, the source, and the cache facts of an answer."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from core.i18n import Translator
from core.market.port import CacheInfo


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
    statuses = sorted({info.status for info in infos})
    first = infos[0]
    ttl = "—" if first.ttl_s is None else f"{first.ttl_s} s"
    label = " / ".join(t(f"market.cache.{s}") for s in statuses)
    key = first.key if len(infos) == 1 else f"{first.key} (+{len(infos) - 1})"
    st.caption(t("market.cache", status=label, cache_key=key, ttl=ttl))
