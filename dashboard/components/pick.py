"""A select box of records that keeps its selection on the record (its id), not on its label.

Streamlit remembers a select box's choice by the label of the option. When the label shows
what was just edited (a lot's quantity and date, a client's name, a user's role), the edit
changes it, the remembered label matches no option any more, and the box falls back to its
default, the first option: the next action ("Excluir") would then name another record. The
chosen id is kept here and given as the default, which is what Streamlit falls back to.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

import streamlit as st

K = TypeVar("K", bound=Hashable)


def distinct_labels(labels: Mapping[K, str]) -> dict[K, str]:
    """The labels, the second and later of equal ones numbered: ``"PETR4.SA · 100 (2)"``.

    Streamlit tells options apart by label: of two equal labels, either choice would give
    the same record.
    """
    seen: dict[str, int] = {}
    out: dict[K, str] = {}
    for record, label in labels.items():
        seen[label] = seen.get(label, 0) + 1
        out[record] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return out


def select_by_id(label: str, labels: Mapping[K, str], *, key: str, container: Any = None) -> K:
    """Draw a select box of ``labels``' records (in their order); return the chosen one's id.

    The choice stays on the same record across reruns whatever its label becomes; when that
    record is gone, the first one is chosen.
    """
    shown = distinct_labels(labels)
    records = list(shown)
    kept = st.session_state.get(f"{key}_id")
    chosen: K = (container or st).selectbox(
        label,
        records,
        index=records.index(kept) if kept in shown else 0,
        format_func=shown.__getitem__,
        key=key,
    )
    st.session_state[f"{key}_id"] = chosen
    return chosen
