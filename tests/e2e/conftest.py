"""Fixtures for the real-browser tests: Anka started the way a user starts it, and Chromium.

``anka`` runs ``manage.py demo`` (dashboard + scheduler, demo market data, seeded clients) on
a free port, isolated from everything else: its own throwaway database on the tests'
PostgreSQL server, a spare Redis logical database, a fresh ``ANKA_HOME_DIR``. It waits for
Streamlit's health endpoint, and at the end stops the whole process group (SIGTERM, then
SIGKILL) and drops the database. The browser is Debian's Chromium (``/usr/bin/chromium``);
Playwright never downloads one. When a test fails, a screenshot of its page (and the tail
of Anka's log) is saved under ``tests/e2e/artifacts/`` and named in the report.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from psycopg import sql
from sqlalchemy.engine import make_url

from core.services.bootstrap import DEMO_READER_EMAIL

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# The machine has no internet: without these, Chromium's background services keep opening
# connections that are refused, many at a time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "e2e-admin-passphrase"
E2E_REDIS_DB = 13  # tests use 15, the benchmarks 14
LIVE_INTERVAL_S = "2"
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 20
VIEWPORT = {"width": 1600, "height": 1200}
ACTION_TIMEOUT_MS = 20_000


@dataclass(frozen=True, slots=True)
class Anka:
    """A running Anka and the accounts to sign in with."""

    url: str
    admin_email: str
    admin_password: str
    reader_email: str
    reader_password: str
    log: Path
    database_url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spare_redis_db(url: str) -> str:
    """The same Redis server as the tests, another logical database."""
    parts = urlsplit(url)
    if parts.scheme == "unix":  # the embedded Redis
        return urlunsplit(parts._replace(query=f"db={E2E_REDIS_DB}"))
    return urlunsplit(parts._replace(path=f"/{E2E_REDIS_DB}"))


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Anka exited with {process.returncode} while starting:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    pytest.fail(f"Anka did not answer within {START_TIMEOUT_S} s:\n{_tail(log)}")


def _reader_password(home: Path) -> str:
    """The generated read-only password, from the owner-only first-start file."""
    for line in (home / "first-start-credentials.txt").read_text().splitlines():
        email, _role, password = line.split(" ", 2)
        if email == DEMO_READER_EMAIL:
            return password
    raise AssertionError(f"no {DEMO_READER_EMAIL} in the first-start credentials")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group (launcher, dashboard, scheduler), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def anka(
    admin_database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Anka]:
    """``manage.py demo`` on a free port with its own database, Redis db and home."""
    name = f"anka_e2e_{uuid.uuid4().hex[:10]}"
    admin_dsn = _libpq(admin_database_url)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database_url = make_url(admin_database_url).set(database=name)
    cache_url = _spare_redis_db(redis_url)
    cache = redis.Redis.from_url(cache_url)
    cache.flushdb()
    workdir = tmp_path_factory.mktemp("anka-e2e")
    home = workdir / "home"  # not created: the launcher must make it
    log = workdir / "anka.log"
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANKA_")} | {
        "ANKA_ENV": "development",
        "ANKA_HOME_DIR": str(home),
        "ANKA_PORT": str(port),
        "ANKA_ADMIN_EMAIL": ADMIN_EMAIL,
        "ANKA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ANKA_MARKET_DATA": "demo",
        "ANKA_DATABASE_URL": database_url.render_as_string(hide_password=False),
        "ANKA_REDIS_URL": cache_url,
        "ANKA_LIVE_INTERVAL_S": LIVE_INTERVAL_S,
        "ANKA_LOCALE": "pt_BR",
        "ANKA_BCRYPT_ROUNDS": "4",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "demo"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Anka(
            url=url,
            admin_email=ADMIN_EMAIL,
            admin_password=ADMIN_PASSWORD,
            reader_email=DEMO_READER_EMAIL,
            reader_password=_reader_password(home),
            log=log,
            database_url=database_url.render_as_string(hide_password=False),
        )
    finally:
        _stop(process)
        cache.flushdb()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright never downloads a browser here (without it,
    every browser test is skipped and says why: .ci/run installs it)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's `chromium` package)")
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test, accepting downloads."""
    ctx = browser.new_context(viewport=VIEWPORT, locale="pt-BR", accept_downloads=True)
    ctx.set_default_timeout(ACTION_TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failed e2e test, save the page as it was and point at it (and at Anka's log)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    page = getattr(item, "funcargs", {}).get("page")
    if page is not None and not page.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"{item.name}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            report.sections.append(("e2e screenshot", f"{shot} (page at {page.url})"))
        except PlaywrightError as error:  # the test's own failure is what matters
            report.sections.append(("e2e screenshot", f"not saved: {error}"))
    server = getattr(item, "funcargs", {}).get("anka")
    if isinstance(server, Anka):
        report.sections.append((f"Anka log (end of {server.log})", _tail(server.log, 80)))
