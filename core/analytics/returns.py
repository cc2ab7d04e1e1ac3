"""Client portfolio series over whole books: market value, money in and out, time-weighted
returns (the metrics as of a day, IRR included, are :mod:`core.analytics.metrics`).

Definitions (docs/metrics.md), for a client on day t, from the entries of its ledger
(:mod:`core.analytics.entries`: buys, sells, income, and the assets' events):

* MV_t = sum of the shares held x C_t (closes as traded, carried forward over days an
  asset did not trade; until an asset's first known close its shares are valued at the
  entry's own unit value, never at a later price). A split changes the shares, never MV.
* In_t = money put in since the previous day of the series (buys with their fees, at the
  start of the day); Out_t = money taken out (sells net of fees, income net of tax).
* r_t = (MV_t + Out_t) / (MV_{t-1} + In_t) - 1, and r_t = 0 where that denominator is 0.
* cumulative TWR = prod(1 + r_t) - 1.
* Everything is in reais: an entry in another currency has C_t multiplied by that day's
  rate and its money by its own day's rate (:mod:`core.analytics.fx`).

Everything is vectorised over the book (numpy arrays of lots and a days x assets matrix
of closes); nothing loops per lot per day. Tables go in and out as :data:`Columns`, a dict
of equal-length numpy arrays (a data frame is accepted wherever columns are read): the
scheduler's daily close on a small book is mostly fixed overhead, and building and
indexing a pandas frame costs about a millisecond each time. Figures are float64 here and become
``Numeric`` when stored; cents of a billion-real portfolio are well inside float64. What one
day hands to the next (MV and cumulative growth) is rounded to the stored scales, so a run
that resumes from stored rows continues exactly like one computed in one go: a rerun
rewrites identical rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

Columns = dict[str, np.ndarray]
"""A table as equal-length numpy arrays by column name (``pd.DataFrame(columns)`` shows it)."""
Table = Mapping[str, Any] | pd.DataFrame
"""Where a table is read: :data:`Columns` or a data frame with the same column names."""

# The figures of each client and day, after client_id and date.
SERIES_COLUMNS = ("market_value", "net_flow", "daily_return", "cumulative_twr")
# Decimal places of the stored figures (core.models: Money for values, Ratio for returns).
VALUE_PLACES = 8
RATIO_PLACES = 12


@dataclass(frozen=True)
class Book:
    """A book's entries as arrays, sorted by client then day, with the column of each
    entry's asset.

    An entry is what one ledger line adds (:class:`core.analytics.ledger.Entry`): a change
    in shares held from its day on (a lot bought: +q; sold: -q; bonus shares: +q; income:
    0), the value per share until its asset has a close from that day on, and the money in
    (start of the day) and out (end of the day) in the asset's currency. A plain lot is an
    entry with money in = q x p0. Build it with :func:`book_from_entries` (or
    :func:`book_from_lots`); ``client_ids[i]`` is the client of group ``i``.
    """

    client_ids: np.ndarray  # (C,) int
    group_starts: np.ndarray  # (C,) first entry index of each client
    lot_group: np.ndarray  # (n,) client group index of each entry
    lot_asset: np.ndarray  # (n,) column of the entry's asset in the closes matrix
    quantity: np.ndarray  # (n,) float, signed: shares from ``day`` on, in that day's units
    unit_value: np.ndarray  # (n,) float: value per share before a close from ``day`` on
    day: np.ndarray  # (n,) datetime64[D]
    asset_ids: np.ndarray  # (A,) asset id of each closes column
    lot_fx: np.ndarray  # (n,) column of the entry's currency in the rates matrix; -1 = BRL
    day_rate: np.ndarray  # (n,) reais per unit of the entry's currency on its day
    money_in: np.ndarray  # (n,) float, in the entry's currency
    money_out: np.ndarray  # (n,) float, in the entry's currency
    income: np.ndarray  # (n,) float: the part of money_out that is income
    split_base: np.ndarray  # (n,) cumulative split factor of the asset on ``day``

    @property
    def size(self) -> int:
        """Number of entries."""
        return len(self.quantity)


@dataclass(frozen=True)
class SeriesState:
    """Where each client's series stands after its last computed day."""

    market_value: np.ndarray  # (C,) MV of the last day (0 before the first lot)
    growth: np.ndarray  # (C,) prod(1 + r) so far (1.0 before the first day)
    last_day: date | None = None

    @classmethod
    def empty(cls, book: Book) -> SeriesState:
        """The state before any day: no value, no growth."""
        clients = len(book.client_ids)
        return cls(np.zeros(clients), np.ones(clients), None)


