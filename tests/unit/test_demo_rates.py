"""The demo's synthetic CDI, Selic and IPCA: plausible, deterministic, never after today."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core import calendars
from core.market import demo_rates
from core.market.benchmarks import CDI, IBOVESPA, IPCA, SELIC, DemoBenchmarks
from core.market.catalogue import BY_SYMBOL, INDICES
from core.market.demo import DemoMarketData

TODAY = date(2026, 11, 27)


def test_cdi_is_a_b3_session_rate_between_10_and_14_percent_a_year() -> None:
    values = demo_rates.daily_series(date(2016, 1, 1), TODAY, TODAY)
    assert sorted(values) == calendars.sessions(date(2016, 1, 1), TODAY)
    yearly = [(1 + float(v) / 100) ** 252 - 1 for v in values.values()]
    assert min(yearly) > 0.0995
    assert max(yearly) < 0.1405
    assert all(v.as_tuple().exponent == -6 for v in values.values())  # published with 6 places
    assert values == demo_rates.daily_series(date(2016, 1, 1), TODAY, TODAY)  # deterministic


def test_nothing_after_today_and_ipca_only_once_published() -> None:
    assert max(demo_rates.daily_series(date(2026, 11, 1), date(2026, 12, 31), TODAY)) <= TODAY
    months = demo_rates.monthly_series(date(2026, 1, 1), TODAY, TODAY)
    # October is published on 15 November; November not before 15 December.
    assert max(months) == date(2026, 10, 1)
    assert all(Decimal("0.1") <= v <= Decimal("0.7") for v in months.values())
    assert demo_rates.monthly_series(date(2026, 1, 15), TODAY, TODAY).keys() == {
        date(2026, m, 1) for m in range(2, 11)
    }


def test_the_demo_source_labels_everything_demo() -> None:
    source = DemoBenchmarks(today=lambda: TODAY)
    start = date(2026, 11, 2)
    cdi, selic = source.fetch(CDI, start, TODAY), source.fetch(SELIC, start, TODAY)
    assert cdi.source == selic.source == "demo"
    assert cdi.failed is None
    assert all(selic.values[d] > cdi.values[d] for d in cdi.values)  # Selic a bit above CDI
    ipca = source.fetch(IPCA, date(2026, 1, 1), TODAY)
    assert len(ipca.values) == 10
    ibov = source.fetch(IBOVESPA, start, TODAY)
    assert ibov.source == "demo"
    assert ibov.values
    assert min(ibov.values.values()) > 10000


def test_the_indices_are_not_in_the_catalogue_clients_buy_from() -> None:
    assert {listing.symbol for listing in INDICES} == {"^BVSP", "IFIX.SA"}
    assert not {listing.symbol for listing in INDICES} & set(BY_SYMBOL)
    assert DemoMarketData().history(["^BVSP"], TODAY, TODAY).failed == {"^BVSP": "not_found"}
