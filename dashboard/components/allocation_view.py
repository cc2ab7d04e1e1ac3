"""A client's allocation by asset class and by asset, in reais, as tables of numbers.

The rows come from the positions the client page already computed
(:class:`core.services.positions.PositionsView`), grouped by
:func:`core.analytics.allocation.allocation`. Cells hold numbers: money in reais (floats
rounded to the centavo) and weights as ratios, formatted by Streamlit's column
configuration ("localized" for money, "percent" for weights), so columns sort as numbers.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from core.analytics.allocation import Allocation, allocation
from core.i18n import Translator
from core.services.positions import PositionsView
from dashboard.components import columns


def _money(value: Decimal) -> float:
    return float(round(value, 2))


def class_label(code: str | None, t: Translator) -> str:
    """The class's label in the user's language ("Sem classe" for None)."""
    return t(f"asset_class.{code or 'none'}")


def classes_frame(found: Allocation, t: Translator) -> pd.DataFrame:
    """One row per class: label, value in reais, weight in the portfolio, assets."""
    frame = pd.DataFrame(
        [
            {
                t("allocation.col.class"): class_label(share.asset_class, t),
                t("allocation.col.value_brl"): _money(share.value_brl),
                t("allocation.col.weight"): columns.number(share.weight),
                t("allocation.col.assets"): share.assets,
            }
            for share in found.classes
        ]
    )
    return columns.numbers_from(frame, 1)


def assets_frame(found: Allocation, t: Translator) -> pd.DataFrame:
    """One row per asset: ticker, name, class, value in reais, weight in the portfolio and
    in its class."""
    frame = pd.DataFrame(
        [
            {
                t("col.ticker"): share.symbol,
                t("col.name"): share.name,
                t("allocation.col.class"): class_label(share.asset_class, t),
                t("allocation.col.value_brl"): _money(share.value_brl),
                t("allocation.col.weight"): columns.number(share.weight),
                t("allocation.col.weight_in_class"): columns.number(share.weight_in_class),
            }
            for share in found.assets
        ]
    )
    return columns.numbers_from(frame, 3)


def _config(frame: pd.DataFrame, t: Translator) -> dict[str, object]:
    """Money as localized numbers, weights as percentages, counts as integers."""
    config: dict[str, object] = {}
    for column in frame.columns:
        if column == t("allocation.col.value_brl"):
            config[column] = columns.money()
        elif column in (t("allocation.col.weight"), t("allocation.col.weight_in_class")):
            config[column] = columns.percent()
        elif column == t("allocation.col.assets"):
            config[column] = columns.quantity()
    return config


def show_allocation(view: PositionsView, t: Translator) -> None:
    """The class table, then the per-asset table, and notes on what is left out; nothing
    when no position has a value in reais."""
    found = allocation(view.rows, view.market_value_brl)
    if not found.classes:
        return
    st.subheader(t("allocation.title"))
    classes = classes_frame(found, t)
    columns.table(classes, hide_index=True, column_config=_config(classes, t), width="stretch")
    st.markdown(f"**{t('allocation.by_asset')}**")
    assets = assets_frame(found, t)
    columns.table(assets, hide_index=True, column_config=_config(assets, t), width="stretch")
    if view.market_value_brl is None:
        st.caption(f":orange[{t('allocation.no_weight')}]")
    if found.unvalued:
        st.caption(f":orange[{t('allocation.unvalued', count=found.unvalued)}]")
