"""The SGS client over real HTTP against a local server answering like the API
(tests/sgs_server.py, fixtures built in the documented format): the URL and parameters it
sends, ten-year windows, retries with backoff on 5xx, 429 and timeouts, what it gives up
with, and how the live benchmark source reports each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from core.market import port
from core.market.benchmarks import CDI, IPCA, LiveBenchmarks
from core.market.demo import DemoMarketData
from core.market.errors import MalformedResponse, RateLimited, UpstreamUnavailable
from core.market.retry import RetryPolicy
from core.market.sgs import SgsClient
from tests.sgs_server import SgsServer, sgs_server

JAN_2, JAN_10 = date(2025, 1, 2), date(2025, 1, 10)
FAST = RetryPolicy(attempts=3, max_total_s=30.0, wait_base_s=0.01, wait_max_s=0.02)


@pytest.fixture
def server() -> Iterator[SgsServer]:
    with sgs_server() as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: SgsServer, sleeps: list[float]) -> SgsClient:
    return SgsClient(base_url=server.base_url, timeout=(1.0, 0.5), policy=FAST, sleep=sleeps.append)


def test_fetch_sends_the_documented_parameters_and_parses_decimals(
    server: SgsServer, client: SgsClient
) -> None:
    server.answer(12, "sgs-12-2025-01-02-to-2025-01-10.json")

    answer = client.fetch(12, JAN_2, JAN_10)

    assert [r.params for r in server.requests] == [
        {"formato": "json", "dataInicial": "02/01/2025", "dataFinal": "10/01/2025"}
    ]
    assert len(answer.values) == 7
    assert answer.rejected == []
    assert answer.values[JAN_10] == Decimal("0.045513")


def test_a_long_range_is_asked_in_ten_year_windows(server: SgsServer, client: SgsClient) -> None:
    server.answer(12, "sgs-12-2025-01-02-to-2025-01-10.json")

    answer = client.fetch(12, date(2004, 1, 1), date(2025, 1, 10))

    assert [(r.params["dataInicial"], r.params["dataFinal"]) for r in server.requests] == [
        ("01/01/2004", "31/12/2013"),
        ("01/01/2014", "31/12/2023"),
        ("01/01/2024", "10/01/2025"),
    ]
    # Each window keeps only what falls inside it: the rows of 2025 come from the last one;
    # the same rows answered to the earlier windows are rejected as outside their range.
    assert len(answer.values) == 7
    assert answer.requests == 3
    assert {r.reason for r in answer.rejected} == {"date outside the range asked"}


def test_5xx_and_timeouts_are_retried_with_backoff_then_succeed(
    server: SgsServer, client: SgsClient, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    server.answer(12, "sgs-12-2025-01-02-to-2025-01-10.json")
    server.hang_s = 1.5  # beyond the 0.5 s read timeout
    server.fail(12, 503, "hang")

    answer = client.fetch(12, JAN_2, JAN_10)

    assert len(answer.values) == 7
    assert server.count(12) == 3
    assert len(sleeps) == 2
    assert "Banco Central SGS call failed" in caplog.text


def test_a_persistent_5xx_gives_up_after_the_attempts(
    server: SgsServer, client: SgsClient, sleeps: list[float]
) -> None:
    server.fail(12, 500, 502, 503, 504)
    with pytest.raises(UpstreamUnavailable):
        client.fetch(12, JAN_2, JAN_10)
    assert server.count(12) == 3
    assert len(sleeps) == 2


def test_rate_limits_are_retried_and_reported(server: SgsServer, client: SgsClient) -> None:
    server.fail(12, 429, 429, 429)
    with pytest.raises(RateLimited):
        client.fetch(12, JAN_2, JAN_10)
    assert server.count(12) == 3


def test_404_is_no_values_and_a_non_json_body_is_malformed(
    server: SgsServer, client: SgsClient
) -> None:
    assert client.fetch(433, date(2026, 11, 1), date(2026, 11, 30)).values == {}  # nothing set
    server.fail(12, "garbage")
    with pytest.raises(MalformedResponse):
        client.fetch(12, JAN_2, JAN_10)
    assert server.count(12) == 1  # not retried


def test_the_live_source_reports_each_series_on_its_own(
    server: SgsServer, client: SgsClient
) -> None:
    server.answer(433, "sgs-433-2024-01-01-to-2024-12-31.json")
    server.fail(12, 500, 500, 500)
    live = LiveBenchmarks(DemoMarketData(), client)

    ipca = live.fetch(IPCA, date(2024, 1, 1), date(2024, 12, 31))
    cdi = live.fetch(CDI, JAN_2, JAN_10)

    assert ipca.source == "bcb"
    assert ipca.failed is None
    assert len(ipca.values) == 12
    assert cdi.failed == port.UNAVAILABLE
    assert "HTTP 500" in (cdi.detail or "")
    assert cdi.values == {}


def test_the_live_source_rejects_bad_rows_with_why(server: SgsServer, client: SgsClient) -> None:
    server.answer(12, "sgs-12-bad-rows.json")
    fetch = LiveBenchmarks(DemoMarketData(), client).fetch(CDI, JAN_2, JAN_10)
    assert fetch.values == {JAN_2: Decimal("0.045513")}
    assert len(fetch.rejected) == 10
    assert fetch.failed is None
