"""A client's metrics as of a day, over whole books: market value, invested, accumulated
return, TWR and IRR (docs/metrics.md).

* invested = the money put in (buys with their fees) up to the day; accumulated return =
  (MV + money out - invested) / invested;
* IRR: XIRR (Actual/365, pyxirr) of each entry's money (in negative, out positive) on its
  day and +MV on the day; None where undefined (no sign change, a single date, no
  solution), never 0 as a stand-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from pyxirr import InvalidPaymentsError, xirr

from core.analytics.returns import Book, Columns, SeriesState


def irr(dates: Sequence[date], amounts: Sequence[float]) -> float | None:
    """XIRR (Actual/365) of the flows, or None where it is undefined.

    Undefined: fewer than two distinct dates, no sign change among the amounts, or no
    solution. Never 0 as a stand-in.
    """
    if len(set(dates)) < 2:
        return None
    signs = {np.sign(a) for a in amounts if a}
    if signs != {1.0, -1.0}:
        return None
    return _xirr(list(dates), list(amounts))


def client_metrics(book: Book, state: SeriesState, as_of: date) -> Columns:
    """Per-client figures as of ``as_of`` (the state's last day): market value, invested
    (money in), accumulated return ((MV + money out - invested) / invested, which is
    MV / invested - 1 with nothing out), TWR, and IRR (None where undefined)."""
    as_of_64 = np.datetime64(as_of, "D")
    held = book.day <= as_of_64
    in_entry = np.where(held, book.money_in * book.day_rate, 0.0)
    out_entry = np.where(held, book.money_out * book.day_rate, 0.0)
    if book.size:
        invested = np.add.reduceat(in_entry, book.group_starts)
        received = np.add.reduceat(out_entry, book.group_starts)
        held_count = np.add.reduceat(held.astype(np.int64), book.group_starts)
        first_day = book.day[book.group_starts]
    else:
        invested, received = np.zeros(0), np.zeros(0)
        held_count = np.zeros(0, dtype=np.int64)
        first_day = np.zeros(0, dtype="datetime64[D]")
    rates = np.full(len(book.client_ids), None, dtype=object)
    # The IRR is defined only with money in, money back (a value or money out) and two
    # distinct dates (a first entry before as_of): decided for the whole book at once, so
    # the loop below only calls XIRR. Entries are sorted by day within a client, so a
    # client's entries up to as_of are the first ``held_count`` of its group.
    value = state.market_value
    solvable = (
        (held_count > 0) & (invested > 0) & ((value > 0) | (received > 0)) & (first_day < as_of_64)
    )
    if solvable.any():
        dates = book.day.astype(object).tolist()  # datetime.date per entry, converted once
        amounts = (out_entry - in_entry).tolist()
        starts, counts = book.group_starts.tolist(), held_count.tolist()
        values = value.tolist()
        for group in np.flatnonzero(solvable).tolist():
            start, stop = starts[group], starts[group] + counts[group]
            flows = [
                (d, a) for d, a in zip(dates[start:stop], amounts[start:stop], strict=True) if a
            ]
            if values[group]:
                flows.append((as_of, values[group]))
            rates[group] = _xirr([d for d, _ in flows], [a for _, a in flows])
    has_capital = invested > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        accumulated = np.where(
            received > 0, (value + received - invested) / invested, value / invested - 1.0
        )
    # Undefined figures are None (stored as NULL), never NaN or 0.
    return {
        "client_id": book.client_ids.astype(np.int64),
        "market_value": value.astype(float),
        "invested": invested.astype(float),
        "accumulated_return": _or_none(accumulated, has_capital),
        "twr": _or_none(state.growth - 1.0, has_capital),
        "irr": rates,
    }


def _xirr(dates: list[date], amounts: list[float]) -> float | None:
    """XIRR of flows already known to change sign over two dates or more; None when it
    has no solution."""
    try:
        result = xirr(dates, amounts)
    except (InvalidPaymentsError, ValueError, ArithmeticError):
        return None
    if result is None or not np.isfinite(result):
        return None
    return float(result)


def _or_none(values: np.ndarray, defined: np.ndarray) -> np.ndarray:
    """``values`` as Python floats where ``defined``, None elsewhere (an object column)."""
    out = np.full(len(values), None, dtype=object)
    out[defined] = values[defined].tolist() if defined.any() else []
    return out
