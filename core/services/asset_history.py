"""A new ticker's price history, fetched as soon as its first buy is saved.

Saving a buy recomputes the client's figures at once (:mod:`core.services.client_figures`),
but only from the closes already stored: an asset nobody held before has none, so until
the scheduler's next run it would be valued at its buy price. :func:`fetch_new_asset_history`
closes that gap right after the buy is committed: when the asset has no stored close since
the buy date, it asks market data for the asset's daily history from that date through the
last completed day (and for the exchange-rate series its currency needs, when those lack
closes too), checks and stores the closes and the events the answer carries, exactly as
the scheduler's close does (:func:`core.services.closes.fetch`,
:meth:`~core.repositories.prices.PriceRepository.upsert`,
:meth:`~core.repositories.ledger.LedgerRepository.store_events`),
and invalidates the holders' figures from the buy date, so that the commit recomputes them
with the new closes.

It degrades: the buy is already saved, and when market data fails, refuses or does not
answer within :data:`PAGE_DEADLINE_S` (a page must not wait on Yahoo's own 180 s fetch
deadline), the outcome is ``pending`` — the scheduler's next run (gap repair) fetches the
history then — and nothing is raised for market data's sake.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from core.db import UnitOfWork
from core.errors import NotFound
from core.market import port
from core.market.port import HistoryBatch, MarketData, QuoteBatch, SearchResult
from core.repositories.ledger import HeldAsset
from core.services import closes
from core.services.job_runs import RunReport
from core.services.principal import Principal, require_admin
from core.trade_schemas import today_in_brazil

log = logging.getLogger(__name__)

PAGE_DEADLINE_S = 20.0  # how long a page waits for the history before leaving it pending
JOB_NAME = "new-asset-history"  # names the report the fetch fills in (never stored)

HistoryStatus = Literal["stored", "not_needed", "pending"]


@dataclass(frozen=True, slots=True)
class HistoryOutcome:
    """What :func:`fetch_new_asset_history` (or :func:`fetch_unpriced_history`) did for
    ``symbols``.

    ``stored``: closes were stored (``closes`` of them, ``events`` new or changed events)
    and the holders' figures recomputed; ``not_needed``: the asset already has closes since
    the buy date, or the buy is too recent to have a completed close; ``pending``: market
    data gave nothing usable for some ticker (``failed``: ticker -> reason code), the
    scheduler's next run fetches it.
    """

    status: HistoryStatus
    symbols: tuple[str, ...]
    closes: int = 0
    events: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        """True when the history is left for the scheduler's next run."""
        return self.status == "pending"


