"""Reading Yahoo's values for the Yahoo adapter: numbers, prices, errors, and the chart frame.

The numbers Yahoo sends are floats; they become exact Decimals at the 8 places prices are
stored with (``Numeric(20, 8)``), and a value no stored price can be is never rounded into
one. :func:`translate_error` maps what yfinance and the HTTP client raise to our market-data
errors. :func:`read_chart` turns yfinance's daily frame of one ticker into closes AS TRADED
and the ticker's splits and dividends (see its docstring for the arithmetic).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
from yfinance.exceptions import YFRateLimitError

from core.limits import price_fits
from core.market import port
from core.market.errors import (
    MalformedResponse,
    MarketDataError,
    RateLimited,
    UpstreamUnavailable,
)
from core.market.port import AssetEvent, HistoryBatch

log = logging.getLogger("core.market.yahoo")  # the adapter's logger, as before the split

PRICE_PLACES = Decimal("0.00000001")  # the scale of core.models.Money
# yfinance's event columns in a history frame (``actions=True``); capital gains (funds) are
# only told apart from prices, they are not an event of the port.
EVENT_COLUMNS = ("Dividends", "Stock Splits", "Capital Gains")
SPLIT_DENOMINATORS = 1000  # Yahoo's split denominators are small integers (1, 2, 10, 3...)


def number(value: Any) -> Decimal | None:
    """``value`` as an exact Decimal, which may be zero, negative or infinite; None when it is
    absent (null, NaN, a bool, not a number). Never raises."""
    if value is None or isinstance(value, bool):
        return None
    try:
        as_float = float(value)
    except OverflowError:  # an integer too large for a float: no price either way
        return Decimal("Infinity")
    except (TypeError, ValueError):
        return None
    if math.isnan(as_float):
        return None
    return Decimal(repr(as_float))


def storable(value: Decimal) -> Decimal | None:
    """``value`` at 8 places when ``prices.close`` can hold it as a price, else None.

    Checked before rounding: quantizing 1e20 to 8 places needs 29 digits and raises in the
    default 28-digit context, and 5e12 rounds fine but overflows ``numeric(20, 8)``.
    """
    return value.quantize(PRICE_PLACES) if price_fits(value) else None


def price(value: Any) -> Decimal | None:
    """A storable price from ``value``, else None (absent, or not a price we can keep)."""
    parsed = number(value)
    return None if parsed is None else storable(parsed)


def shown(value: Decimal) -> str:
    """An unstorable value, short, for a detail: ``1e+20``, ``5e+12``, ``0``, ``-1``, ``inf``."""
    return f"{float(value):g}"


def moment(value: Any, per_second: int = 1) -> datetime | None:
    """A Unix time (seconds, or milliseconds with ``per_second=1000``) as an aware datetime;
    None when absent or out of range."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(int(value) / per_second, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of the response an exception carries, if any (curl_cffi's errors)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def translate_error(exc: BaseException) -> MarketDataError:
    """Map what yfinance / the HTTP client raised to our market-data errors."""
    if isinstance(exc, MarketDataError):
        return exc
    if isinstance(exc, YFRateLimitError) or status_of(exc) == 429:
        return RateLimited()
    status = status_of(exc)
    if status is not None and status >= 500:
        return UpstreamUnavailable(status=status)
    if status is not None:
        # Any other HTTP error status is not worth retrying. Checked before the OSError
        # branch below because curl_cffi's HTTPError is an OSError.
        return MalformedResponse(status=status)
    if isinstance(exc, json.JSONDecodeError | KeyError | TypeError | ValueError):
        return MalformedResponse()
    return UpstreamUnavailable()  # timeouts, connection errors, anything else


def is_network_error(exc: BaseException) -> bool:
    """A timeout or connection error (curl_cffi's are OSErrors), not an answer."""
    return isinstance(exc, TimeoutError | OSError) or type(exc).__name__ in {
        "Timeout",
        "ReadTimeout",
        "ConnectTimeout",
        "ConnectionError",
    }


