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

from core.analytics.ledger import Kind, Line, Oversold, walk
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
    quantity, unit_value, money_in, money_out, income and split_base (the asset's split factor on
    the entry's day). Raises :class:`core.analytics.ledger.Oversold` for a ledger that sells
    more than it holds (the services refuse such a ledger before it is stored)."""
    client_ids: list[int] = []
    asset_ids: list[int] = []
    days: list[date] = []
    numbers: list[tuple[float, float, float, float, float, float]] = []
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
                    float(entry.income),
                    factor_on(asset_splits, entry.day),
                )
            )
    table = np.array(numbers, dtype=float).reshape(-1, 6)
    return {
        "client_id": np.asarray(client_ids, dtype=np.int64),
        "asset_id": np.asarray(asset_ids, dtype=np.int64),
        "day": np.array([np.datetime64(d, "D") for d in days], dtype="datetime64[D]"),
        "quantity": table[:, 0],
        "unit_value": table[:, 1],
        "money_in": table[:, 2],
        "money_out": table[:, 3],
        "income": table[:, 4],
        "split_base": table[:, 5],
    }


def ledger_entries(movements: Columns, events: Columns) -> tuple[Columns, Splits, dict[int, date]]:
    """The entries of a whole book read as columns (see
    :class:`core.repositories.ledger.BookSnapshot`), each asset's splits, and the clients
    whose ledger could not be walked (client id -> the date of a sell of more than was
    held: their entries are left out).

    A (client, asset) ledger of plain buys on an asset without events — most of any book —
    becomes its entries in one vectorised step (money in q x p + fees); the others are
    walked line by line (:func:`core.analytics.ledger.walk`).
    """
    splits: dict[int, list[tuple[date, Decimal]]] = {}
    asset_events: dict[int, list[Line]] = {}
    for asset_id, kind, ex_date, ratio, value in zip(
        events["asset_id"].tolist(),
        events["kind"].tolist(),
        events["ex_date"].astype(object).tolist(),
        events["ratio"].tolist(),
        events["value"].tolist(),
        strict=True,
    ):
        event_kind = Kind(kind)
        line = Line(event_kind, ex_date, price=_decimal(value), ratio=_decimal(ratio))
        asset_events.setdefault(asset_id, []).append(line)
        if event_kind == Kind.SPLIT:
            splits.setdefault(asset_id, []).append((ex_date, _decimal(ratio)))
    for asset_splits in splits.values():
        asset_splits.sort()
    client = movements["client_id"]
    asset = movements["asset_id"]
    kinds = movements["kind"]
    is_buy = kinds == Kind.BUY.value
    # A (client, asset) pair is walked when one of its lines is not a buy, or its asset has
    # events; every line of such a pair goes to the walk.
    pair = client * (int(asset.max()) + 1 if len(asset) else 1) + asset
    walked_pairs = np.unique(pair[~is_buy])
    walked = np.isin(pair, walked_pairs) | np.isin(asset, list(asset_events))
    plain = ~walked
    quantity = movements["quantity"][plain]
    price = movements["price"][plain]
    parts = [
        {
            "client_id": client[plain],
            "asset_id": asset[plain],
            "day": movements["date"][plain],
            "quantity": quantity,
            "unit_value": price,
            "money_in": quantity * price + movements["fees"][plain],
            "money_out": np.zeros(len(quantity)),
            "income": np.zeros(len(quantity)),
            "split_base": np.ones(len(quantity)),
        }
    ]
    ledgers: dict[tuple[int, int], list[Line]] = {}
    for index in np.flatnonzero(walked).tolist():
        key = (int(client[index]), int(asset[index]))
        ledgers.setdefault(key, []).append(_line(movements, index))
    bad: dict[int, date] = {}
    good: dict[tuple[int, int], list[Line]] = {}
    for key, lines in ledgers.items():
        full = [*lines, *asset_events.get(key[1], [])]
        try:
            walk(full)
        except Oversold as refused:
            bad[key[0]] = (
                f"sells {refused.line.quantity} on {refused.line.day} with {refused.held} held"
            )
            continue
        good[key] = full
    parts.append(book_entries(good, splits))
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    if bad:
        keep = ~np.isin(columns["client_id"], list(bad))
        columns = {name: values[keep] for name, values in columns.items()}
    return columns, splits, bad


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _line(movements: Columns, index: int) -> Line:
    """Movement ``index`` of the snapshot's columns as a ledger line."""
    kind = Kind(movements["kind"][index])
    day = movements["date"][index].astype(object)
    if kind == Kind.INCOME:
        return Line(
            kind, day, amount=_decimal(movements["net"][index]), ref=int(movements["id"][index])
        )
    return Line(
        kind,
        day,
        quantity=_decimal(movements["quantity"][index]),
        price=_decimal(movements["price"][index]),
        fees=_decimal(movements["fees"][index]),
        ref=int(movements["id"][index]),
    )
