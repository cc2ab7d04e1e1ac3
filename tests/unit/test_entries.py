"""The portfolio series of a ledger: sells, income and splits (core.analytics.entries with
core.analytics.returns), against hand-checked tables and properties.

Definitions (docs/metrics.md): MV_t = sum of Q_t x C_t; In_t = money paid for buys on t (at
the start of the day); Out_t = sells net of fees plus income net of tax on t (at its end);
r_t = (MV_t + Out_t) / (MV_{t-1} + In_t) - 1, 0 where the denominator is 0;
TWR = prod(1 + r_t) - 1. Closes are as traded. "Exact" means within 1e-9.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyxirr import xirr

from core.analytics.entries import Splits, factor_on, split_matrix
from core.analytics.ledger import Kind, Line, Oversold, walk
from core.analytics.metrics import client_metrics
from core.analytics.returns import (
    Book,
    Columns,
    SeriesState,
    book_from_entries,
    book_from_lots,
    carried_closes_and_days,
    portfolio_series,
)

D = Decimal
EXACT = 1e-9
START = date(2025, 3, 3)  # a Monday


# The definitions line by line (core.analytics.ledger.walk), as entry columns: the
# reference the scheduler's vectorised book (ledger_entries) is checked against.
def book_entries(ledgers: Mapping[tuple[int, int], Sequence[Line]], splits: Splits) -> Columns:
    """The entries of every (client, asset) ledger as columns client_id, asset_id, day,
    quantity, unit_value, money_in, money_out, income and split_base (the asset's split factor on
    the entry's day). Raises :class:`core.analytics.ledger.Oversold` for a ledger that sells
    more than it holds (the services refuse such a ledger before it is stored)."""
    client_ids: list[int] = []
    asset_ids: list[int] = []
    days: list[date] = []
    numbers: list[tuple[float, float, float, float, float, float]] = []
    for (client_id, asset_id), lines in ledgers.items():
        asset_splits = splits.get(asset_id, ())
        for entry in walk(lines).entries:
            client_ids.append(client_id)
            asset_ids.append(asset_id)
            days.append(entry.day)
            numbers.append(
                (
                    float(entry.quantity),
                    float(entry.unit_value),
                    float(entry.money_in),
                    float(entry.money_out),
                    float(entry.income),
                    factor_on(asset_splits, entry.day),
                )
            )
    table = np.array(numbers, dtype=float).reshape(-1, 6)
    return {
        "client_id": np.asarray(client_ids, dtype=np.int64),
        "asset_id": np.asarray(asset_ids, dtype=np.int64),
        "day": np.array([np.datetime64(d, "D") for d in days], dtype="datetime64[D]"),
        "quantity": table[:, 0],
        "unit_value": table[:, 1],
        "money_in": table[:, 2],
        "money_out": table[:, 3],
        "income": table[:, 4],
        "split_base": table[:, 5],
    }


def day(n: int) -> date:
    return START + timedelta(days=n)


def buy(n: int, quantity: str, price: str, fees: str = "0") -> Line:
    return Line(Kind.BUY, day(n), quantity=D(quantity), price=D(price), fees=D(fees))


def sell(n: int, quantity: str, price: str, fees: str = "0") -> Line:
    return Line(Kind.SELL, day(n), quantity=D(quantity), price=D(price), fees=D(fees))


def closes_of(asset_id: int, prices: Sequence[float]) -> dict[str, np.ndarray]:
    """Closes of one asset on days 0, 1, 2, ..."""
    return {
        "asset_id": np.full(len(prices), asset_id, dtype=np.int64),
        "date": np.array([np.datetime64(day(n), "D") for n in range(len(prices))]),
        "close": np.asarray(prices, dtype=float),
    }


def run(
    ledgers: Mapping[tuple[int, int], Sequence[Line]],
    closes: Mapping[str, np.ndarray],
    days: int,
    splits: Mapping[int, Sequence[tuple[date, Decimal]]] | None = None,
) -> tuple[Columns, Columns, Book]:
    """The series and the last day's metrics of ``ledgers`` over days 0 .. days - 1."""
    book = book_from_entries(book_entries(ledgers, splits or {}))
    wanted = [day(n) for n in range(days)]
    matrix, close_days = carried_closes_and_days(closes, wanted, book.asset_ids)
    frame, state = portfolio_series(
        book,
        matrix,
        wanted,
        SeriesState.empty(book),
        close_days=close_days,
        splits=split_matrix(splits or {}, wanted, book.asset_ids),
    )
    return frame, client_metrics(book, state, wanted[-1]), book


def test_a_split_moves_neither_the_value_nor_the_daily_return() -> None:
    # 10 bought at 808.48 on day 0; 4-for-1 on day 1, as traded 202.12, then 210.
    # MV: 8084.80, 40 x 202.12 = 8084.80, 40 x 210 = 8400; r: 0, 0, 8400 / 8084.8 - 1
    split = Line(Kind.SPLIT, day(1), ratio=D(4))
    frame, metrics, _ = run(
        {(1, 7): [buy(0, "10", "808.48"), split]},
        closes_of(7, [808.48, 202.12, 210.0]),
        3,
        {7: [(day(1), D(4))]},
    )

    assert frame["market_value"] == pytest.approx([8084.8, 8084.8, 8400.0], abs=EXACT)
    assert frame["daily_return"] == pytest.approx([0.0, 0.0, 8400 / 8084.8 - 1], abs=EXACT)
    assert metrics["accumulated_return"][0] == pytest.approx(8400 / 8084.8 - 1, abs=EXACT)


def test_without_the_split_the_same_closes_look_like_a_75_percent_loss() -> None:
    frame, _, _ = run({(1, 7): [buy(0, "10", "808.48")]}, closes_of(7, [808.48, 202.12]), 2)

    assert frame["daily_return"][1] == pytest.approx(202.12 / 808.48 - 1, abs=EXACT)


def test_a_dividend_is_money_out_at_the_end_of_its_ex_date() -> None:
    # 100 at 10; ex-date day 1: 0.50 a share (50), the close drops to 9.60:
    # r_1 = (960 + 50) / 1000 - 1 = 0.01; day 2 at 9.90: r_2 = 990 / 960 - 1 = 0.03125
    dividend = Line(Kind.DIVIDEND, day(1), price=D("0.50"))
    frame, metrics, _ = run(
        {(1, 7): [buy(0, "100", "10"), dividend]}, closes_of(7, [10, 9.6, 9.9]), 3
    )

    assert frame["flow_out"] == pytest.approx([0, 50, 0], abs=EXACT)
    assert frame["daily_return"] == pytest.approx([0, 0.01, 0.03125], abs=EXACT)
    assert frame["cumulative_twr"][-1] == pytest.approx(1.01 * 1.03125 - 1, abs=EXACT)
    # accumulated: (990 + 50 - 1000) / 1000 = 0.04
    assert metrics["accumulated_return"][0] == pytest.approx(0.04, abs=EXACT)


def test_jcp_counts_net_of_its_withholding() -> None:
    # 100 x 1.00 = 100 gross, 15 % withheld: 85; r_1 = (1000 + 85) / 1000 - 1
    jcp = Line(Kind.JCP, day(1), price=D("1"), ratio=D("0.15"))
    frame, _, _ = run({(1, 7): [buy(0, "100", "10"), jcp]}, closes_of(7, [10, 10]), 2)

    assert frame["daily_return"][1] == pytest.approx(0.085, abs=EXACT)


def test_a_partial_sell_is_money_out_and_the_rest_stays_valued() -> None:
    # 100 at 10 (day 0, close 10); sell 40 at 11 with fees 2 on day 1 (close 11):
    # MV_1 = 60 x 11 = 660, Out_1 = 438; r_1 = (660 + 438) / 1000 - 1 = 0.098
    # day 2 close 12: MV = 720, r_2 = 720 / 660 - 1
    frame, metrics, _ = run(
        {(1, 7): [buy(0, "100", "10"), sell(1, "40", "11", "2")]}, closes_of(7, [10, 11, 12]), 3
    )

    assert frame["market_value"] == pytest.approx([1000, 660, 720], abs=EXACT)
    assert frame["flow_out"] == pytest.approx([0, 438, 0], abs=EXACT)
    assert frame["net_flow"] == pytest.approx([1000, -438, 0], abs=EXACT)
    assert frame["daily_return"] == pytest.approx([0, 0.098, 720 / 660 - 1], abs=EXACT)
    # IRR: -1000 on day 0, +438 on day 1, +720 on day 2
    expected = xirr([day(0), day(1), day(2)], [-1000, 438, 720])
    assert metrics["irr"][0] == pytest.approx(expected, rel=1e-9)


def test_a_full_sell_leaves_no_value_and_a_defined_irr() -> None:
    # 10 at 100, sold at 110 two days later: MV 0 after; IRR of -1000 and +1100
    frame, metrics, _ = run(
        {(1, 7): [buy(0, "10", "100"), sell(2, "10", "110")]}, closes_of(7, [100, 105, 110]), 4
    )

    assert frame["market_value"] == pytest.approx([1000, 1050, 0, 0], abs=EXACT)
    assert frame["daily_return"] == pytest.approx([0, 0.05, 1100 / 1050 - 1, 0], abs=EXACT)
    assert metrics["market_value"][0] == 0
    assert metrics["irr"][0] == pytest.approx(xirr([day(0), day(2)], [-1000, 1100]), rel=1e-9)
    assert metrics["accumulated_return"][0] == pytest.approx(0.1, abs=EXACT)


def test_fees_on_a_buy_are_money_in() -> None:
    # 100 at 10 with fees 10: In 1010, MV 1000: r_0 = 1000 / 1010 - 1
    frame, metrics, _ = run({(1, 7): [buy(0, "100", "10", "10")]}, closes_of(7, [10]), 1)

    assert frame["flow_in"][0] == pytest.approx(1010, abs=EXACT)
    assert frame["daily_return"][0] == pytest.approx(1000 / 1010 - 1, abs=EXACT)
    assert metrics["invested"][0] == pytest.approx(1010, abs=EXACT)


def test_bonus_shares_add_value_at_the_next_close_without_money_in() -> None:
    # 100 at 10; a 10 % bonus on day 1 (10 new shares, assigned cost 5), the close as
    # traded 9.50: MV_1 = 110 x 9.5 = 1045, no money in, r_1 = 1045 / 1000 - 1 = 0.045
    bonus = Line(Kind.BONUS, day(1), ratio=D("0.1"), price=D("5"))
    frame, _, _ = run({(1, 7): [buy(0, "100", "10"), bonus]}, closes_of(7, [10, 9.5]), 2)

    assert frame["market_value"] == pytest.approx([1000, 1045], abs=EXACT)
    assert frame["flow_in"] == pytest.approx([1000, 0], abs=EXACT)
    assert frame["daily_return"][1] == pytest.approx(0.045, abs=EXACT)


def test_the_vectorised_book_pays_no_income_on_bonus_shares_of_the_same_ex_date() -> None:
    # The hand-checked ledger case (tests/unit/test_ledger.py) through ledger_entries: 200
    # held, a 10 % bonus and 0.50 a share on the same ex-date: income 100, 220 held after.
    from core.analytics.entries import ledger_entries

    movements = {
        "id": np.array([1]),
        "client_id": np.array([1], dtype=np.int64),
        "asset_id": np.array([7], dtype=np.int64),
        "kind": np.array(["buy"], dtype=object),
        "date": np.array([np.datetime64(day(0), "D")]),
        "quantity": np.array([200.0]),
        "price": np.array([15.0]),
        "fees": np.array([0.0]),
        "net": np.array([0.0]),
    }
    events = {
        "asset_id": np.array([7, 7], dtype=np.int64),
        "kind": np.array(["dividend", "bonus"], dtype=object),
        "ex_date": np.array([np.datetime64(day(1), "D")] * 2),
        "ratio": np.array([0.0, 0.1]),
        "value": np.array([0.5, 4.5]),
    }
    entries, _, _ = ledger_entries(movements, events)

    assert entries["income"].sum() == pytest.approx(100, abs=EXACT)
    assert (entries["quantity"] / entries["split_base"]).sum() == pytest.approx(220, abs=EXACT)


def test_factor_on_and_the_split_matrix() -> None:
    splits = [(day(2), D(4)), (day(5), D("0.5"))]

    assert [factor_on(splits, day(n)) for n in (1, 2, 4, 5, 9)] == [1, 4, 4, 2, 2]
    matrix = split_matrix({7: splits}, [day(1), day(2), day(5)], np.array([3, 7]))
    assert matrix is not None
    assert matrix.tolist() == [[1, 1], [1, 4], [1, 2]]
    assert split_matrix({}, [day(1)], np.array([3])) is None


# -- properties ---------------------------------------------------------------------------
lot = st.tuples(
    st.integers(1, 4),  # client
    st.integers(1, 3),  # asset
    st.integers(1, 500),  # quantity
    st.integers(1, 10_000),  # price in cents
    st.integers(0, 9),  # buy day
)
prices = st.lists(st.integers(50, 20_000), min_size=10, max_size=10)


def random_closes(paths: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
    parts = [closes_of(asset, [p / 100 for p in path]) for asset, path in enumerate(paths, 1)]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


@settings(max_examples=60, deadline=None)
@given(st.lists(lot, min_size=1, max_size=12), st.lists(prices, min_size=3, max_size=3))
def test_with_buys_only_the_figures_equal_the_lot_figures(
    rows: list[tuple[int, int, int, int, int]], paths: list[list[int]]
) -> None:
    ledgers: dict[tuple[int, int], list[Line]] = {}
    for client, asset, quantity, cents, n in rows:
        line = Line(Kind.BUY, day(n), quantity=D(quantity), price=D(cents) / 100)
        ledgers.setdefault((client, asset), []).append(line)
    closes = random_closes(paths)
    frame, metrics, _ = run(ledgers, closes, 10)

    lots = {
        "client_id": np.array([r[0] for r in rows]),
        "asset_id": np.array([r[1] for r in rows]),
        "quantity": np.array([float(r[2]) for r in rows]),
        "buy_price": np.array([float(D(r[3]) / 100) for r in rows]),
        "buy_date": np.array([np.datetime64(day(r[4]), "D") for r in rows]),
    }
    book = book_from_lots(lots)
    wanted = [day(n) for n in range(10)]
    matrix, close_days = carried_closes_and_days(closes, wanted, book.asset_ids)
    expected, state = portfolio_series(
        book, matrix, wanted, SeriesState.empty(book), close_days=close_days
    )
    for name in ("market_value", "net_flow", "daily_return", "cumulative_twr"):
        assert np.asarray(frame[name]) == pytest.approx(np.asarray(expected[name]), abs=1e-6)
    old = client_metrics(book, state, wanted[-1])
    assert metrics["invested"] == pytest.approx(old["invested"], abs=1e-6)
    assert [x is None for x in metrics["irr"]] == [x is None for x in old["irr"]]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(lot, min_size=1, max_size=12),
    st.lists(prices, min_size=3, max_size=3),
    st.integers(1, 9),
    st.sampled_from(["2", "4", "10", "0.5", "0.1"]),
)
def test_a_split_never_changes_a_value_or_a_daily_return(
    rows: list[tuple[int, int, int, int, int]], paths: list[list[int]], ex_day: int, ratio: str
) -> None:
    # Asset 1 splits on ex_day: as traded, its closes from then on are divided by the
    # ratio; lots bought from then on are in the new units (quantity x ratio, price / ratio).
    r = D(ratio)
    plain: dict[tuple[int, int], list[Line]] = {}
    split: dict[tuple[int, int], list[Line]] = {}
    for client, asset, quantity, cents, n in rows:
        q, p = D(quantity), D(cents) / 100
        plain.setdefault((client, asset), []).append(Line(Kind.BUY, day(n), quantity=q, price=p))
        if asset == 1 and n >= ex_day:
            q, p = q * r, p / r
        split.setdefault((client, asset), []).append(Line(Kind.BUY, day(n), quantity=q, price=p))
    for key in split:
        if key[1] == 1:
            split[key].append(Line(Kind.SPLIT, day(ex_day), ratio=r))
    closes = random_closes(paths)
    traded = {k: v.copy() for k, v in closes.items()}
    after = (traded["asset_id"] == 1) & (traded["date"] >= np.datetime64(day(ex_day), "D"))
    traded["close"][after] = traded["close"][after] / float(r)

    before_frame, _, _ = run(plain, closes, 10)
    after_frame, _, _ = run(split, traded, 10, {1: [(day(ex_day), r)]})

    for name in ("market_value", "daily_return", "cumulative_twr"):
        assert np.asarray(after_frame[name]) == pytest.approx(
            np.asarray(before_frame[name]), rel=1e-9, abs=1e-7
        )


@settings(max_examples=40, deadline=None)
@given(prices, st.lists(st.integers(0, 300), min_size=10, max_size=10))
def test_buy_and_hold_with_income_compounds_price_and_income(
    path: list[int], dividends: list[int]
) -> None:
    # TWR = prod over t >= 1 of (C_t + d_t) / C_{t-1} - 1 for one share held from day 0 at
    # the day-0 close (r_0 = 0), d_t the income per share on t.
    closes_list = [p / 100 for p in path]
    lines = [buy(0, "1", str(D(path[0]) / 100))]
    lines += [
        Line(Kind.DIVIDEND, day(n), price=D(cents) / 1000)
        for n, cents in enumerate(dividends)
        if n >= 1 and cents
    ]
    frame, _, _ = run({(1, 7): lines}, closes_of(7, closes_list), 10)

    growth = 1.0
    for n in range(1, 10):
        growth *= (closes_list[n] + dividends[n] / 1000) / closes_list[n - 1]
    assert frame["cumulative_twr"][-1] == pytest.approx(growth - 1, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),  # client
            st.integers(1, 2),  # asset
            st.sampled_from(["buy", "buy", "sell", "income"]),
            st.integers(1, 300),  # quantity (a sell: a share of what is held, in %)
            st.integers(100, 5_000),  # price in cents
            st.integers(0, 9),  # day
        ),
        min_size=1,
        max_size=14,
    ),
    st.lists(
        st.tuples(
            st.integers(1, 2),
            st.sampled_from(["split", "dividend", "jcp", "bonus"]),
            st.integers(1, 9),
        ),
        max_size=4,
        unique_by=lambda e: (e[0], e[1], e[2]),
    ),
    st.lists(prices, min_size=2, max_size=2),
)
# Found by this test: a bonus and a dividend on one ex-date (the walk paid the bonus shares).
@example(
    rows=[(1, 1, "buy", 1, 100, 0)],
    event_rows=[(1, "dividend", 1), (1, "bonus", 1)],
    paths=[[50] * 10, [50] * 10],
)
def test_the_vectorised_book_equals_the_ledger_walk(
    rows: list[tuple[int, int, str, int, int, int]],
    event_rows: list[tuple[int, str, int]],
    paths: list[list[int]],
) -> None:
    from core.analytics.entries import ledger_entries

    values = {
        "split": ("2", "0"),
        "dividend": ("0", "0.5"),
        "jcp": ("0.15", "1"),
        "bonus": ("0.1", "3"),
    }
    events = [
        (asset, kind, day(n), D(values[kind][0]), D(values[kind][1]))
        for asset, kind, n in event_rows
    ]
    event_lines = {
        asset: [
            (
                Line(Kind(kind), d, ratio=ratio, price=value)
                if kind != "split"
                else Line(Kind.SPLIT, d, ratio=ratio)
            )
            for a, kind, d, ratio, value in events
            if a == asset
        ]
        for asset in (1, 2)
    }
    ledgers: dict[tuple[int, int], list[Line]] = {}
    table: list[tuple[int, int, str, date, float, float, float, float]] = []
    for number, (client, asset, kind, qty, cents, n) in enumerate(rows, 1):
        key = (client, asset)
        lines = ledgers.setdefault(key, [])
        price = D(cents) / 100
        if kind == "buy":
            line = Line(Kind.BUY, day(n), quantity=D(qty), price=price, fees=D("1"), ref=number)
        elif kind == "sell":
            held = walk([*lines, *event_lines[asset]], through=day(n)).quantity
            amount = (held * D(min(qty, 100)) / 100).quantize(D("0.0001"))
            if amount <= 0:
                continue
            line = Line(Kind.SELL, day(n), quantity=amount, price=price, fees=D("1"), ref=number)
            try:
                walk([*lines, line, *event_lines[asset]])
            except Oversold:  # a later sell would be uncovered: leave this one out
                continue
        else:
            line = Line(Kind.INCOME, day(n), amount=price, tax=D("0.5"), ref=number)
        lines.append(line)
        net = float(line.amount - line.tax)
        table.append(
            (
                client,
                asset,
                kind,
                day(n),
                float(line.quantity),
                float(line.price),
                float(line.fees),
                net,
            )
        )
    if not table:
        return
    movements = {
        "id": np.arange(1, len(table) + 1),
        "client_id": np.array([r[0] for r in table], dtype=np.int64),
        "asset_id": np.array([r[1] for r in table], dtype=np.int64),
        "kind": np.array([r[2] for r in table], dtype=object),
        "date": np.array([np.datetime64(r[3], "D") for r in table]),
        "quantity": np.array([r[4] for r in table]),
        "price": np.array([r[5] for r in table]),
        "fees": np.array([r[6] for r in table]),
        "net": np.array([r[7] for r in table]),
    }
    event_columns = {
        "asset_id": np.array([e[0] for e in events], dtype=np.int64),
        "kind": np.array([e[1] for e in events], dtype=object),
        "ex_date": np.array([np.datetime64(e[2], "D") for e in events], dtype="datetime64[D]"),
        "ratio": np.array([float(e[3]) for e in events]),
        "value": np.array([float(e[4]) for e in events]),
    }
    vector, splits, bad = ledger_entries(movements, event_columns)
    assert bad == {}
    walked = book_entries(
        {key: [*lines, *event_lines[key[1]]] for key, lines in ledgers.items()}, splits
    )
    closes = random_closes(paths)
    wanted = [day(n) for n in range(10)]
    frames = []
    for entries in (vector, walked):
        book = book_from_entries(entries)
        matrix, close_days = carried_closes_and_days(closes, wanted, book.asset_ids)
        frame, _ = portfolio_series(
            book,
            matrix,
            wanted,
            SeriesState.empty(book),
            close_days=close_days,
            splits=split_matrix(splits, wanted, book.asset_ids),
        )
        frames.append(frame)
    for name in ("market_value", "flow_in", "flow_out", "income", "daily_return"):
        assert np.asarray(frames[0][name]) == pytest.approx(
            np.asarray(frames[1][name]), rel=1e-9, abs=1e-6
        ), name