def book_from_lots(lots: Table) -> Book:
    """A book of plain lots: columns client_id, asset_id, quantity, buy_price, buy_date (one
    row per lot), and optionally fx_column and buy_rate for lots in another currency than
    reais. Each lot is an entry with money in q x p0 and nothing out."""
    quantity = np.asarray(lots["quantity"], dtype=float)
    price = np.asarray(lots["buy_price"], dtype=float)
    entries: dict[str, Any] = {
        "client_id": lots["client_id"],
        "asset_id": lots["asset_id"],
        "quantity": quantity,
        "unit_value": price,
        "day": lots["buy_date"],
        "money_in": quantity * price,
    }
    for optional, name in (("fx_column", "fx_column"), ("buy_rate", "day_rate")):
        if optional in lots:
            entries[name] = lots[optional]
    return book_from_entries(entries)


def book_from_entries(entries: Table) -> Book:
    """Arrays of a book from entries with columns client_id, asset_id, quantity,
    unit_value, day, money_in, and optionally money_out (0), income (0), split_base (1), fx_column
    (-1: reais) and day_rate (1). Inputs are not mutated."""
    # numpy's stable lexsort on the columns: a pandas sort has a fixed cost that shows on
    # the daily close of a small book.
    client = np.asarray(entries["client_id"], dtype=np.int64)
    days = day_array(entries["day"])
    order = np.lexsort((days, client))  # by client, then day; ties keep input order
    client_ids, lot_group = np.unique(client[order], return_inverse=True)
    asset_ids, lot_asset = np.unique(
        np.asarray(entries["asset_id"], dtype=np.int64)[order], return_inverse=True
    )
    size = len(order)

    def column(name: str, default: float, dtype: Any = float) -> np.ndarray:
        if name in entries:
            return np.asarray(entries[name], dtype=dtype)[order]
        return np.full(size, default, dtype=dtype)

    return Book(
        client_ids=client_ids,
        group_starts=np.searchsorted(lot_group, np.arange(len(client_ids))),
        lot_group=lot_group,
        lot_asset=lot_asset,
        quantity=column("quantity", 0.0),
        unit_value=column("unit_value", 0.0),
        day=days[order],
        asset_ids=asset_ids,
        lot_fx=column("fx_column", -1, np.int64),
        day_rate=column("day_rate", 1.0),
        money_in=column("money_in", 0.0),
        money_out=column("money_out", 0.0),
        income=column("income", 0.0),
        split_base=column("split_base", 1.0),
    )


def day_array(column: object) -> np.ndarray:
    """Dates (datetime64, ``datetime.date`` or ISO strings) as a datetime64[D] array."""
    values = np.asarray(column)
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[D]")
    return pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")


