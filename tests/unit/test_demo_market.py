"""The demo adapter: deterministic synthetic prices over the bundled catalogue, fixed clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.market import port
from core.market.catalogue import CATALOGUE
from core.market.demo import TICK_S, DemoMarketData

# Wednesday 11 March 2026, 12:00 in São Paulo.
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 11)
YEAR = (date(2025, 3, 1), date(2026, 3, 31))


def demo_at(moment: datetime) -> DemoMarketData:
    return DemoMarketData(clock=lambda: moment)


@pytest.fixture
def demo() -> DemoMarketData:
    return demo_at(NOW)


# -- history --------------------------------------------------------------------------------
def test_history_is_deterministic(demo: DemoMarketData) -> None:
    first = demo.history(["PETR4.SA", "AAPL"], *YEAR)
    again = demo_at(NOW).history(["PETR4.SA", "AAPL"], *YEAR)

    assert first.closes == again.closes
    assert first.failed == {}
    assert len(first.closes["PETR4.SA"]) > 250


def test_different_tickers_get_different_histories(demo: DemoMarketData) -> None:
    symbols = [listing.symbol for listing in CATALOGUE]
    closes = demo.history(symbols, *YEAR).closes

    assert set(closes) == set(symbols)
    series = [tuple(c.values()) for c in closes.values()]
    assert len(set(series)) == len(symbols)  # every ticker walks its own way
    # Same company, different share classes: related levels, different walks.
    assert closes["PETR3.SA"] != closes["PETR4.SA"]


def test_history_never_goes_past_today(demo: DemoMarketData) -> None:
    closes = demo.history(["VALE3.SA"], TODAY - timedelta(days=30), TODAY + timedelta(days=60))

    days = sorted(closes.closes["VALE3.SA"])
    assert days[-1] == TODAY
    assert all(day <= TODAY for day in days)

    future = demo.history(["VALE3.SA"], TODAY + timedelta(days=1), TODAY + timedelta(days=30))
    assert future.closes == {}
    assert future.failed == {"VALE3.SA": port.NO_DATA}


def test_today_is_taken_in_sao_paulo() -> None:
    # 01:30 UTC on Thursday is still Wednesday evening in São Paulo.
    late = demo_at(datetime(2026, 3, 12, 1, 30, tzinfo=UTC))

    closes = late.history(["ITUB4.SA"], date(2026, 3, 9), date(2026, 3, 13)).closes["ITUB4.SA"]

    assert max(closes) == date(2026, 3, 11)


def test_history_has_weekdays_only(demo: DemoMarketData) -> None:
    closes = demo.history(["BBAS3.SA", "BTC-USD"], *YEAR).closes

    for series in closes.values():
        assert all(day.weekday() < 5 for day in series)
        assert YEAR[0] <= min(series)
        assert max(series) <= TODAY
    # Every weekday from Mon 2025-03-03 to Wed 2026-03-11, nothing skipped:
    # 52 whole weeks (260) + 2-6 March (5) + 9-11 March (3).
    assert len(closes["BBAS3.SA"]) == 268


def test_weekend_history_ends_on_friday() -> None:
    saturday = demo_at(datetime(2026, 3, 14, 15, 0, tzinfo=UTC))

    closes = saturday.history(["KO"], date(2026, 3, 9), date(2026, 3, 15)).closes["KO"]

    assert sorted(closes) == [date(2026, 3, d) for d in (9, 10, 11, 12, 13)]


def test_closes_are_positive_decimals_in_cents(demo: DemoMarketData) -> None:
    closes = demo.history(["MGLU3.SA", "MXRF11.SA"], *YEAR).closes

    for series in closes.values():
        for price in series.values():
            assert isinstance(price, Decimal)
            assert price > 0
            assert price == price.quantize(Decimal("0.01"))


# -- quotes ---------------------------------------------------------------------------------
def test_quote_moves_between_ticks_and_is_stable_within_one() -> None:
    tick_start = datetime.fromtimestamp(int(NOW.timestamp()) // TICK_S * TICK_S, UTC)
    within = [demo_at(tick_start + timedelta(seconds=s)) for s in (0, 2, TICK_S - 0.5)]
    prices = {d.quotes(["BTC-USD"]).quotes["BTC-USD"].price for d in within}
    assert len(prices) == 1

    ticks = [demo_at(tick_start + timedelta(seconds=TICK_S * n)) for n in range(12)]
    quotes = [d.quotes(["BTC-USD"]).quotes["BTC-USD"] for d in ticks]
    moved = [a.price != b.price for a, b in itertools.pairwise(quotes)]
    assert all(moved)
    assert [q.market_time for q in quotes] == [
        tick_start + timedelta(seconds=TICK_S * n) for n in range(12)
    ]
    assert len({q.previous_close for q in quotes}) == 1  # the day's previous close stays


def test_quote_previous_close_is_the_last_close_before_today(demo: DemoMarketData) -> None:
    symbols = ["PETR4.SA", "AAPL", "USDBRL=X"]
    batch = demo.quotes(symbols)
    closes = demo.history(symbols, date(2026, 3, 1), TODAY).closes

    for symbol in symbols:
        quote = batch.quotes[symbol]
        assert quote.previous_close == closes[symbol][date(2026, 3, 10)]
        assert quote.change_pct == quote.price / quote.previous_close - 1
        # Synthetic intraday moves stay plausible.
        assert abs(quote.change_pct) < Decimal("0.25")


def test_quote_fields_come_from_the_catalogue(demo: DemoMarketData) -> None:
    batch = demo.quotes(["petr4.sa", "AAPL"])

    petr4 = batch.quotes["PETR4.SA"]  # symbols are normalised
    assert petr4.currency == "BRL"
    assert petr4.exchange == "São Paulo"
    assert petr4.name == "Petróleo Brasileiro S.A. - Petrobras"
    assert petr4.source == "demo"
    assert petr4.first_trade_date == date(2015, 1, 2)
    assert petr4.stale is False
    assert petr4.price == petr4.price.quantize(Decimal("0.01")) > 0
    assert batch.quotes["AAPL"].currency == "USD"


def test_unknown_ticker_fails_not_found(demo: DemoMarketData) -> None:
    quotes = demo.quotes(["PETR4.SA", "NOPE3.SA"])
    history = demo.history(["NOPE3.SA", "VALE3.SA"], *YEAR)

    assert quotes.failed == {"NOPE3.SA": port.NOT_FOUND}
    assert set(quotes.quotes) == {"PETR4.SA"}
    assert history.failed == {"NOPE3.SA": port.NOT_FOUND}
    assert set(history.closes) == {"VALE3.SA"}


@pytest.mark.parametrize(("count", "calls"), [(1, 1), (100, 1), (101, 2), (250, 3)])
def test_one_call_per_batch_of_100(demo: DemoMarketData, count: int, calls: int) -> None:
    known = [listing.symbol for listing in CATALOGUE]
    symbols = (known + [f"X{i:03d}.SA" for i in range(count)])[:count]

    demo.quotes(symbols + [s.lower() for s in symbols])  # duplicates count once
    demo.history(symbols, date(2026, 3, 2), date(2026, 3, 6))

    assert demo.calls == {"quotes": calls, "history": calls}


# -- search ---------------------------------------------------------------------------------
def test_search_ranks_the_exact_symbol_first(demo: DemoMarketData) -> None:
    symbols = [m.symbol for m in demo.search("PETR4").matches]

    assert symbols[0] == "PETR4.SA"
    assert demo.search("petr4.sa").matches[0].symbol == "PETR4.SA"
    assert [m.symbol for m in demo.search("PETR").matches][:2] == ["PETR3.SA", "PETR4.SA"]
    # A symbol that starts with the query beats a name that merely contains it.
    assert demo.search("ITUB").matches[0].symbol == "ITUB4.SA"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("petrobras", ["PETR3.SA", "PETR4.SA"]),
        ("PETRÓLEO", ["PETR3.SA", "PETR4.SA"]),
        ("itau", ["ITSA4.SA", "ITUB4.SA"]),
        ("Itaú", ["ITSA4.SA", "ITUB4.SA"]),
        ("eletrica", ["ELET3.SA"]),
        ("  apple ", ["AAPL"]),
        ("xyzzy", []),
    ],
)
def test_search_ignores_case_and_accents(
    demo: DemoMarketData, query: str, expected: list[str]
) -> None:
    assert [m.symbol for m in demo.search(query).matches] == expected


def test_search_match_fields_and_limit(demo: DemoMarketData) -> None:
    (vale,) = demo.search("vale").matches

    assert vale == port.SymbolMatch("VALE3.SA", "Vale S.A.", "São Paulo", "Equity", "BRL")
    assert len(demo.search("sa", limit=4).matches) == 4
    assert demo.calls["search"] == 2
