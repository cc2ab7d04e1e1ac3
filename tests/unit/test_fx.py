"""Conversion into reais (core.analytics.fx) and a mixed BRL/USD book, checked by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.analytics import fx
from core.analytics.metrics import client_metrics
from core.analytics.returns import (
    SeriesState,
    book_from_lots,
    carried_closes,
    portfolio_series,
)


def nov(day: int) -> date:
    return date(2026, 11, day)


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        ("BRL", None),
        (None, None),
        ("", None),
        ("USD", fx.Pair("USD", "USDBRL=X", 1.0)),
        ("EUR", fx.Pair("EUR", "EURBRL=X", 1.0)),
        ("GBp", fx.Pair("GBp", "GBPBRL=X", 0.01)),
        ("GBX", fx.Pair("GBX", "GBPBRL=X", 0.01)),
        ("ZAc", fx.Pair("ZAc", "ZARBRL=X", 0.01)),
    ],
)
def test_pair_for(currency: str | None, expected: fx.Pair | None) -> None:
    assert fx.pair_for(currency) == expected


def test_pairs_for_is_distinct_and_sorted() -> None:
    pairs = fx.pairs_for(["USD", "BRL", None, "GBp", "USD"])
    assert [p.currency for p in pairs] == ["GBp", "USD"]


def test_rates_are_carried_and_the_leading_gap_takes_the_first_rate() -> None:
    closes = pd.DataFrame(
        [(7, nov(10), 5.0), (7, nov(12), 5.5)], columns=["asset_id", "date", "close"]
    )
    # Two currencies on the same series (pounds and pence): one column each.
    rates = fx.rates_on(closes, [nov(9), nov(10), nov(11), nov(13)], np.array([7, 7]), [1, 0.01])
    np.testing.assert_allclose(
        rates, [[5.0, 0.05], [5.0, 0.05], [5.0, 0.05], [5.5, 0.055]], rtol=0, atol=1e-15
    )


def test_a_series_without_any_close_stays_nan() -> None:
    closes = pd.DataFrame([(7, nov(10), 5.0)], columns=["asset_id", "date", "close"])
    rates = fx.rates_on(closes, [nov(10)], np.array([7, 8]), np.array([1.0, 1.0]))
    assert rates[0, 0] == 5.0
    assert np.isnan(rates[0, 1])


def test_a_mixed_book_is_in_reais() -> None:
    # One client: 100 PETR4 (asset 1, BRL) bought at 30 on the 23rd, and 10 AAPL (asset 2,
    # USD, rates column 0) bought at 200 on the 24th when USD/BRL was 5.00.
    lots = pd.DataFrame(
        {
            "client_id": [1, 1],
            "asset_id": [1, 2],
            "quantity": [100.0, 10.0],
            "buy_price": [30.0, 200.0],
            "buy_date": pd.to_datetime([nov(23), nov(24)]),
            "fx_column": [-1, 0],
            "buy_rate": [1.0, 5.0],
        }
    )
    book = book_from_lots(lots)
    days = [nov(23), nov(24), nov(25)]
    closes = pd.DataFrame(
        [
            (1, nov(23), 31.0),
            (1, nov(24), 32.0),
            (1, nov(25), 33.0),
            (2, nov(24), 210.0),
            (2, nov(25), 220.0),
        ],
        columns=["asset_id", "date", "close"],
    )
    rates = np.array([[5.0], [5.0], [5.5]])
    frame, state = portfolio_series(
        book, carried_closes(closes, days, book.asset_ids), days, SeriesState.empty(book), rates
    )
    # 23rd: 100 x 31 = 3,100 on 3,000 in.  24th: 3,200 + 10 x 210 x 5.00 = 13,700, with
    # 10 x 200 x 5.00 = 10,000 in.  25th: 3,300 + 10 x 220 x 5.50 = 15,400, nothing in.
    assert frame["market_value"].tolist() == [3100.0, 13700.0, 15400.0]
    assert frame["net_flow"].tolist() == [3000.0, 10000.0, 0.0]
    np.testing.assert_allclose(
        frame["daily_return"], [3100 / 3000 - 1, 13700 / 13100 - 1, 15400 / 13700 - 1]
    )
    metrics = pd.DataFrame(client_metrics(book, state, nov(25))).iloc[0]
    assert metrics["invested"] == 13000.0  # 3,000 + 10,000: dollars at the buy date's rate
    assert metrics["accumulated_return"] == pytest.approx(15400 / 13000 - 1)


def test_a_foreign_lot_without_rates_is_refused() -> None:
    lots = pd.DataFrame(
        {
            "client_id": [1],
            "asset_id": [2],
            "quantity": [1.0],
            "buy_price": [10.0],
            "buy_date": pd.to_datetime([nov(23)]),
            "fx_column": [0],
            "buy_rate": [5.0],
        }
    )
    book = book_from_lots(lots)
    with pytest.raises(ValueError, match="exchange rates"):
        portfolio_series(book, np.array([[10.0]]), [nov(23)], SeriesState.empty(book))