def positions_in(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``ids`` sits in ``sorted_ids`` (sorted, unique), and which of them are
    there at all: index only ``position[found]``."""
    position = np.searchsorted(sorted_ids, ids)
    found = position < len(sorted_ids)
    found[found] = sorted_ids[position[found]] == ids[found]
    return position, found


def carried_closes(closes: Table, days: Sequence[date], asset_ids: np.ndarray) -> np.ndarray:
    """A days x assets matrix of closes carried forward (never backward).

    ``closes`` has columns asset_id, date, close and should include each asset's last close
    before ``days[0]`` so it can be carried into the window. NaN where no close is known yet.
    """
    return carried_closes_and_days(closes, days, asset_ids)[0]


def carried_closes_and_days(
    closes: Table, days: Sequence[date], asset_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`carried_closes` and, beside it, the date each carried close is from
    (datetime64[D], NaT where none): :func:`portfolio_series` values a lot at its buy price
    until a close from its buy date or later exists."""
    wanted = np.array([np.datetime64(d, "D") for d in days], dtype="datetime64[D]")
    result = np.full((len(wanted), len(asset_ids)), np.nan)
    from_day = np.full((len(wanted), len(asset_ids)), np.datetime64("NaT"), dtype="datetime64[D]")
    ids = np.asarray(closes["asset_id"], dtype=np.int64)
    if len(ids) == 0 or len(wanted) == 0 or len(asset_ids) == 0:
        return result, from_day
    # Plain numpy rather than a pandas pivot: the daily close on a small book is mostly
    # fixed overhead, and this is exact (one row per close date, carried with an index).
    stamps = day_array(closes["date"])
    values = np.asarray(closes["close"], dtype=float)
    # Where an (asset, date) repeats, the last row wins: sort stably by asset and date and
    # keep each run's last row.
    order = np.lexsort((stamps, ids))
    ids, stamps, values = ids[order], stamps[order], values[order]
    last = np.ones(len(ids), dtype=bool)
    last[:-1] = (ids[1:] != ids[:-1]) | (stamps[1:] != stamps[:-1])
    ids, stamps, values = ids[last], stamps[last], values[last]
    column, known = positions_in(asset_ids, ids)
    close_days, row = np.unique(stamps[known], return_inverse=True)
    wide = np.full((len(close_days), len(asset_ids)), np.nan)
    wide[row, column[known]] = values[known]
    # Forward fill down each column: index of the last row with a value, per cell.
    filled_at = np.where(~np.isnan(wide), np.arange(len(close_days))[:, None], 0)
    np.maximum.accumulate(filled_at, axis=0, out=filled_at)
    carried = wide[filled_at, np.arange(len(asset_ids))[None, :]]
    carried_day = np.where(np.isnan(carried), np.datetime64("NaT"), close_days[filled_at])
    # Each wanted day takes the last close date on or before it; none yet stays NaN.
    at = np.searchsorted(close_days, wanted, side="right") - 1
    result[at >= 0] = carried[at[at >= 0]]
    from_day[at >= 0] = carried_day[at[at >= 0]]
    return result, from_day


def _per_client(values: np.ndarray, book: Book) -> np.ndarray:
    """Sum lot columns into client columns (lots are sorted by client)."""
    if book.size == 0:
        return np.zeros((values.shape[0], 0))
    return np.add.reduceat(values, book.group_starts, axis=1)


def portfolio_series(
    book: Book,
    closes: np.ndarray,
    days: Sequence[date],
    state: SeriesState,
    rates: np.ndarray | None = None,
    close_days: np.ndarray | None = None,
    splits: np.ndarray | None = None,
) -> tuple[Columns, SeriesState]:
    """Every client's MV, money in and out, daily return and cumulative TWR on each of
    ``days``.

    ``closes`` is :func:`carried_closes` for ``days`` (as traded), and ``close_days``
    (optional) the date each of those closes is from (:func:`carried_closes_and_days`): an
    entry whose asset's latest close is older than its day is valued at its unit value, not
    at a price from before it. ``splits`` (optional, days x assets) is each asset's
    cumulative split factor on each day (the product of the ratios of its splits up to that
    day; None: no splits): an entry's shares are scaled by that factor over its own
    ``split_base``, so a split changes quantities and never a value. ``state`` says where the
    series stood the day before ``days[0]`` (:meth:`SeriesState.empty` to start from
    nothing); ``rates`` is a days x currencies matrix of reais per unit, the columns
    ``book.lot_fx`` points at (None when every entry is in reais). Returns one row per client
    and day from its first entry's day on, and the state after the last day, so a long range
    can be computed in chunks with the same result.
    """
    day_array = np.array([np.datetime64(d, "D") for d in days])
    if len(day_array) == 0 or book.size == 0:
        return _empty_frame(), state
    held = book.day[None, :] <= day_array[:, None]  # (D, n)
    prices = closes[:, book.lot_asset]  # (D, n)
    before_buy = np.isnan(prices)
    if close_days is not None:
        # NaT compares False: a missing close is already covered by the NaN above.
        before_buy |= close_days[:, book.lot_asset] < book.day[None, :]
    if splits is None:
        shares = np.broadcast_to(book.quantity, prices.shape)
        unit_value = np.where(before_buy, book.unit_value[None, :], prices)
    else:
        scale = splits[:, book.lot_asset] / book.split_base[None, :]
        shares = book.quantity[None, :] * scale
        unit_value = np.where(before_buy, book.unit_value[None, :] / scale, prices)
    unit_value = unit_value * _lot_rates(book, rates, len(day_array))
    market_value = _per_client(np.where(held, unit_value * shares, 0.0), book)
    # What a day hands to the next is what daily_returns stores (and a resumed run reads).
    carried_value = np.round(market_value, VALUE_PLACES)

    previous = np.concatenate(
        (
            [np.datetime64(state.last_day, "D")] if state.last_day else [np.datetime64("NaT")],
            day_array[:-1],
        )
    )
    joins = held & ~(book.day[None, :] <= previous[:, None])  # entered in (prev, t]
    # In reais, at the rate of the entry's day (what the client paid or received).
    flow_in = _per_client(np.where(joins, book.money_in * book.day_rate, 0.0), book)
    flow_out = _per_client(np.where(joins, book.money_out * book.day_rate, 0.0), book)
    income = _per_client(np.where(joins, book.income * book.day_rate, 0.0), book)

    prior_value = np.vstack([state.market_value[None, :], carried_value[:-1]])
    base = prior_value + flow_in
    with np.errstate(divide="ignore", invalid="ignore"):
        daily = np.where(base > 0, (market_value + flow_out) / base - 1.0, 0.0)
    # Growth as stored (1 + cumulative TWR at the Ratio scale), day after day.
    growth = np.empty_like(daily)
    carried = state.growth
    for index, day_return in enumerate(daily):
        carried = 1.0 + np.round(carried * (1.0 + day_return) - 1.0, RATIO_PLACES)
        growth[index] = carried

    first_day = book.day[book.group_starts]  # entries are sorted by day within a client
    active = first_day[None, :] <= day_array[:, None]
    # Client-major order (each client's days together): rows then land in the primary key
    # (client_id, date) in index order, so PostgreSQL touches each leaf page once.
    cols, rows = np.nonzero(active.T)
    frame = {
        "client_id": book.client_ids[cols],
        "date": np.array(list(days), dtype=object)[rows],
        "market_value": market_value[rows, cols],
        "net_flow": (flow_in - flow_out)[rows, cols],
        "daily_return": daily[rows, cols],
        "cumulative_twr": growth[rows, cols] - 1.0,
        "flow_in": flow_in[rows, cols],
        "flow_out": flow_out[rows, cols],
        "income": income[rows, cols],
    }
    return frame, SeriesState(carried_value[-1], growth[-1], days[-1])


def _lot_rates(book: Book, rates: np.ndarray | None, days: int) -> np.ndarray:
    """(days, n) reais per unit of each lot's currency: 1 for reais, else its column."""
    per_lot = np.ones((days, book.size))
    foreign = book.lot_fx >= 0
    if foreign.any():
        if rates is None:
            raise ValueError("lots in another currency need exchange rates")
        per_lot[:, foreign] = rates[:, book.lot_fx[foreign]]
    return per_lot


def _empty_frame() -> Columns:
    return {
        "client_id": np.zeros(0, dtype=np.int64),
        "date": np.zeros(0, dtype=object),
        **{name: np.zeros(0) for name in (*SERIES_COLUMNS, "flow_in", "flow_out", "income")},
    }
