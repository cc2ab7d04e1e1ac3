"""From ledgers to the arrays the portfolio series is computed from.

The definitions are those of :func:`core.analytics.ledger.walk`: every line that changes
shares held or moves money becomes an entry (:class:`core.analytics.ledger.Entry`), and the
entries of the whole book become the columns of
:func:`core.analytics.returns.book_from_entries` (:func:`ledger_entries`, vectorised over
the book; its tests check it against the walk line by line). Splits do not
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

from core.analytics.ledger import Kind
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


def ledger_entries(movements: Columns, events: Columns) -> tuple[Columns, Splits, dict[int, date]]:
    """The entries of a whole book read as columns (see
    :class:`core.repositories.ledger.BookSnapshot`), each asset's splits, and the clients
    whose ledger sells more than it holds (client id -> the date of the first such sell:
    their entries are left out; the services refuse such a ledger, but an event that
    changed under an old sell can make one).

    The same definitions as :func:`core.analytics.ledger.walk`, vectorised over the book:
    every movement is an entry of its own (a buy: +q, money in q x p + fees; a sell: -q,
    money out q x p - fees; typed income: money out amount - tax). The entries that depend
    on what is held — bonus shares and income per share — are computed per event from the
    quantity each client holds at the end of the day before its ex-date, in shares scaled
    by the splits up to the ex-date (splits first, then bonus shares, then income, as
    within a day).
    """
    splits: dict[int, list[tuple[date, Decimal]]] = {}
    holders: dict[int, list[tuple[date, int, str, float, float]]] = {}
    for asset_id, kind, ex_date, ratio, value in zip(
        events["asset_id"].tolist(),
        events["kind"].tolist(),
        events["ex_date"].astype(object).tolist(),
        events["ratio"].tolist(),
        events["value"].tolist(),
        strict=True,
    ):
        if kind == Kind.SPLIT.value:
            splits.setdefault(asset_id, []).append((ex_date, _decimal(ratio)))
        else:
            order = 0 if kind == Kind.BONUS.value else 1
            holders.setdefault(asset_id, []).append((ex_date, order, kind, ratio, value))
    for asset_splits in splits.values():
        asset_splits.sort()
    kinds = movements["kind"]
    sign = np.where(kinds == Kind.SELL.value, -1.0, np.where(kinds == Kind.BUY.value, 1.0, 0.0))
    quantity = movements["quantity"] * sign
    price = movements["price"]
    fees = movements["fees"]
    is_income = kinds == Kind.INCOME.value
    traded = movements["quantity"] * price
    days = movements["date"]
    base = _factors(splits, movements["asset_id"], days)
    columns: Columns = {
        "client_id": movements["client_id"],
        "asset_id": movements["asset_id"],
        "day": days,
        "quantity": quantity,
        "unit_value": np.where(is_income, 0.0, price),
        "money_in": np.where(sign > 0, traded + fees, 0.0),
        "money_out": np.where(sign < 0, traded - fees, np.where(is_income, movements["net"], 0.0)),
        "income": np.where(is_income, movements["net"], 0.0),
        "split_base": base,
        # within a day: buys (0) before sells (1) before typed income (2)
        "order": np.where(sign > 0, 0, np.where(sign < 0, 1, 2)),
    }
    columns = _with_event_entries(columns, holders, splits)
    bad = _oversold(columns)
    if bad:
        keep = ~np.isin(columns["client_id"], list(bad))
        columns = {name: values[keep] for name, values in columns.items()}
    del columns["order"]
    return columns, splits, bad


def _factors(splits: Splits, asset_ids: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Each row's asset's cumulative split factor on its day (1 without splits)."""
    factors = np.ones(len(asset_ids))
    for asset_id, asset_splits in splits.items():
        rows = np.flatnonzero(asset_ids == asset_id)
        if not len(rows):
            continue
        ex_dates = np.array([np.datetime64(d, "D") for d, _ in asset_splits])
        cumulative = np.cumprod([1.0, *(float(r) for _, r in asset_splits)])
        factors[rows] = cumulative[np.searchsorted(ex_dates, days[rows], side="right")]
    return factors


