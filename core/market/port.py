"""The market-data port: what every adapter answers, and the shapes it answers with.

Prices are ``Decimal`` in the instrument's currency. A ticker that could not be priced is
listed in ``failed`` with a reason code (see :data:`FAILURE_REASONS`) and never appears as
a made-up, zero or NaN price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

# Why a ticker failed; the dashboard translates each as ``market.failed.<code>``.
NOT_FOUND = "not_found"
NO_DATA = "no_data"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
MALFORMED = "malformed"
INVALID = "invalid_value"  # a price beyond what prices.close holds (zero, negative, >= 10^12)
NOT_FETCHED = "not_fetched"  # not asked before the fetch's deadline or its back-offs ran out
FAILURE_REASONS = (NOT_FOUND, NO_DATA, RATE_LIMITED, UNAVAILABLE, MALFORMED, INVALID, NOT_FETCHED)

MAX_BATCH = 100  # Yahoo rejects quote batches above ~100 symbols
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9^][A-Z0-9.=\-^]{0,23}$")


def normalize_symbol(raw: str) -> str:
    """Upper-case and trim a ticker (``petr4.sa`` -> ``PETR4.SA``)."""
    return raw.strip().upper()


def is_valid_symbol(symbol: str) -> bool:
    """True for a plausible Yahoo ticker: letters, digits and ``. = - ^``, up to 24 chars."""
    return bool(SYMBOL_PATTERN.match(symbol))


def chunks(symbols: list[str], size: int = MAX_BATCH) -> list[list[str]]:
    """Split ``symbols`` into batches Yahoo accepts."""
    return [symbols[i : i + size] for i in range(0, len(symbols), size)]


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """What the cache did for an answer (shown in the UI, like an X-Cache header)."""

    status: str  # "hit", "miss", "stale" or "bypass" (Redis unavailable)
    key: str
    ttl_s: int | None = None
    age_s: float | None = None  # seconds since the value was fetched upstream


@dataclass(frozen=True, slots=True)
class SymbolMatch:
    """One search result."""

    symbol: str
    name: str
    exchange: str | None
    asset_type: str | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest price of a ticker and the previous close it moved from."""

    symbol: str
    price: Decimal
    previous_close: Decimal | None
    currency: str | None
    market_time: datetime | None
    source: str
    stale: bool = False
    name: str | None = None
    exchange: str | None = None
    first_trade_date: date | None = None

    @property
    def change_pct(self) -> Decimal | None:
        """Daily change as a ratio: price / previous close - 1 (None without a close)."""
        if not self.previous_close:
            return None
        return self.price / self.previous_close - 1

    def as_stale(self) -> Quote:
        """The same quote marked as served from an expired cache entry."""
        return replace(self, stale=True)


@dataclass(slots=True)
class SearchResult:
    """Matches for a search, with the cache facts."""

    matches: list[SymbolMatch]
    cache: CacheInfo | None = None


@dataclass(slots=True)
class QuoteBatch:
    """Quotes for many tickers: the priced ones, and the failed ones with a reason code."""

    quotes: dict[str, Quote] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    cache: dict[str, CacheInfo] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssetEvent:
    """A split or a dividend of an asset, as traded on its ex-date.

    ``kind`` is ``"split"`` or ``"dividend"``. A split's ``ratio`` is the shares after per
    share before (4 for a 4-for-1, 0.1 for a 10-into-1 grupamento; Yahoo's numerator over
    denominator) and its ``amount`` None; a dividend's ``amount`` is the gross income per
    share as paid on ``ex_date`` (not adjusted for later splits) and its ``ratio`` None.
    """

    kind: str
    ex_date: date
    ratio: Decimal | None
    amount: Decimal | None


@dataclass(slots=True)
class HistoryBatch:
    """Daily closes per ticker (trading days only), the ticker's events, and the failures.

    Closes are AS TRADED: the price each day as it traded then, not adjusted for the splits
    that came after it (a 4-for-1 split quarters the close from its ex-date on; the closes
    before it are the pre-split prices). ``events`` maps a priced ticker to its splits and
    dividends with an ex-date in [start, end], sorted by ex-date (then kind); a ticker
    without any has no entry. ``failed`` maps a ticker to its reason code, ``details`` to
    what exactly went wrong when there is more to say, and ``dropped`` counts the closes the
    source sent empty (a row with a null close) for a ticker that was otherwise priced."""

    closes: dict[str, dict[date, Decimal]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    cache: dict[str, CacheInfo] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    events: dict[str, list[AssetEvent]] = field(default_factory=dict)


class MarketData(Protocol):
    """What the rest of Anka asks of market data."""

    name: str

    def search(self, query: str, limit: int = 10) -> SearchResult:
        """Tickers matching ``query`` (already validated), best first."""
        ...

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        """Latest quotes for ``symbols``, batched upstream."""
        ...

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        """Daily closes as traded for ``symbols`` from ``start`` to ``end`` inclusive, with
        their splits and dividends in that range."""
        ...