def reason(exc: MarketDataError) -> str:
    """The port's failure code for a market-data error."""
    if isinstance(exc, RateLimited):
        return port.RATE_LIMITED
    if isinstance(exc, MalformedResponse):
        return port.MALFORMED
    return port.UNAVAILABLE


# -- the chart frame ------------------------------------------------------------------------
class _OddEvent(ValueError):
    """A split or dividend no asset can have (its detail says which)."""


def split_ratio(value: Any) -> Fraction | None:
    """A split's shares after per share before, from yfinance's ``Stock Splits`` value
    (Yahoo's ``numerator / denominator`` as a float), as the exact fraction Yahoo meant:
    1/3 stays 1/3 rather than 0.3333333333333333, so that a 1:3 then a 3:1 cancel out.
    None when it is no ratio (absent, zero, negative, infinite)."""
    parsed = number(value)
    if parsed is None or not parsed.is_finite() or parsed <= 0:
        return None
    exact = Fraction(parsed)
    near = exact.limit_denominator(SPLIT_DENOMINATORS)
    return near if abs(near - exact) <= exact / 10**12 else exact


def as_decimal(ratio: Fraction) -> Decimal:
    """A ratio as a Decimal (exact when it has one: 4, 0.1, 1.5; else at 28 digits)."""
    return Decimal(ratio.numerator) / Decimal(ratio.denominator)


def as_traded(value: Decimal, factor: Fraction) -> Decimal:
    """``value`` (split-adjusted as of the fetch) times ``factor`` (the later splits)."""
    if factor == 1:
        return value
    return value * factor.numerator / factor.denominator


def event_rows_added(frame: pd.DataFrame) -> list[bool]:
    """Per row of ``frame``: whether yfinance added it only to carry an event.

    yfinance merges a dividend or split into the price row of its day; one dated before the
    first price row or after the last gets a row of its own with no prices (daily bars,
    ``utils.safe_merge_dfs``). Such a row is empty and has an event, and no price row lies
    beyond it; an empty row between price rows is a bar Yahoo sent without a close.
    """
    present = [c for c in EVENT_COLUMNS if c in frame.columns]
    if not present:
        return [False] * len(frame)
    events = frame[present].fillna(0).ne(0).any(axis=1).tolist()
    empty = frame["Close"].isna().tolist()
    candidates = [e and n for e, n in zip(events, empty, strict=True)]
    bars = [i for i, candidate in enumerate(candidates) if not candidate]
    if not bars:
        return candidates
    first, last = bars[0], bars[-1]
    return [candidate and not first < i < last for i, candidate in enumerate(candidates)]


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def _actions(
    frame: pd.DataFrame, days: list[date]
) -> tuple[list[tuple[date, Fraction]], list[tuple[date, Decimal]]]:
    """Every split (day, ratio) and dividend (day, amount as Yahoo gives it) in ``frame``,
    whatever its day; raises :class:`_OddEvent` for a value no such event can have."""
    splits: list[tuple[date, Fraction]] = []
    dividends: list[tuple[date, Decimal]] = []
    raw_splits, raw_dividends = _column(frame, "Stock Splits"), _column(frame, "Dividends")
    for day, raw_split, raw_dividend in zip(days, raw_splits, raw_dividends, strict=True):
        split = number(raw_split)
        if split is not None and split != 0:
            ratio = split_ratio(raw_split)
            if ratio is None:
                raise _OddEvent(f"split ratio {shown(split)} on {day.isoformat()}")
            splits.append((day, ratio))
        dividend = number(raw_dividend)
        if dividend is not None and dividend != 0:
            if not dividend.is_finite() or dividend < 0:
                raise _OddEvent(f"dividend {shown(dividend)} on {day.isoformat()}")
            dividends.append((day, dividend))
    return sorted(splits), sorted(dividends)


