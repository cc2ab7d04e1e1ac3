"""Market-data errors; every one is an :class:`core.errors.AnkaError` with a message key."""

from __future__ import annotations

from core.errors import AnkaError


class MarketDataError(AnkaError):
    """Base for market-data failures that reach a caller."""

    key = "market.error.unavailable"


class RateLimited(MarketDataError):
    """Yahoo refused with HTTP 429 (or we are cooling down after repeated refusals)."""

    key = "market.error.rate_limited"


class UpstreamUnavailable(MarketDataError):
    """A timeout, a connection error or a 5xx from Yahoo."""

    key = "market.error.unavailable"


class MalformedResponse(MarketDataError):
    """Yahoo answered with a body we cannot read."""

    key = "market.error.malformed"


class InvalidQuery(MarketDataError):
    """A search too short, too long, or with characters no ticker or name has."""

    key = "market.error.query"
