"""The demo adapter: deterministic synthetic prices over the bundled catalogue, fixed clock."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.market import port
from core.market.catalogue import BY_SYMBOL, CATALOGUE
from core.market.demo import TICK_S, DemoMarketData
from core.market.port import AssetEvent

# Wednesday 11 March 2026, 12:00 in São Paulo.
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 11)
YEAR = (date(2025, 3, 1), date(2026, 3, 31))
WEG_SPLIT, NVDA_SPLIT = date(2025, 4, 14), date(2024, 6, 10)  # both Mondays


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


# -- splits and dividends -------------------------------------------------------------------
def without_events(symbol: str) -> DemoMarketData:
    """The demo over ``symbol``'s listing stripped of its splits and payout: the same walk."""
    listing = replace(BY_SYMBOL[symbol], splits=(), payout=None)
    return DemoMarketData(clock=lambda: NOW, listings=[listing])


def test_a_b3_stock_splits_2_for_1_and_pays_a_quarterly_dividend(demo: DemoMarketData) -> None:
    batch = demo.history(["WEGE3.SA"], date(2025, 1, 1), date(2025, 12, 31))

    # On the 15th of March, June, September and December, or the Monday after; R$ 0.18 a
    # share after the split, so R$ 0.36 a share before it (as paid: the same income).
    assert batch.events == {
        "WEGE3.SA": [
            AssetEvent("dividend", date(2025, 3, 17), None, Decimal("0.36")),  # 15th: Sat
            AssetEvent("split", WEG_SPLIT, Decimal("2"), None),
            AssetEvent("dividend", date(2025, 6, 16), None, Decimal("0.18")),  # 15th: Sun
            AssetEvent("dividend", date(2025, 9, 15), None, Decimal("0.18")),
            AssetEvent("dividend", date(2025, 12, 15), None, Decimal("0.18")),
        ]
    }
    assert demo_at(NOW).history(["WEGE3.SA"], date(2025, 1, 1), date(2025, 12, 31)) == batch


def test_a_us_ticker_splits_10_for_1(demo: DemoMarketData) -> None:
    batch = demo.history(["NVDA"], date(2024, 6, 3), date(2024, 6, 14))

    assert batch.events == {"NVDA": [AssetEvent("split", NVDA_SPLIT, Decimal("10"), None)]}
    assert batch.closes["NVDA"][date(2024, 6, 7)] == Decimal("1188.70")
    assert batch.closes["NVDA"][NVDA_SPLIT] == Decimal("118.92")


def test_an_fii_pays_a_monthly_rendimento_as_a_dividend(demo: DemoMarketData) -> None:
    events = demo.history(["MXRF11.SA"], *YEAR).events["MXRF11.SA"]

    # The 1st of each month, or the Monday after; none after today (11 March 2026).
    assert [e.ex_date for e in events] == [
        date(2025, 3, 3),
        date(2025, 4, 1),
        date(2025, 5, 1),
        date(2025, 6, 2),
        date(2025, 7, 1),
        date(2025, 8, 1),
        date(2025, 9, 1),
        date(2025, 10, 1),
        date(2025, 11, 3),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 2),
        date(2026, 3, 2),
    ]
    assert {(e.kind, e.ratio, e.amount) for e in events} == {("dividend", None, Decimal("0.10"))}


@pytest.mark.parametrize(
    ("symbol", "ex_date", "ratio"), [("WEGE3.SA", WEG_SPLIT, 2), ("NVDA", NVDA_SPLIT, 10)]
)
def test_closes_are_as_traded_the_walk_times_the_later_splits(
    demo: DemoMarketData, symbol: str, ex_date: date, ratio: int
) -> None:
    span = (ex_date - timedelta(days=30), ex_date + timedelta(days=30))

    traded = demo.history([symbol], *span).closes[symbol]
    walk = without_events(symbol).history([symbol], *span).closes[symbol]

    assert set(traded) == set(walk)
    for day, close in traded.items():
        assert close == (walk[day] * ratio if day < ex_date else walk[day])


def test_the_price_halves_across_the_split_and_a_holders_value_does_not_jump(
    demo: DemoMarketData,
) -> None:
    closes = demo.history(["WEGE3.SA"], date(2025, 4, 11), WEG_SPLIT).closes["WEGE3.SA"]

    friday, monday = closes[date(2025, 4, 11)], closes[WEG_SPLIT]
    assert (friday, monday) == (Decimal("97.64"), Decimal("49.68"))
    # 100 shares on Friday, 200 on Monday: worth the day's move apart (+1.8 %), not half.
    assert abs(200 * monday / (100 * friday) - 1) < Decimal("0.02")


def test_events_keep_to_the_range_and_never_pass_today(demo: DemoMarketData) -> None:
    early = demo_at(datetime(2025, 4, 10, 15, 0, tzinfo=UTC))  # before the split

    batch = early.history(["WEGE3.SA"], date(2025, 3, 1), date(2025, 6, 30))

    assert [e.ex_date for e in batch.events["WEGE3.SA"]] == [date(2025, 3, 17)]
    # A day's price as traded is the same whenever it is asked.
    later = demo.history(["WEGE3.SA"], date(2025, 3, 1), date(2025, 4, 10)).closes
    assert batch.closes["WEGE3.SA"] == later["WEGE3.SA"]
    between = demo.history(["WEGE3.SA"], date(2025, 3, 18), date(2025, 4, 11))
    assert between.events == {}


def test_tickers_without_events_have_no_entry(demo: DemoMarketData) -> None:
    batch = demo.history(["PETR4.SA", "AAPL", "BTC-USD", "NOSUCH.SA"], *YEAR)

    assert batch.events == {}
    assert set(batch.closes) == {"PETR4.SA", "AAPL", "BTC-USD"}


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