def _events(
    splits: list[tuple[date, Fraction]],
    dividends: list[tuple[date, Decimal]],
    factor: Callable[[date], Fraction],
    start: date,
    end: date,
) -> list[AssetEvent]:
    """The port's events in [start, end], dividends as traded (``factor(day)``)."""
    events = [
        AssetEvent("split", day, as_decimal(ratio), None)
        for day, ratio in splits
        if start <= day <= end
    ]
    for day, amount in dividends:
        if not start <= day <= end:
            continue
        paid = storable(as_traded(amount, factor(day)))
        if paid is None:
            raise _OddEvent(f"dividend {shown(amount)} on {day.isoformat()}")
        events.append(AssetEvent("dividend", day, None, paid))
    return sorted(events, key=lambda event: (event.ex_date, event.kind))


def read_chart(
    symbol: str, frame: pd.DataFrame, start: date, end: date, batch: HistoryBatch
) -> None:
    """Put ``symbol``'s closes as traded in [start, end] and its events into ``batch``, or
    fail the ticker.

    ``frame`` is yfinance's daily history from ``start`` through the fetch day (unadjusted
    for dividends, ``actions=True``). Yahoo's closes are split-adjusted as of the fetch day,
    and so are its dividends: for every day d, as traded = Yahoo's value x the product of
    the ratios of every split in the frame with an ex-date after d (a split on d itself:
    the close of d is already post-split). The frame reaching the fetch day is what makes
    every such split known. Splits and dividends with an ex-date in [start, end] go into
    ``batch.events`` (ex-dates as yfinance dates them, in the exchange's timezone).

    A close present but not storable once as traded (zero, negative, 10^12 or more,
    infinite, 0 at 8 places) fails the whole ticker as ``invalid_value``: a series with an
    impossible value in it is not to be trusted for its other days either; a split ratio or
    dividend no such event can have fails it as ``malformed``. An empty (null, NaN) close on
    a row Yahoo returned is left out and counted in ``dropped``; a row yfinance adds only to
    carry a dividend or split falling outside the price rows is no close and not counted
    (see :func:`event_rows_added`; an empty bar of Yahoo's at either end of the series on
    the day of a dividend or split cannot be told from one, and is not counted either).
    """
    if frame.empty:
        batch.failed[symbol] = port.NO_DATA
        batch.details[symbol] = f"no rows from {start.isoformat()} to {end.isoformat()}"
        return
    if "Close" not in frame.columns:
        batch.failed[symbol] = port.MALFORMED
        batch.details[symbol] = "chart answer without closes"
        return
    days = [pd.Timestamp(stamp).date() for stamp in frame.index]
    try:
        splits, dividends = _actions(frame, days)

        def factor(day: date) -> Fraction:
            return math.prod((ratio for when, ratio in splits if when > day), start=Fraction(1))

        events = _events(splits, dividends, factor, start, end)
    except _OddEvent as exc:
        batch.failed[symbol] = port.MALFORMED
        batch.details[symbol] = f"{exc} is no such event"
        log.warning("Yahoo history of %s: %s", symbol, batch.details[symbol])
        return
    added = event_rows_added(frame)
    closes: dict[date, Decimal] = {}
    bad: list[tuple[date, Decimal]] = []
    empty = 0
    for day, value, extra in zip(days, frame["Close"].tolist(), added, strict=True):
        if not start <= day <= end:
            continue
        parsed = number(value)
        if parsed is None:
            empty += 0 if extra else 1
            continue
        traded = as_traded(parsed, factor(day))
        close = storable(traded)
        if close is None:
            bad.append((day, traded))
        else:
            closes[day] = close
    if bad:
        day, value = bad[0]
        more = f" ({len(bad) - 1} more such close(s))" if len(bad) > 1 else ""
        batch.failed[symbol] = port.INVALID
        batch.details[symbol] = (
            f"close {shown(value)} on {day.isoformat()} is outside what prices can hold{more}"
        )
        log.warning("Yahoo history of %s: %s", symbol, batch.details[symbol])
        return
    if not closes:
        batch.failed[symbol] = port.NO_DATA
        batch.details[symbol] = f"no close from {start.isoformat()} to {end.isoformat()}" + (
            f": {empty} row(s) came with an empty close" if empty else ""
        )
        return
    batch.closes[symbol] = closes
    if events:
        batch.events[symbol] = events
    if empty:
        batch.dropped[symbol] = empty
