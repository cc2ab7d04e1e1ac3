"""The typed-ticker rule: a bare B3 code resolves to its ``.SA`` listing, anything else is
kept (a hand-made table of B3's ticker shapes and of other markets' tickers)."""

from __future__ import annotations

import pytest

from core.market.symbols import bare_b3_listing, resolve_symbol, search_query
from core.schemas import parse
from core.trade_schemas import AssetIn


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # B3: four-character issuer code, class number; case and spaces do not matter.
        ("PETR4", "PETR4.SA"),  # PN
        ("petr4", "PETR4.SA"),
        (" Petr4\t", "PETR4.SA"),
        ("PETR4\u00a0", "PETR4.SA"),
        ("VALE3", "VALE3.SA"),  # ON
        ("USIM5", "USIM5.SA"),  # PNA
        ("TAEE11", "TAEE11.SA"),  # unit
        ("BOVA11", "BOVA11.SA"),  # ETF
        ("mxrf11", "MXRF11.SA"),  # FII
        ("AAPL34", "AAPL34.SA"),  # BDR
        ("B3SA3", "B3SA3.SA"),  # a digit inside the issuer code
        ("M1TA34", "M1TA34.SA"),
        # The odd-lot market trades the very same share: its round-lot listing.
        ("PETR4F", "PETR4.SA"),
        ("itub4f", "ITUB4.SA"),
        ("TAEE11F", "TAEE11.SA"),
        # Already suffixed: kept.
        ("PETR4.SA", "PETR4.SA"),
        ("petr4.sa", "PETR4.SA"),
        ("PETR4F.SA", "PETR4F.SA"),
        # Other markets and shapes: kept.
        ("AAPL", "AAPL"),
        ("aapl", "AAPL"),
        ("BRK-B", "BRK-B"),
        ("usdbrl=x", "USDBRL=X"),
        ("^BVSP", "^BVSP"),
        ("BTC-USD", "BTC-USD"),
        ("7203.T", "7203.T"),
        ("0P000071W8.TO", "0P000071W8.TO"),
        # Not a B3 code: a class number of three digits, a short issuer code, an option, a
        # letter other than the odd-lot F, an issuer code ending in a digit.
        ("PETR123", "PETR123"),
        ("ABC3", "ABC3"),
        ("PETRA42", "PETRA42"),
        ("PETR4X", "PETR4X"),
        ("ABC12", "ABC12"),
        ("", ""),
    ],
)
def test_a_typed_ticker_resolves_by_the_rule(typed: str, expected: str) -> None:
    assert resolve_symbol(typed) == expected


def test_the_round_lot_code_of_a_bare_ticker() -> None:
    assert bare_b3_listing("PETR4F") == "PETR4"
    assert bare_b3_listing("TAEE11") == "TAEE11"
    assert bare_b3_listing("PETR4.SA") is None
    assert bare_b3_listing("petr4") is None  # upper-case input only (resolve_symbol's job)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("petr4", "PETR4.SA"),
        (" PETR4F ", "PETR4.SA"),
        ("petr4.sa", "petr4.sa"),
        ("Petrobras", "Petrobras"),
        ("petr", "petr"),
        ("  vale ", "vale"),
        ("aapl", "aapl"),
    ],
)
def test_the_search_box_asks_for_a_bare_codes_listing_and_anything_else_as_typed(
    typed: str, expected: str
) -> None:
    assert search_query(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), [("petr4", "PETR4.SA"), ("aapl", "AAPL")])
def test_asset_input_applies_the_rule(typed: str, expected: str) -> None:
    assert parse(AssetIn, {"symbol": typed}).symbol == expected