def _with_event_entries(
    columns: Columns,
    holders: Mapping[int, Sequence[tuple[date, int, str, float, float]]],
    splits: Splits,
) -> Columns:
    """``columns`` plus the entries of bonus shares and income per share: for each event, in
    date order per asset, each client's holding at the end of the day before the ex-date."""
    added: list[Columns] = []
    for asset_id, asset_events in holders.items():
        mine = columns["asset_id"] == asset_id
        if not mine.any():
            continue
        clients = columns["client_id"][mine]
        days = columns["day"][mine]
        # shares in the asset's base units (before any split): a later split scales them
        shares = columns["quantity"][mine] / columns["split_base"][mine]
        asset_splits = splits.get(asset_id, ())
        for ex_date, _order, kind, ratio, value in sorted(asset_events):
            ex_day = np.datetime64(ex_date, "D")
            ids, group = np.unique(clients, return_inverse=True)
            held = np.bincount(group, weights=np.where(days < ex_day, shares, 0.0))
            held *= factor_on(asset_splits, ex_date)  # in the units of the ex-date
            if kind == Kind.BONUS.value:
                new = held * ratio
                got = new > 1e-12
                entry = _event_entry(ids[got], asset_id, ex_day, new[got], value, 0.0, asset_splits)
                clients = np.concatenate([clients, ids[got]])
                days = np.concatenate([days, np.full(int(got.sum()), ex_day)])
                shares = np.concatenate([shares, new[got] / factor_on(asset_splits, ex_date)])
            else:
                net = held * value * (1.0 - ratio)
                got = net > 0
                entry = _event_entry(
                    ids[got],
                    asset_id,
                    ex_day,
                    np.zeros(int(got.sum())),
                    0.0,
                    net[got],
                    asset_splits,
                )
            added.append(entry)
    if not added:
        return columns
    return {name: np.concatenate([columns[name], *(a[name] for a in added)]) for name in columns}


def _event_entry(
    client_ids: np.ndarray,
    asset_id: int,
    ex_day: np.datetime64,
    quantity: np.ndarray,
    unit_value: float,
    income: np.ndarray | float,
    asset_splits: Sequence[tuple[date, Decimal]],
) -> Columns:
    count = len(client_ids)
    income_column = np.broadcast_to(np.asarray(income, dtype=float), (count,)).copy()
    return {
        "client_id": client_ids.astype(np.int64),
        "asset_id": np.full(count, asset_id, dtype=np.int64),
        "day": np.full(count, ex_day, dtype="datetime64[D]"),
        "quantity": np.asarray(quantity, dtype=float),
        "unit_value": np.full(count, float(unit_value)),
        "money_in": np.zeros(count),
        "money_out": income_column,
        "income": income_column,
        "split_base": np.full(count, factor_on(asset_splits, ex_day.astype(object))),
        "order": np.full(count, -1),  # events come first within their day
    }


def _oversold(columns: Columns) -> dict[int, date]:
    """Clients whose shares of some asset go below zero after a sell (in base units, in
    walking order), with the day of the first such sell."""
    sells = columns["quantity"] < 0
    if not sells.any():
        return {}
    pairs = columns["client_id"] * (int(columns["asset_id"].max()) + 1) + columns["asset_id"]
    order = np.lexsort((columns["order"], columns["day"], pairs))
    base = (columns["quantity"] / columns["split_base"])[order]
    pair = pairs[order]
    running = np.cumsum(base)
    starts = np.r_[0, np.flatnonzero(pair[1:] != pair[:-1]) + 1]
    offsets = np.repeat(running[starts] - base[starts], np.diff(np.r_[starts, len(pair)]))
    held = running - offsets
    short = (held < -1e-9) & (base < 0)
    bad: dict[int, date] = {}
    for index in np.flatnonzero(short).tolist():
        client_id = int(columns["client_id"][order][index])
        day = columns["day"][order][index].astype(object)
        bad[client_id] = min(day, bad.get(client_id, day))
    return bad


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))
