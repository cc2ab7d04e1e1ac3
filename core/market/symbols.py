"""Tickers as people type them: a bare B3 code resolves to its Yahoo listing (``.SA``).

Brazilians type B3 tickers without an exchange suffix (``PETR4``, ``petr4``); market data
(Yahoo and the demo catalogue alike) knows them as ``PETR4.SA``. :func:`resolve_symbol` is
the one rule, applied where a typed ticker enters (:class:`core.trade_schemas.AssetIn`, so the lot
forms, the allocations import and every service caller get it) and where the assets page's
search box queries.

A B3 ticker is an issuer code of four characters (letters, and digits inside a few: ``B3SA``
of B3 itself, ``M1TA`` of the Meta BDR), starting and ending with a letter, followed by the
share class number, one or two digits: 3 (ON), 4 to 8 (PN, PNA...), 11 (units, ETFs, FIIs),
31 to 35 and 39 (BDRs)... A trailing ``F`` names the odd-lot (fractional) market, where the
very same share trades (``PETR4F`` is ``PETR4``): it resolves to the round-lot listing, so a
fractional buy is a lot of the same asset and position. Only the bare form is rewritten: a
ticker with a suffix (``PETR4.SA``, ``PETR4F.SA``) or any other shape (``AAPL``, ``BRK-B``,
``USDBRL=X``, ``^BVSP``, ``7203.T``) is kept as typed, upper-cased and trimmed.
"""

from __future__ import annotations

import re

B3_SUFFIX = ".SA"
# Issuer code (letter, two letters or digits, letter), class number, optional odd-lot F.
_B3_CODE = re.compile(r"^(?P<listing>[A-Z][A-Z0-9]{2}[A-Z][0-9]{1,2})(?P<odd_lot>F?)$")


def bare_b3_listing(symbol: str) -> str | None:
    """The round-lot B3 code of a bare, upper-case B3 ticker (``PETR4F`` -> ``PETR4``),
    or None when ``symbol`` is not one (it has a suffix, or another shape)."""
    match = _B3_CODE.match(symbol)
    return match.group("listing") if match else None


def resolve_symbol(raw: str) -> str:
    """A typed ticker as market data knows it: trimmed, upper-cased, and a bare B3 code
    suffixed with ``.SA`` (``" petr4 "`` -> ``PETR4.SA``, ``PETR4F`` -> ``PETR4.SA``);
    anything else is kept (``aapl`` -> ``AAPL``, ``PETR4.SA``, ``USDBRL=X``)."""
    symbol = raw.strip().upper()
    listing = bare_b3_listing(symbol)
    return symbol if listing is None else listing + B3_SUFFIX


def search_query(raw: str) -> str:
    """What the search box asks market data for: a bare B3 code as its listing
    (``petr4`` -> ``PETR4.SA``, so the odd-lot ``PETR4F`` finds it too), any other query
    (a name, a partial code such as ``PETR``, a ticker with its suffix) trimmed, as typed."""
    query = raw.strip()
    return resolve_symbol(query) if bare_b3_listing(query.upper()) else query
