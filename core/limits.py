"""What the numeric columns can hold, in one place (see :mod:`core.models`).

``Money`` is ``numeric(20, 8)``: at most 12 digits before the point, so a stored amount is
below 10^12 in absolute value and keeps 8 decimal places. ``Ratio`` is ``numeric(24, 12)``:
also 12 digits before the point, 12 after. A value outside these bounds makes PostgreSQL
refuse the whole statement ("numeric field overflow"); the code that writes checks first
with these helpers, so one bad value fails its own ticker or client, never the batch.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

MONEY_PLACES = Decimal("1E-8")
MONEY_LIMIT = Decimal(10) ** 12  # |amount| < 10^12 in numeric(20, 8)
RATIO_PLACES = Decimal("1E-12")
RATIO_LIMIT = Decimal(10) ** 12  # |ratio| < 10^12 in numeric(24, 12)


def price_fits(price: Decimal) -> bool:
    """A price ``numeric(20, 8)`` holds as a positive value: finite, below 10^12, and not
    rounded to zero at 8 places."""
    return price.is_finite() and 0 < price < MONEY_LIMIT and price.quantize(MONEY_PLACES) > 0


def money_fits(amount: Decimal) -> bool:
    """Whether ``numeric(20, 8)`` holds ``amount`` (after rounding to 8 places)."""
    return amount.is_finite() and abs(amount.quantize(MONEY_PLACES)) < MONEY_LIMIT


def money_fits_array(values: np.ndarray) -> np.ndarray:
    """Element-wise :func:`money_fits` for floats (NaN never fits)."""
    return np.isfinite(values) & (np.abs(values) < float(MONEY_LIMIT))


def ratio_fits_array(values: np.ndarray) -> np.ndarray:
    """Element-wise: whether ``numeric(24, 12)`` holds each float (NaN never fits)."""
    return np.isfinite(values) & (np.abs(values) < float(RATIO_LIMIT))
