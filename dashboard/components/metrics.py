"""A client's stored headline figures (the scheduler's metrics), labelled and formatted."""

from __future__ import annotations

from collections.abc import Sequence

from core.formatting import format_percent
from core.i18n import Translator
from core.services.figures import MetricsOut
from core.services.portfolio import AllocationRow
from dashboard.components.portfolio_table import money

# Stored figures add every asset in its own currency (see core.services.closing); the
# office's book is B3, so they are labelled in reais and a note says when that mixes.
FIGURES_CURRENCY = "BRL"

Card = tuple[str, str, str | None]  # (label, value, help)


def metric_cards(metrics: MetricsOut, t: Translator) -> list[Card]:
    """Market value, accumulated return, TWR and IRR; an undefined figure shows "—"."""
    return [
        (t("detail.market_value"), money(metrics.market_value, FIGURES_CURRENCY, t), None),
        (t("detail.return"), format_percent(metrics.accumulated_return, t.locale), None),
        (t("detail.twr"), format_percent(metrics.twr, t.locale), t("detail.twr_help")),
        (t("detail.irr"), format_percent(metrics.irr, t.locale), t("detail.irr_help")),
    ]


def mixes_currencies(rows: Sequence[AllocationRow]) -> bool:
    """True when some lot is not in reais (the stored figures then add across currencies)."""
    return any((row.currency or FIGURES_CURRENCY) != FIGURES_CURRENCY for row in rows)
