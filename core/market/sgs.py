"""A small client of the Banco Central's SGS API (Sistema Gerenciador de Séries Temporais).

The documented JSON endpoint ``https://api.bcb.gov.br/dados/serie/bcdata.sgs.{code}/dados
?formato=json&dataInicial=dd/mm/aaaa&dataFinal=dd/mm/aaaa`` answers a list of rows
``[{"data": "02/01/2025", "valor": "0.040168"}, ...]``. A daily series gives at most ten
years per request, so a longer range is asked in ten-year windows.

Values are parsed to ``Decimal`` exactly as published (never through a float). A row that
cannot be read (no date, a date that is not ``dd/mm/aaaa``, a value that is not a decimal
number, a date outside the range asked, two different values for one date) is rejected
with its reason and left out; nothing is filled in for it.

Timeouts, connection errors and 5xx raise :class:`UpstreamUnavailable`, a 429
:class:`RateLimited`; both are retried with tenacity (:class:`core.market.retry.RetryPolicy`,
exponential backoff with jitter, bounded attempts and total time). A 404 is read as "no
values in that range" (the API answers so for a range it has nothing for). Any other answer
that is not a JSON list raises :class:`MalformedResponse`. See docs/benchmarks.md for why
this is not ``python-bcb``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from core.market.errors import MalformedResponse, RateLimited, UpstreamUnavailable
from core.market.retry import RetryPolicy

log = logging.getLogger(__name__)

BASE_URL = "https://api.bcb.gov.br/dados/serie/bcdata.sgs.{code}/dados"
# (connect, read) seconds for one request.
TIMEOUT_S = (5.0, 30.0)
MAX_SPAN_YEARS = 10
# One request: up to 4 attempts within 60 s, waits of 1 s doubled up to 15 s, with jitter.
POLICY = RetryPolicy(attempts=4, max_total_s=60.0, wait_base_s=1.0, wait_max_s=15.0)
DATE_PATTERN = re.compile(r"^\d{2}/\d{2}/\d{4}$")
VALUE_PATTERN = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row of the answer that was left out, and why."""

    row: str
    reason: str


@dataclass(slots=True)
class SgsAnswer:
    """The values of one series in a range (date -> published value), the rows rejected,
    and how many requests it took."""

    values: dict[date, Decimal] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    requests: int = 0


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def windows(start: date, end: date, years: int = MAX_SPAN_YEARS) -> list[tuple[date, date]]:
    """[start, end] cut into consecutive windows of at most ``years`` years each (the API
    refuses longer ranges of a daily series)."""
    spans: list[tuple[date, date]] = []
    first = start
    while first <= end:
        last = min(end, _add_years(first, years) - timedelta(days=1))
        spans.append((first, last))
        first = last + timedelta(days=1)
    return spans


def _text(row: Any) -> str:
    return repr(row)[:120]


def parse_rows(payload: Any, start: date, end: date) -> tuple[dict[date, Decimal], list[Rejected]]:
    """The values of an SGS answer inside [start, end], and the rows rejected with why.

    Raises :class:`MalformedResponse` when the answer is not a list of rows at all."""
    if not isinstance(payload, list):
        raise MalformedResponse(detail=f"the SGS answer is not a list: {_text(payload)}")
    values: dict[date, Decimal] = {}
    rejected: list[Rejected] = []
    ambiguous: set[date] = set()
    for row in payload:
        found = _parse_row(row)
        if isinstance(found, Rejected):
            rejected.append(found)
            continue
        day, value = found
        if not start <= day <= end:
            rejected.append(Rejected(_text(row), "date outside the range asked"))
        elif day in ambiguous or (day in values and values[day] != value):
            rejected.append(Rejected(_text(row), "a second, different value for this date"))
            if values.pop(day, None) is not None:
                rejected.append(Rejected(day.strftime("%d/%m/%Y"), "its first value is dropped"))
            ambiguous.add(day)
        else:
            values[day] = value
    return values, rejected


def _parse_row(row: Any) -> tuple[date, Decimal] | Rejected:
    if not isinstance(row, dict):
        return Rejected(_text(row), "not an object")
    raw_day, raw_value = row.get("data"), row.get("valor")
    if not isinstance(raw_day, str) or not DATE_PATTERN.match(raw_day.strip()):
        return Rejected(_text(row), "no date in dd/mm/aaaa")
    try:
        day = datetime.strptime(raw_day.strip(), "%d/%m/%Y").date()
    except ValueError:
        return Rejected(_text(row), "not a calendar date")
    if not isinstance(raw_value, str) or not VALUE_PATTERN.match(raw_value.strip()):
        return Rejected(_text(row), "the value is not a decimal number")
    try:
        value = Decimal(raw_value.strip())
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return Rejected(_text(row), "the value is not a decimal number")
    return day, value


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else "?"
    log.warning("Banco Central SGS call failed (%s); retry %d", error, state.attempt_number)


class SgsClient:
    """Fetch SGS series over HTTP (``requests``), with a timeout and retries."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        base_url: str = BASE_URL,
        timeout: tuple[float, float] = TIMEOUT_S,
        policy: RetryPolicy = POLICY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session or requests.Session()
        self.base_url = base_url
        self.timeout = timeout
        self.policy = policy
        self.sleep = sleep

    def fetch(self, code: int, start: date, end: date) -> SgsAnswer:
        """Every published value of series ``code`` in [start, end], in ten-year windows.

        Raises :class:`RateLimited`, :class:`UpstreamUnavailable` (after the retries) or
        :class:`MalformedResponse`; rows it cannot read are in ``rejected``."""
        answer = SgsAnswer()
        for first, last in windows(start, end):
            payload = self._retrying()(self._get, code, first, last)
            answer.requests += 1
            values, rejected = parse_rows(payload, first, last)
            answer.values.update(values)
            answer.rejected.extend(rejected)
        return answer

    def _retrying(self) -> Retrying:
        """The Yahoo adapter's retry rules (:class:`RetryPolicy`: rate limits, timeouts and
        5xx; bounded attempts and total time; random exponential waits), logged as SGS's."""
        policy = self.policy
        return Retrying(
            retry=retry_if_exception_type((RateLimited, UpstreamUnavailable)),
            wait=wait_random_exponential(multiplier=policy.wait_base_s, max=policy.wait_max_s),
            stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.max_total_s),
            sleep=self.sleep,
            reraise=True,
            before_sleep=_log_retry,
        )

    def _get(self, code: int, start: date, end: date) -> Any:
        """One request; the decoded JSON, or [] for a 404 (nothing in the range)."""
        params = {
            "formato": "json",
            "dataInicial": start.strftime("%d/%m/%Y"),
            "dataFinal": end.strftime("%d/%m/%Y"),
        }
        url = self.base_url.format(code=code)
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout as exc:
            raise UpstreamUnavailable(detail=f"SGS {code}: timed out ({exc})") from exc
        except requests.RequestException as exc:
            raise UpstreamUnavailable(detail=f"SGS {code}: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 429:
            raise RateLimited(detail=f"SGS {code}: HTTP 429")
        if status >= 500:
            raise UpstreamUnavailable(detail=f"SGS {code}: HTTP {status}")
        if status == 404:
            log.info("SGS %s has no values from %s to %s (404)", code, start, end)
            return []
        if status != 200:
            raise MalformedResponse(detail=f"SGS {code}: HTTP {status}: {response.text[:200]}")
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedResponse(detail=f"SGS {code}: the body is not JSON") from exc
