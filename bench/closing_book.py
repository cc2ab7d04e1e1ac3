"""The scheduler bench's synthetic book: listings for the demo adapter and a ledger seeded
with COPY (bench/closing.py).

The book is what a real one holds, not only plain buys: sells (each of part of an earlier
buy, so no ledger ever sells more than it holds), income typed by hand (with the tax
withheld), splits on some assets and dividends on others, with closes as traded. Splits
and dividends come from the demo adapter (its listings carry them: WEGE3.SA's 2-for-1 and
NVDA's 10-for-1 from the catalogue, synthetic ones on a few bench listings), and are seeded
into ``asset_events`` exactly as the jobs would store them, so a job's fetch finds nothing
new. Some movements fall on the day the bench closes, and some bench listings pay a
dividend on it, so that day has money in, money out and income to check.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import psycopg
from sqlalchemy.engine import make_url

from core.market.catalogue import CATALOGUE, Listing, Payout
from core.market.demo import DemoMarketData

CLOSE_DAY = date(2026, 11, 27)  # a Friday: the bench's dividends fall on it (day 27)
BACKFILL_END = date(2026, 11, 26)
FROM_CATALOGUE = ("WEGE3.SA", "NVDA")  # real splits (and WEGE3.SA's dividends); NVDA in USD
RATE = "USDBRL=X"
SPLIT_EVERY, PAYOUT_EVERY = 40, 20  # bench listings with a split / a quarterly dividend
SELL_SHARE, INCOME_SHARE, ON_CLOSE_DAY = 0.08, 0.04, 0.01
CENT = Decimal("0.01")


def _weekday(day: date) -> date:
    return day + timedelta(days=max(0, 7 - day.weekday()) if day.weekday() > 4 else 0)


def listings(n: int) -> list[Listing]:
    """``n`` listings the book holds: WEGE3.SA and NVDA from the catalogue and ``n - 2``
    synthetic B3 ones, every SPLIT_EVERY-th with a 2- or 3-for-1 split (spread over the
    five years, the first 10 days before the close day) and every PAYOUT_EVERY-th with a
    quarterly dividend on the 27th (one of them on the close day)."""
    made = []
    for i in range(n - len(FROM_CATALOGUE)):
        splits: tuple[tuple[date, Decimal], ...] = ()
        if i % SPLIT_EVERY == 7:
            ex_date = _weekday(CLOSE_DAY - timedelta(days=10 + (i // SPLIT_EVERY) * 97 % 1500))
            splits = ((ex_date, Decimal(2 + (i // SPLIT_EVERY) % 2)),)
        payout = None
        if i % PAYOUT_EVERY == 3:
            payout = Payout(Decimal("0.12"), (2, 5, 8, 11), 27)
        made.append(
            Listing(
                f"BK{i:04d}.SA",
                f"Bench {i}",
                "São Paulo",
                "Equity",
                "BRL",
                10.0 + i % 90,
                0.3,
                splits=splits,
                payout=payout,
            )
        )
    return made + [listing for listing in CATALOGUE if listing.symbol in FROM_CATALOGUE]


def market(n: int) -> DemoMarketData:
    """The demo adapter over ``listings(n)`` and the USD/BRL rate NVDA needs."""
    rate = [listing for listing in CATALOGUE if listing.symbol == RATE]
    return DemoMarketData(listings=[*listings(n), *rate])


def libpq(url: str) -> str:
    """A SQLAlchemy URL as libpq wants it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def seed(url: str, clients: int, movements: int, tickers: int, since: date) -> dict[str, int]:
    """COPY a deterministic book of ``movements`` ledger lines into the database at
    ``url``; returns how many of each kind, and the events."""
    rng = random.Random(11)
    span = (BACKFILL_END - since).days
    books = listings(tickers)
    sells = int(movements * SELL_SHARE)
    incomes = int(movements * INCOME_SHARE)
    buys = movements - sells - incomes
    with psycopg.connect(libpq(url)) as conn:
        with conn.cursor().copy("COPY clients (name, email) FROM STDIN") as copy:
            for i in range(clients):
                copy.write_row((f"Cliente {i}", f"cliente{i}@bench.example"))
        with conn.cursor().copy("COPY assets (symbol, name, currency) FROM STDIN") as copy:
            for listing in books:
                copy.write_row((listing.symbol, listing.name, listing.currency))
        ids = [r[0] for r in conn.execute("SELECT id FROM clients ORDER BY id")]
        asset_of = dict(conn.execute("SELECT symbol, id FROM assets").fetchall())
        assets = [asset_of[listing.symbol] for listing in books]
        bought: list[tuple[int, int, int, date]] = []  # client, asset, shares left, date
        rows: list[tuple[object, ...]] = []
        for i in range(buys):
            on = since + timedelta(days=rng.randint(0, span))
            if rng.random() < ON_CLOSE_DAY:
                on = CLOSE_DAY
            client, asset, shares = ids[i % clients], rng.choice(assets), rng.randint(1, 500)
            price, fees = Decimal(rng.randint(500, 9000)) / 100, Decimal(rng.randint(0, 990)) / 100
            rows.append((client, asset, "buy", shares, price, fees, on, None, 0, 0))
            bought.append((client, asset, shares, on))
        made = 0
        while made < sells:  # part of an earlier buy, after it: never more than held
            k = rng.randrange(len(bought))
            client, asset, left, on = bought[k]
            if left == 0:
                continue
            made += 1
            sold = rng.randint(1, left)
            bought[k] = (client, asset, left - sold, on)
            sell_on = _later(rng, on)
            price = Decimal(rng.randint(500, 9000)) / 100
            fees = min(Decimal(rng.randint(0, 990)) / 100, sold * price / 2)
            rows.append((client, asset, "sell", sold, price, fees, sell_on, None, 0, 0))
        for _ in range(incomes):
            client, asset, _left, on = bought[rng.randrange(len(bought))]
            kind = rng.choice(("dividend", "jcp", "rendimento"))
            amount = Decimal(rng.randint(100, 50_000)) / 100
            tax = (amount * Decimal("0.15")).quantize(CENT) if kind == "jcp" else Decimal(0)
            rows.append((client, asset, "income", 0, 0, 0, _later(rng, on), kind, amount, tax))
        statement = (
            "COPY movements (client_id, asset_id, kind, quantity, price, fees, date, "
            "income_type, amount, tax) FROM STDIN"
        )
        with conn.cursor().copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        events = _events(conn, books, asset_of, since)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    counts = {"buy": 0, "sell": 0, "income": 0}
    for row in rows:
        counts[str(row[2])] += 1
    return {**counts, **events}


def _later(rng: random.Random, on: date) -> date:
    """A day from ``on`` to the close day (the close day itself now and then)."""
    if rng.random() < ON_CLOSE_DAY * 3:
        return CLOSE_DAY
    return on + timedelta(days=rng.randint(0, (CLOSE_DAY - on).days))


def _events(
    conn: psycopg.Connection, books: list[Listing], asset_of: dict[str, int], since: date
) -> dict[str, int]:
    """COPY the listings' splits and dividends through the close day into asset_events,
    as the jobs store what the adapter reports (a split's ratio, a dividend's amount)."""
    history = market(len(books)).history([b.symbol for b in books], since, CLOSE_DAY)
    counts = {"split": 0, "dividend": 0}
    statement = "COPY asset_events (asset_id, kind, ex_date, ratio, value, source) FROM STDIN"
    with conn.cursor().copy(statement) as copy:
        for symbol, found in history.events.items():
            for event in found:
                values = (event.ratio, 0) if event.kind == "split" else (0, event.amount)
                copy.write_row((asset_of[symbol], event.kind, event.ex_date, *values, "demo"))
                counts[event.kind] += 1
    return counts
