"""The dashboard in a real browser on a big book (part 4 of the performance issue).

A throwaway database holds the scheduler bench's synthetic book (:mod:`bench.closing_book`:
10,000 clients, 100,000 ledger lines, 500 tickers) plus one client held in demo-catalogue
tickers (200 buys, some sells and typed income over five years), every client's figures
stored by the real backfill. The dashboard is started the way ``manage.py`` starts it
(``python -m dashboard``, the project's ``.streamlit/config.toml``, no scheduler), and
Debian's Chromium, driven by Playwright (it never downloads a browser), signs in once and
keeps the session cookie. Then:

* (a) a client page's full load: from navigation until the page's script run has finished
  and its tables and charts are in the DOM (the counts a first, untimed load settles on),
  timed in the page (``performance.now()``, from the navigation's start), median of
  several — each load is a new Streamlit session signed in by its cookie;
* (b) server CPU per live viewer: N pages on the client page for a fixed time, the
  dashboard process's CPU time (user + system) before and after, divided by the live
  refreshes the pages received (the ``script_finished`` messages of fragment runs,
  counted on their WebSockets);
* (c) the live viewers one process sustains: one core (a Streamlit process runs its
  scripts under one GIL) divided by the CPU a viewer's refreshes need per second; the
  refreshes counted against the ones due shows whether they fell behind at N.

Targets: (a) <= 1.5 s, (b) <= 50 ms per viewer per refresh, (c) >= 75 viewers.
``python -m bench pages [--clients N] [--viewers N] [--seconds S] [--loads N]`` runs it
alone (a smaller book seeds faster; the printout says which book was used); with
``--database URL`` it seeds that database once and reuses it on later runs, which are then
comparable (``--streamlit --runner.postScriptGC true ...`` passes Streamlit flags).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psutil
import psycopg
import redis
from google.protobuf.message import DecodeError
from playwright.sync_api import Browser, BrowserContext, Page, WebSocket, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.closing_book import BACKFILL_END, libpq, listings, seed
from bench.db import ROOT, migrate, throwaway_database
from core.config import get_settings
from core.db import UnitOfWork, engine_for, uow_factory
from core.i18n import Translator
from core.market.catalogue import CATALOGUE
from core.market.demo import DemoMarketData
from core.models import JobStatus
from core.services import closing
from core.services import users as user_service
from core.services.principal import SYSTEM

CLIENTS, LOTS, TICKERS = 10_000, 100_000, 500
BACKFILL_START = date(2021, 11, 26)
VIEWED_BUYS, VIEWED_SELLS, VIEWED_INCOMES = 200, 12, 24
ADMIN_EMAIL = "bench.admin@example.com"
ADMIN_PASSWORD = "bench-pages-passphrase-quiet-harbour"  # noqa: S105 - a throwaway database's
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [  # as tests/e2e: the machine has no internet
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 1200}
LOADS, VIEWERS, LIVE_SECONDS = 7, 10, 30.0
START_TIMEOUT_S, LOAD_TIMEOUT_MS = 120, 120_000
TARGET_LOAD_S, TARGET_CPU_MS, TARGET_VIEWERS = 1.5, 50.0, 75
t = Translator("pt_BR")

# True once the page's script run has finished and its tables and charts are in the DOM.
RENDERED = """([tables, charts]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const shown = document.querySelectorAll('[data-testid="stDataFrame"] canvas').length;
  const drawn = document.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length;
  return shown >= tables && drawn >= charts ? performance.now() : false;
}"""
COUNTS = """() => [
  document.querySelectorAll('[data-testid="stDataFrame"] canvas').length,
  document.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length,
]"""


@dataclass  # no slots: Playwright marks the bound methods it is handed as listeners
class Refreshes:
    """Script runs a page's WebSockets saw finish, with times: live refreshes (fragment
    runs) by default, or full runs."""

    status: int = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
    at: list[float] = field(default_factory=list)

    def listen(self, socket_: WebSocket) -> None:
        """Count this WebSocket's ``script_finished`` messages of :attr:`status`."""
        socket_.on("framereceived", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg()
        try:
            message.ParseFromString(payload)
        except DecodeError:  # not a ForwardMsg: not a refresh
            return
        if (
            message.WhichOneof("type") == "script_finished"
            and message.script_finished == self.status
        ):
            self.at.append(time.monotonic())

    def between(self, start: float, end: float) -> int:
        """How many arrived in [start, end)."""
        return sum(1 for moment in self.at if start <= moment < end)


# --- the book ----------------------------------------------------------------------------


def _viewed_client(url: str) -> int:
    """The client whose page is loaded: 200 buys of demo-catalogue tickers (the dashboard's
    demo adapter quotes them live), part of some sold, typed income; returns its id."""
    rng = random.Random(5)
    # Not the rate, and not BTC-USD: it trades on days B3 is closed (the backfill's
    # "missing days" would make it partial).
    held = [listing for listing in CATALOGUE if listing.symbol not in ("USDBRL=X", "BTC-USD")]
    span = (BACKFILL_END - BACKFILL_START).days
    with psycopg.connect(libpq(url)) as conn:
        client_id = conn.execute(
            "INSERT INTO clients (name, email) VALUES ('Cliente Painel', "
            "'painel@bench.example') RETURNING id"
        ).fetchone()
        assert client_id is not None
        for listing in held:
            conn.execute(
                "INSERT INTO assets (symbol, name, currency) VALUES (%s, %s, %s) "
                "ON CONFLICT (symbol) DO NOTHING",
                (listing.symbol, listing.name, listing.currency),
            )
        asset_of = dict(conn.execute("SELECT symbol, id FROM assets").fetchall())
        rows: list[tuple[object, ...]] = []
        buys: list[tuple[int, int, date]] = []
        for i in range(VIEWED_BUYS):
            listing = held[i % len(held)]
            on = BACKFILL_START + timedelta(days=0 if i == 0 else rng.randint(0, span))
            shares = rng.randint(1, 300)
            price = Decimal(str(round(listing.base, 2)))
            rows.append((asset_of[listing.symbol], "buy", shares, price, 0, on, None, 0, 0))
            buys.append((asset_of[listing.symbol], shares, on))
        for asset, shares, on in rng.sample(buys, VIEWED_SELLS):  # half of a buy, after it
            sell_on = min(on + timedelta(days=rng.randint(1, 400)), BACKFILL_END)
            price = Decimal(rng.randint(500, 9000)) / 100
            rows.append((asset, "sell", max(1, shares // 2), price, 0, sell_on, None, 0, 0))
        for asset, _shares, on in rng.sample(buys, VIEWED_INCOMES):
            paid = min(on + timedelta(days=rng.randint(1, 400)), BACKFILL_END)
            amount = Decimal(rng.randint(1_000, 90_000)) / 100
            rows.append((asset, "income", 0, 0, 0, paid, "dividend", amount, 0))
        statement = (
            "COPY movements (client_id, asset_id, kind, quantity, price, fees, date, "
            "income_type, amount, tax) FROM STDIN"
        )
        with conn.cursor().copy(statement) as copy:
            for row in rows:
                copy.write_row((client_id[0], *row))
        conn.commit()
    return int(client_id[0])


def build_book(url: str, clients: int) -> tuple[int, float]:
    """Seed the book and store every client's figures with the real backfill; the viewed
    client's id and the seconds it took."""
    started = time.perf_counter()
    lots = LOTS * clients // CLIENTS
    tickers = max(10, TICKERS * clients // CLIENTS)
    seed(url, clients, lots, tickers, BACKFILL_START)
    viewed = _viewed_client(url)
    by_symbol = {listing.symbol: listing for listing in (*CATALOGUE, *listings(tickers))}
    engine = engine_for(url)
    report = closing.backfill(
        engine,
        DemoMarketData(listings=by_symbol.values()),
        BACKFILL_START,
        BACKFILL_END,
        actor=SYSTEM,
    )
    if report.status != JobStatus.SUCCESS:
        raise RuntimeError(f"the bench's backfill did not succeed: {report}")
    user_service.create_user(
        UnitOfWork(uow_factory(engine)),
        SYSTEM,
        {"email": ADMIN_EMAIL, "name": "Bench", "role": "admin", "password": ADMIN_PASSWORD},
    )
    engine.dispose()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return viewed, time.perf_counter() - started


# --- the dashboard -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_url() -> str:
    url = os.environ.get("ANKA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        from core.embedded import start_embedded_redis

        print(f"No Redis at {url}: benchmarking on the embedded Redis.")
        url = start_embedded_redis(ROOT / ".anka" / "bench")
    redis.Redis.from_url(url).flushdb()
    return url


@contextmanager
def dashboard(url: str, flags: Sequence[str] = ()) -> Iterator[tuple[str, psutil.Process]]:
    """``python -m dashboard`` on a free port against ``url`` (demo market data, the default
    live interval), with Streamlit ``flags`` after the ones manage.py passes; its address
    and process. Stopped (SIGTERM, then SIGKILL) at the end."""
    port = _free_port()
    home = tempfile.mkdtemp(prefix="anka-bench-pages-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANKA_")} | {
        "ANKA_ENV": "development",
        "ANKA_HOME_DIR": home,
        "ANKA_DATABASE_URL": url,
        "ANKA_REDIS_URL": _redis_url(),
        "ANKA_MARKET_DATA": "demo",
        "ANKA_LOCALE": "pt_BR",
        "ANKA_BCRYPT_ROUNDS": "4",
    }
    command = [sys.executable, "-m", "dashboard", "--server.address", "127.0.0.1"]
    command += ["--server.port", str(port), *flags]
    log = Path(home) / "dashboard.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not start:\n{log.read_text()[-3000:]}")
            if _healthy(address):
                break
            time.sleep(0.3)
        yield address, psutil.Process(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _healthy(address: str) -> bool:
    """Whether Streamlit's health endpoint answers 200."""
    health = f"{address}/_stcore/health"  # our own http:// address
    try:
        with urllib.request.urlopen(health, timeout=2) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


# --- the browser -------------------------------------------------------------------------


def signed_in(browser: Browser, address: str) -> BrowserContext:
    """A browser context holding a session cookie (signed in through the form once)."""
    context = browser.new_context(viewport=VIEWPORT, locale="pt-BR")
    context.set_default_timeout(LOAD_TIMEOUT_MS)
    page = context.new_page()
    page.goto(address)
    page.get_by_label(t("login.username"), exact=True).fill(ADMIN_EMAIL)
    page.get_by_label(t("login.password"), exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name=t("login.submit"), exact=True).click()
    page.get_by_role("button", name=t("app.logout"), exact=True).wait_for()
    page.close()
    return context


def rendered_counts(page: Page, client_url: str) -> tuple[int, int]:
    """The tables and charts the client page settles on (an untimed first load)."""
    page.goto(client_url)
    page.wait_for_function(RENDERED, arg=[1, 1], polling="raf")
    page.wait_for_timeout(3000)  # anything drawn late is counted too
    tables, charts = page.evaluate(COUNTS)
    return int(tables), int(charts)


@dataclass(frozen=True, slots=True)
class Load:
    """One client-page load: until drawn, until the server's script run had finished, and
    the server CPU it took (the rest of the time is the browser's, or waiting for a core)."""

    drawn_s: float
    script_s: float
    cpu_s: float


def load(
    page: Page, client_url: str, counts: tuple[int, int], process: psutil.Process, runs: Refreshes
) -> Load:
    """Navigate to the client page and wait until it is drawn (timed in the page, from the
    navigation's start); ``runs`` listens to the page's WebSockets for full runs."""
    cpu_from, start = _cpu_s(process), time.monotonic()
    page.goto(client_url, wait_until="commit")
    done = page.wait_for_function(RENDERED, arg=list(counts), polling="raf")
    cpu = _cpu_s(process) - cpu_from
    finished = [moment - start for moment in runs.at if moment >= start]
    return Load(float(done.json_value()) / 1000, min(finished, default=float("nan")), cpu)


@dataclass(frozen=True, slots=True)
class Live:
    """What N live viewers cost the server over a window."""

    viewers: int
    seconds: float
    cpu_s: float
    refreshes: int
    due: int
    idle_cpu_s: float

    @property
    def cpu_ms_per_refresh(self) -> float:
        """Server CPU per viewer per refresh: all the process used over the window, the
        idle server's own share (a file watcher, say) included, over the refreshes."""
        return self.cpu_s / max(self.refreshes, 1) * 1000


def live(
    context: BrowserContext, client_url: str, process: psutil.Process, viewers: int, seconds: float
) -> Live:
    """Open ``viewers`` pages on the client page, then count the server's CPU and the
    refreshes they receive over ``seconds``."""
    interval_s = get_settings().live_interval_s
    idle_from = _cpu_s(process)
    time.sleep(5)
    idle_per_s = (_cpu_s(process) - idle_from) / 5
    counters: list[Refreshes] = []
    pages: list[Page] = []
    for _ in range(viewers):
        page = context.new_page()
        counter = Refreshes()
        page.on("websocket", counter.listen)
        page.goto(client_url)
        page.wait_for_function(RENDERED, arg=[1, 1], polling="raf")
        counters.append(counter)
        pages.append(page)
    pages[0].wait_for_timeout(2 * interval_s * 1000)  # every page on its refresh cycle
    cpu_from, start = _cpu_s(process), time.monotonic()
    pages[0].wait_for_timeout(seconds * 1000)  # events of every page are handled meanwhile
    cpu_to, end = _cpu_s(process), time.monotonic()
    for page in pages:
        page.close()
    refreshes = sum(counter.between(start, end) for counter in counters)
    due = int(viewers * (end - start) / interval_s)
    return Live(viewers, end - start, cpu_to - cpu_from, refreshes, due, idle_per_s)


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """The bench's measurements."""

    loads: list[Load]
    live: Live
    tables: int
    charts: int

    @property
    def load_median_s(self) -> float:
        """The median full load."""
        return statistics.median(one.drawn_s for one in self.loads)

    @property
    def sustained(self) -> float:
        """Live viewers one core serves: the refresh interval over one refresh's CPU."""
        interval_s = get_settings().live_interval_s
        return interval_s / max(self.live.cpu_ms_per_refresh / 1000, 1e-9)


def measure(
    address: str, process: psutil.Process, client_id: int, loads: int, viewers: int, seconds: float
) -> Figures:
    """Sign in, time ``loads`` client-page loads, then ``viewers`` live viewers."""
    client_url = f"{address}/client?client={client_id}"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = signed_in(browser, address)
            page = context.new_page()
            runs = Refreshes(ForwardMsg.FINISHED_SUCCESSFULLY)
            page.on("websocket", runs.listen)
            counts = rendered_counts(page, client_url)
            timed = [load(page, client_url, counts, process, runs) for _ in range(loads)]
            page.close()
            watched = live(context, client_url, process, viewers, seconds)
        finally:
            browser.close()
    return Figures(timed, watched, *counts)


def report(figures: Figures) -> bool:
    """Print every figure beside its target; whether all were met."""
    loads = ", ".join(f"{one.drawn_s:.2f}" for one in figures.loads)
    script_s = statistics.median(one.script_s for one in figures.loads)
    cpu_s = statistics.median(one.cpu_s for one in figures.loads)
    watched = figures.live
    cpu_ms = watched.cpu_ms_per_refresh
    interval_s = get_settings().live_interval_s
    print(
        f"(a) client page full load ({figures.tables} tables, {figures.charts} charts drawn):"
        f" median {figures.load_median_s:.2f} s ({loads}) (target <= {TARGET_LOAD_S} s); "
        f"its script run finished after {script_s:.2f} s, server CPU {cpu_s * 1000:.0f} ms "
        "(medians)"
    )
    print(
        f"(b) live refresh, {watched.viewers} viewers every {interval_s:g} s for "
        f"{watched.seconds:.0f} s: {watched.refreshes} refreshes ({watched.due} due), server "
        f"CPU {watched.cpu_s:.2f} s ({watched.cpu_s / watched.seconds:.0%} of a core; idle "
        f"{watched.idle_cpu_s * 1000:.0f} ms/s): {cpu_ms:.1f} ms per viewer per refresh "
        f"(target <= {TARGET_CPU_MS:g} ms)"
    )
    behind = watched.refreshes < 0.9 * watched.due
    print(
        f"(c) live viewers one process sustains: {figures.sustained:.0f} "
        f"({interval_s:g} s / {cpu_ms:.1f} ms on one core; target >= {TARGET_VIEWERS}); "
        f"at {watched.viewers} viewers the refreshes {'fell' if behind else 'did not fall'} "
        "behind"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return (
        figures.load_median_s <= TARGET_LOAD_S
        and cpu_ms <= TARGET_CPU_MS
        and figures.sustained >= TARGET_VIEWERS
        and not behind
    )


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    """The given database (kept, migrated to the latest schema), or a throwaway one."""
    if url is not None:
        migrate(url)
        yield url
        return
    with throwaway_database() as throwaway:
        yield throwaway


def _seeded(url: str) -> tuple[int, int] | None:
    """The viewed client's id and the book's client count, if a run already seeded ``url``."""
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(
            "SELECT (SELECT id FROM clients WHERE email = 'painel@bench.example'), "
            "(SELECT count(*) FROM clients)"
        ).fetchone()
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


def run(
    clients: int = CLIENTS,
    loads: int = LOADS,
    viewers: int = VIEWERS,
    seconds: float = LIVE_SECONDS,
    flags: Sequence[str] = (),
    database: str | None = None,
) -> bool:
    """Seed (unless ``database`` was seeded by an earlier run), serve, measure and print;
    return whether every target was met."""
    if not CHROMIUM.exists():
        print(f"no Chromium at {CHROMIUM}: skipped (install Debian's `chromium` package)")
        return False
    os.environ.setdefault("ANKA_BCRYPT_ROUNDS", "4")
    get_settings.cache_clear()
    with _database(database) as url:
        found = _seeded(url) if database is not None else None
        if found is None:
            client_id, took = build_book(url, clients)
            print(f"\n== Pages in a browser: {clients:,} clients ==")
            print(f"book seeded and backfilled in {took:.0f} s (viewed client {client_id})")
        else:
            client_id, count = found
            print(f"\n== Pages in a browser: {count - 1:,} clients + the viewed one ==")
            print(f"book from an earlier run (viewed client {client_id})")
        with dashboard(url, flags) as (address, process):
            figures = measure(address, process, client_id, loads, viewers, seconds)
    return report(figures)


def main(argv: Sequence[str] | None = None) -> bool:
    """``python -m bench pages [options]``."""
    parser = argparse.ArgumentParser(prog="python -m bench pages")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--loads", type=int, default=LOADS)
    parser.add_argument("--viewers", type=int, default=VIEWERS)
    parser.add_argument("--seconds", type=float, default=LIVE_SECONDS)
    parser.add_argument(
        "--database",
        help="use (and keep) this database, seeding it unless an earlier run did",
    )
    parser.add_argument(
        "--streamlit", nargs=argparse.REMAINDER, default=[], help="extra Streamlit flags"
    )
    args = parser.parse_args(argv)
    return run(args.clients, args.loads, args.viewers, args.seconds, args.streamlit, args.database)
