"""Converting asset-currency amounts into reais (BRL), the currency every stored figure uses.

Our advisors report in reais, so a client's market value, flows, invested capital, TWR and
IRR are computed in BRL: a lot of a US ticker is worth ``q * C_t * FX_t`` on day t, where
FX_t is the USD/BRL close carried like any other close, and its money went in at
``q * p0 * FX_d0``, the rate of its buy date (what the client paid in reais). A BRL lot
has FX = 1. Per-lot figures on the live page stay in the asset's own currency.

Rates are Yahoo's ``<CUR>BRL=X`` closes (``USDBRL=X``: reais per dollar). Quotes in a
minor unit (London's pence ``GBp``/``GBX``, Johannesburg's ``ZAc``, Tel Aviv's ``ILA``) use
the major currency's pair and a factor of 1/100. An asset without a currency is taken to
be in reais.

Before a pair's first known close (a lot bought on a weekend before the first rate of the
series), the first known rate is used: without it the whole portfolio would have no value
in reais. That is the only place a later value stands in for an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from core.analytics.returns import Table, carried_closes, day_array, positions_in

BASE = "BRL"
# Minor units quoted by Yahoo: (major currency, units per major unit).
MINOR_UNITS = {"GBp": ("GBP", 100), "GBX": ("GBP", 100), "ZAc": ("ZAR", 100), "ILA": ("ILS", 100)}


@dataclass(frozen=True, slots=True)
class Pair:
    """How to turn an amount in ``currency`` into reais: ``amount * rate(symbol) * factor``."""

    currency: str
    symbol: str
    factor: float


def pair_for(currency: str | None) -> Pair | None:
    """The rate series that converts ``currency`` into reais; None for reais themselves."""
    if not currency or currency.upper() == BASE:
        return None
    major, units = MINOR_UNITS.get(currency, (currency.upper(), 1))
    if major == BASE:
        return None
    return Pair(currency=currency, symbol=f"{major}{BASE}=X", factor=1.0 / units)


def pairs_for(currencies: Iterable[str | None]) -> list[Pair]:
    """The distinct pairs needed for ``currencies``, in a stable order (by currency)."""
    found = {pair.currency: pair for c in currencies if (pair := pair_for(c)) is not None}
    return [found[c] for c in sorted(found)]


def rates_on(
    closes: Table, days: Sequence[date], asset_ids: np.ndarray, factors: np.ndarray
) -> np.ndarray:
    """A days x K matrix of reais per unit of K currencies: column k is the carried close of
    the rate series ``asset_ids[k]`` times ``factors[k]``.

    ``closes`` (asset_id, date, close) should hold each series from its start; before a
    series' first close its first close is used (see the module docstring). NaN only
    where a series has no close at all: nothing may be valued with such a column.
    """
    unique = np.unique(asset_ids)
    column = np.searchsorted(unique, asset_ids)
    carried = carried_closes(closes, days, unique)[:, column]
    first = np.full(len(unique), np.nan)
    ids = np.asarray(closes["asset_id"], dtype=np.int64)
    if len(ids):
        # Each series' earliest close: sorted by series then date (stable), first of each.
        stamps, values = day_array(closes["date"]), np.asarray(closes["close"], dtype=float)
        order = np.lexsort((stamps, ids))
        ids, values = ids[order], values[order]
        earliest = np.ones(len(ids), dtype=bool)
        earliest[1:] = ids[1:] != ids[:-1]
        ids, values = ids[earliest], values[earliest]
        position, inside = positions_in(unique, ids)
        first[position[inside]] = values[inside]
    filled = np.where(np.isnan(carried), first[column][None, :], carried)
    return filled * np.asarray(factors, dtype=float)[None, :]
