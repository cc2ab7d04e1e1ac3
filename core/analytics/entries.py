"""From ledgers to the arrays the portfolio series is computed from.

Each client's ledger for an asset (its movements and the asset's events, see
:mod:`core.analytics.ledger`) is walked once; every line that changes shares held or moves
money becomes an entry (:class:`core.analytics.ledger.Entry`), and the entries of the whole
book become the columns of :func:`core.analytics.returns.book_from_entries`. Splits do not
become entries: they scale every entry of their asset from their ex-date on, through a
days x assets matrix of cumulative split factors (:func:`split_matrix`), so that a split
never moves a value or a daily return.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import numpy as np

from core.analytics.ledger import Line, walk
from core.analytics.returns import Columns

Splits = Mapping[int, Sequence[tuple[date, Decimal]]]
"""Each asset's splits: (ex-date, ratio of shares after per share before), by date."""


def factor_on(splits: Sequence[tuple[date, Decimal]], day: date) -> float:
    """The product of the ratios of the splits on or before ``day`` (1 without any)."""
    factor = 1.0
    for ex_date, ratio in splits:
        if ex_date > day:
            break
        factor *= float(ratio)
    return factor


def split_matrix(splits: Splits, days: Sequence[date], asset_ids: np.ndarray) -> np.ndarray | None:
    """Days x assets: each asset's cumulative split factor on each day (None when none of
    ``asset_ids`` has a split, so the series skips the scaling)."""
    wanted = [int(a) for a in asset_ids.tolist() if splits.get(int(a))]
    if not wanted:
        return None
    matrix = np.ones((len(days), len(asset_ids)))
    column_of = {int(a): k for k, a in enumerate(asset_ids.tolist())}
    for asset_id in wanted:
        events = list(splits[asset_id])
        ex_dates = [ex_date for ex_date, _ in events]
        cumulative = np.cumprod([1.0, *(float(r) for _, r in events)])
        # factor on a day = product of the splits with ex-date <= day
        matrix[:, column_of[asset_id]] = [
            cumulative[bisect.bisect_right(ex_dates, d)] for d in days
        ]
    return matrix


def book_entries(ledgers: Mapping[tuple[int, int], Sequence[Line]], splits: Splits) -> Columns:
    """The entries of every (client, asset) ledger as columns client_id, asset_id, day,
    quantity, unit_value, money_in, money_out and split_base (the asset's split factor on
    the entry's day). Raises :class:`core.analytics.ledger.Oversold` for a ledger that sells
    more than it holds (the services refuse such a ledger before it is stored)."""
    client_ids: list[int] = []
    asset_ids: list[int] = []
    days: list[date] = []
    numbers: list[tuple[float, float, float, float, float]] = []
    for (client_id, asset_id), lines in ledgers.items():
        asset_splits = splits.get(asset_id, ())
        for entry in walk(lines).entries:
            client_ids.append(client_id)
            asset_ids.append(asset_id)
            days.append(entry.day)
            numbers.append(
                (
                    float(entry.quantity),
                    float(entry.unit_value),
                    float(entry.money_in),
                    float(entry.money_out),
                    factor_on(asset_splits, entry.day),
                )
            )
    table = np.array(numbers, dtype=float).reshape(-1, 5)
    return {
        "client_id": np.asarray(client_ids, dtype=np.int64),
        "asset_id": np.asarray(asset_ids, dtype=np.int64),
        "day": np.array([np.datetime64(d, "D") for d in days], dtype="datetime64[D]"),
        "quantity": table[:, 0],
        "unit_value": table[:, 1],
        "money_in": table[:, 2],
        "money_out": table[:, 3],
        "split_base": table[:, 4],
    }