class _Bounded:
    """``market`` with its history call bounded by ``deadline_s`` (a page's patience).

    The call runs in a worker thread; when it does not answer in time the tickers are
    ``not_fetched`` and the worker is left to end on its own (the adapter bounds its own
    fetch; a late answer only fills the Redis cache the next fetch reads)."""

    def __init__(self, market: MarketData, deadline_s: float) -> None:
        self.inner = market
        self.name = market.name
        self.deadline_s = deadline_s

    def search(self, query: str, limit: int = 10) -> SearchResult:
        """Not bounded: passed through."""
        return self.inner.search(query, limit)

    def quotes(self, symbols: list[str]) -> QuoteBatch:
        """Not bounded: passed through."""
        return self.inner.quotes(symbols)

    def history(self, symbols: list[str], start: date, end: date) -> HistoryBatch:
        """The inner history, or every ticker failed when it raised or ran out of time."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asset-history")
        future = pool.submit(self.inner.history, symbols, start, end)
        pool.shutdown(wait=False)
        try:
            return future.result(timeout=self.deadline_s)
        except FutureTimeout:
            reason, detail = port.NOT_FETCHED, f"no answer within {self.deadline_s:g} s"
        except Exception as exc:  # market data must not break a saved buy
            log.warning("history of %s failed: %s", symbols, exc, exc_info=True)
            reason, detail = port.UNAVAILABLE, f"{type(exc).__name__}: {exc}"[:500]
        batch = HistoryBatch()
        for symbol in symbols:
            batch.failed[symbol] = reason
            batch.details[symbol] = detail
        return batch


def _unpriced_since(uow: UnitOfWork, held: list[HeldAsset], since: date) -> list[HeldAsset]:
    """The series in ``held`` without any stored close on or after ``since``."""
    stored = uow.prices.dates_since([h.asset_id for h in held], since)
    return [h for h in held if not stored.get(h.asset_id)]


# Held assets with no stored close since they were first held: one index probe per asset.
def fetch_new_asset_history(
    uow: UnitOfWork,
    market: MarketData,
    actor: Principal,
    symbol: str,
    since: date,
    *,
    deadline_s: float = PAGE_DEADLINE_S,
) -> HistoryOutcome:
    """Fetch and store the daily history of ``symbol`` from ``since`` (its buy date) when
    no close of it is stored since then, and recompute its holders' figures from there.

    Call it after the buy is committed (see the module docstring): the market call happens
    outside any transaction; the closes, the events and the recomputed figures are written
    in one. Admins only (they are the ones adding buys). Never raises for market data: a
    failure or a wait over ``deadline_s`` is a ``pending`` outcome. Raises
    :class:`~core.errors.NotFound` for a ticker that is not stored.
    """
    require_admin(actor)
    end = today_in_brazil() - timedelta(days=1)  # completed days only: today is still trading
    with uow:
        asset = uow.assets.by_symbol(symbol)
        if asset is None:
            raise NotFound()
        own = HeldAsset(asset.id, asset.symbol, since, asset.currency)
        if since > end or not _unpriced_since(uow, [own], since):
            return HistoryOutcome("not_needed", (asset.symbol,))
        # The rate series a foreign currency needs (created on first use) when it also
        # lacks closes from the buy date: the figures are in reais.
        wanted = _unpriced_since(uow, closes.with_rates(uow, [own]), since)
        uow.commit()
    return _fetch_and_store(uow, market, [own], wanted, end, deadline_s)


def fetch_unpriced_history(
    uow: UnitOfWork, market: MarketData, actor: Principal, *, deadline_s: float = PAGE_DEADLINE_S
) -> HistoryOutcome:
    """:func:`fetch_new_asset_history` for every held asset with no stored close since it
    was first held (after an import that brought new tickers, say), in one batched fetch
    from the earliest of those dates; admins only, and ``pending`` when market data gave
    nothing for some of them (the others' closes are stored)."""
    require_admin(actor)
    end = today_in_brazil() - timedelta(days=1)
    with uow:
        held = [h for h in uow.ledger.unpriced_assets() if h.first_buy <= end]
        if not held:
            return HistoryOutcome("not_needed", ())
        since = min(h.first_buy for h in held)
        with_rates = closes.with_rates(uow, held)
        mine = {h.asset_id for h in held}
        wanted = held + _unpriced_since(
            uow, [h for h in with_rates if h.asset_id not in mine], since
        )
        uow.commit()
    return _fetch_and_store(uow, market, held, wanted, end, deadline_s)


def _fetch_and_store(
    uow: UnitOfWork,
    market: MarketData,
    assets: list[HeldAsset],
    wanted: list[HeldAsset],
    end: date,
    deadline_s: float,
) -> HistoryOutcome:
    """Fetch ``wanted`` (``assets`` and the rate series they need) from the earliest first
    day through ``end`` within ``deadline_s``; store what came, with the events, and
    invalidate the holders of ``assets`` from there (the commit recomputes them)."""
    symbols = tuple(h.symbol for h in assets)
    since = min(h.first_buy for h in assets)
    report = RunReport(job_name=JOB_NAME, target_from=since, target_to=end)
    events: list[closes.EventRow] = []
    fetched = closes.fetch(_Bounded(market, deadline_s), wanted, since, end, report, events)
    priced = {asset_id for asset_id, _day in fetched}
    missing = [h for h in assets if h.asset_id not in priced]
    failed = {h.symbol: report.failed.get(h.symbol, port.NO_DATA) for h in missing}
    if missing:
        log.info("history of %s left for the scheduler: %s", sorted(failed), failed)
    if not priced:
        return HistoryOutcome("pending", symbols, failed=failed)
    with uow:
        stored = uow.prices.upsert((a, d, p) for (a, d), p in fetched.items())
        changed = uow.ledger.store_events(events)
        first = min([since, *(day for _kind, day in changed)])
        holders = uow.movements.holders([h.asset_id for h in assets if h.asset_id in priced])
        uow.figures.invalidate(dict.fromkeys(holders, first))
        uow.commit()  # recomputes the holders' figures (core.services.client_figures)
    status: HistoryStatus = "pending" if missing else "stored"
    return HistoryOutcome(status, symbols, closes=stored, events=len(changed), failed=failed)
