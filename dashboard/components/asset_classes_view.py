"""The Assets page's asset classes: every stored asset's class, and an admin's correction.

The table shows, per asset, the class the rules derive (:mod:`core.market.asset_classes`),
the admin's correction if any, and the class in effect. An admin picks an asset and a
class ("Derivada (…)" drops the correction) and presses "Corrigir classe"; the service
checks the role and audits the change (:mod:`core.services.asset_classes`). Nothing is
drawn while no asset is stored.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.formatting import DASH
from core.i18n import Translator
from core.market.asset_classes import CLASSES
from core.services import asset_classes as class_service
from core.services.asset_classes import AssetClassOut
from core.services.principal import Principal
from dashboard import runtime
from dashboard.components import columns
from dashboard.components.allocation_view import class_label
from dashboard.components.markdown import escape_markdown
from dashboard.components.pick import select_by_id
from dashboard.components.tables import asset_type_label

ASSET_KEY = "assets_class_asset"
DERIVED = ""  # the select box's option for "no correction"


def classes_frame(found: list[AssetClassOut], t: Translator) -> pd.DataFrame:
    """One line per asset: ticker, name, type, derived class, correction, class in effect."""
    return pd.DataFrame(
        [
            {
                t("col.ticker"): row.symbol,
                t("assets.name"): row.name,
                t("assets.type"): asset_type_label(row.asset_type, t),
                t("assets.col.derived"): class_label(row.derived, t),
                t("assets.col.correction"): (
                    class_label(row.correction, t) if row.correction else DASH
                ),
                t("assets.col.class"): class_label(row.asset_class, t),
            }
            for row in found
        ]
    )


def _correct(found: list[AssetClassOut], actor: Principal, t: Translator) -> None:
    """The admin's picker: an asset, a class (or the derived one), and the button."""
    by_id = {row.asset_id: row for row in found}
    asset_id = select_by_id(
        t("assets.class_asset"),
        {row.asset_id: f"{row.symbol} · {row.name}" for row in found},
        key=ASSET_KEY,
    )
    chosen = by_id[asset_id]
    options = [DERIVED, *CLASSES]
    derived = t("assets.class_derived", label=class_label(chosen.derived, t))
    picked = st.selectbox(
        t("assets.class_pick"),
        options,
        index=options.index(chosen.correction or DERIVED),
        format_func=lambda code: derived if code == DERIVED else class_label(code, t),
        key=f"assets_class_pick_{asset_id}",  # each asset starts on its own correction
    )
    if not st.button(t("assets.class_fix"), key="assets_class_fix"):
        return
    correction = picked or None
    if correction == chosen.correction:
        message = t(
            "assets.class_unchanged",
            symbol=escape_markdown(chosen.symbol),
            label=class_label(chosen.asset_class, t),
        )
    else:
        after = class_service.correct_class(runtime.uow(), actor, asset_id, correction)
        key = "assets.class_saved" if correction else "assets.class_reset"
        message = t(
            key, symbol=escape_markdown(after.symbol), label=class_label(after.asset_class, t)
        )
    runtime.flash(message)
    st.rerun()


def show_asset_classes(actor: Principal, t: Translator) -> None:
    """The classes table (any role) and, for an admin, the correction."""
    found = class_service.asset_classes(runtime.uow())
    if not found:
        return
    st.subheader(t("assets.classes"))
    st.caption(t("assets.classes_caption"))
    columns.table(classes_frame(found, t), hide_index=True, width="stretch")
    if actor.is_admin:
        _correct(found, actor, t)
