"""How large a lot and a client's book may be, and how small a buy price: what Anka accepts.

The stored figures (:mod:`core.limits`) hold amounts below 10^12 (market value, net flow,
invested in ``numeric(20, 8)``) and ratios below 10^12 (returns in ``numeric(24, 12)``). A lot
the columns could never hold must be refused when it is typed or imported, not found out by
the nightly job. So:

- **a lot's cost** (quantity × buy price) must be below :data:`LOT_COST_LIMIT`;
- **a client's invested total** (the sum of quantity × buy price over all of the client's
  lots) must stay below :data:`CLIENT_INVESTED_LIMIT`: several lots that each fit can still
  add up to a market value the column cannot hold;
- **a buy price** must be at least :data:`MIN_BUY_PRICE`: a return is the price now over the
  buy price, and a buy price near zero makes it overflow ``numeric(24, 12)``.

Both amount limits are 10^11, a tenth of the column, so a book at the limit may still rise
tenfold before its market value overflows. The amounts are in each lot's own currency, not
converted to reais: the stored figures are in reais, so a book in dollars at the limit
(about 5.5 × 10^11 in reais) has less room; the margin covers that too, and the nightly job's
per-client checks (:mod:`core.limits`) keep a client that still overflows from failing anyone
else. See ``docs/metrics.md`` (What Anka accepts).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, localcontext

from core.limits import MONEY_LIMIT

# A tenth of numeric(20, 8): a 10x rise of a book at the limit still fits.
LOT_COST_LIMIT = MONEY_LIMIT / 10
CLIENT_INVESTED_LIMIT = MONEY_LIMIT / 10
# With a buy price of at least 10^-6, a return reaches 10^12 only for an asset worth 10^6 or
# more per unit in the same currency; none trades there (the dearest share, BRK-A, ~7·10^5).
MIN_BUY_PRICE = Decimal("0.000001")
# quantity and price have at most 20 significant digits each: 40 make their product exact.
_EXACT_DIGITS = 50


def lot_cost(quantity: Decimal, buy_price: Decimal) -> Decimal:
    """A lot's cost, quantity × buy price in its own currency, exactly (no rounding, so a
    cost just below a limit is never rounded up to it)."""
    with localcontext() as context:
        context.prec = _EXACT_DIGITS
        return quantity * buy_price


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of ``amounts`` (as :func:`lot_cost`, no rounding)."""
    with localcontext() as context:
        context.prec = _EXACT_DIGITS
        return sum(amounts, Decimal(0))


def lot_cost_fits(quantity: Decimal, buy_price: Decimal) -> bool:
    """Whether a lot's cost is below :data:`LOT_COST_LIMIT`."""
    return lot_cost(quantity, buy_price) < LOT_COST_LIMIT


def invested_fits(invested: Decimal) -> bool:
    """Whether a client's invested total is below :data:`CLIENT_INVESTED_LIMIT`."""
    return invested < CLIENT_INVESTED_LIMIT
