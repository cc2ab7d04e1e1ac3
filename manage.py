"""Anka's operator commands: start the whole app, migrate, create the first admin.

    python manage.py demo     zero-config start with demo market data and seeded clients
    python manage.py run      start with Yahoo market data and the configured services
    python manage.py migrate  apply database migrations, create the first admin, and exit
    python manage.py stop     stop the embedded PostgreSQL left running by a zero-config start

``demo``/``run`` resolve the database and Redis (embedded when ``ANKA_DATABASE_URL`` /
``ANKA_REDIS_URL`` are unset), apply migrations, create the first admin, then run the
dashboard and the scheduler as child processes, handing them the resolved URLs, and stop
them both on Ctrl-C or SIGTERM (and the other one when either exits). ``run`` always uses
Yahoo market data (``make demo`` is the way to demo data). ``migrate`` is what a deployment
runs as a separate step (docker-compose's one-shot ``migrate`` service).

Logs go through :mod:`core.logging_setup` (one format, JSON lines with ``ANKA_LOG_JSON=1``,
secrets redacted); the generated first-start passwords are printed to the terminal, never
logged, and production refuses to generate one (set ``ANKA_ADMIN_PASSWORD``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from pydantic import ValidationError

if TYPE_CHECKING:
    from core.config import Settings
    from core.services.bootstrap import Credentials

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("anka")


def migrate(database_url: str) -> None:
    """Bring the database at ``database_url`` to the latest schema."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


def _print_credentials(credentials: list[Credentials], port: int) -> None:
    print(f"\n  Anka is starting on http://localhost:{port}\n")
    for cred in credentials:
        print(f"  Sign in as {cred.email} ({cred.role}) with password: {cred.password}")
    if credentials:
        print("  These generated passwords are shown once; save them now.\n")
    else:
        print("  Sign in with the accounts created on the first start.\n")


def market_data_for(command: str, environ: dict[str, str]) -> str | None:
    """The ``ANKA_MARKET_DATA`` a start command imposes: ``run`` is always Yahoo, ``demo``
    defaults to demo data (an explicit setting wins); None leaves the setting alone."""
    if command == "run":
        return "yahoo"
    if command == "demo":
        return environ.get("ANKA_MARKET_DATA", "demo")
    return None


def first_admin(database_url: str, settings: Settings) -> list[Credentials]:
    """Create the first admin on an empty database; the generated credentials, if any."""
    from core.db import UnitOfWork, engine_for, uow_factory
    from core.services.bootstrap import ensure_admin
    from core.services.principal import SYSTEM

    created = ensure_admin(
        UnitOfWork(uow_factory(engine_for(database_url))), settings, actor=SYSTEM
    )
    return [created] if created else []


def start(settings: Settings, *, demo: bool, port: int) -> int:
    """Prepare services and data, then supervise the dashboard and scheduler until stopped."""
    from core.db import UnitOfWork, engine_for, uow_factory
    from core.embedded import resolve_database_url, resolve_redis_url
    from core.market.demo import DemoMarketData
    from core.security import local_secret
    from core.services.bootstrap import seed_demo, seed_demo_allocations
    from core.services.principal import SYSTEM

    database_url = resolve_database_url(settings)
    redis_url = resolve_redis_url(settings)
    migrate(database_url)
    factory = uow_factory(engine_for(database_url))
    credentials = first_admin(database_url, settings)
    if demo:
        credentials += [c for c in (seed_demo(UnitOfWork(factory), actor=SYSTEM),) if c]
        seed_demo_allocations(UnitOfWork(factory), DemoMarketData(), date.today(), actor=SYSTEM)
    if credentials:
        _save_first_credentials(Path(settings.home_dir), credentials)
    _print_credentials(credentials, port)

    env = dict(os.environ, ANKA_DATABASE_URL=database_url, ANKA_REDIS_URL=redis_url)
    if settings.cookie_key is None:
        env["ANKA_COOKIE_KEY"] = local_secret(Path(settings.home_dir) / "cookie_key")
    dashboard = dashboard_command(settings, port)
    log.info("starting the dashboard and the scheduler (%s market data)", settings.market_data)
    children = [
        subprocess.Popen(dashboard, env=env, cwd=ROOT),
        subprocess.Popen([sys.executable, "-m", "jobs"], env=env, cwd=ROOT),
    ]
    return _supervise(children)


def dashboard_command(settings: Settings, port: int) -> list[str]:
    """The dashboard's command line: on ``ANKA_ADDRESS`` (127.0.0.1 unless told otherwise,
    so a laptop demo is not served over plain HTTP to its whole network) and ``port``."""
    return [
        sys.executable,
        "-m",
        "dashboard",
        "--server.address",
        settings.address,
        "--server.port",
        str(port),
    ]


def _save_first_credentials(home: Path, credentials: list[Credentials]) -> None:
    """Keep the generated first-start passwords in an owner-only file for this laptop."""
    home.mkdir(parents=True, exist_ok=True)  # absent when both servers are external
    path = home / "first-start-credentials.txt"
    lines = [f"{c.email} {c.role} {c.password}\n" for c in credentials]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.writelines(lines)


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = False

    def _stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.3)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    failed = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM)]
    return 0 if stopping or not failed else 1


def migrate_command(settings: Settings) -> int:
    """Apply migrations, then create the first admin if the database has no users."""
    from core.embedded import resolve_database_url

    database_url = resolve_database_url(settings)
    migrate(database_url)
    log.info("database schema is up to date")
    credentials = first_admin(database_url, settings)
    if credentials:
        _save_first_credentials(Path(settings.home_dir), credentials)
        for cred in credentials:
            print(f"  Sign in as {cred.email} ({cred.role}) with password: {cred.password}")
    return 0


def stop_embedded(settings: Settings) -> int:
    """Stop the embedded PostgreSQL that zero-config starts leave running for reuse."""
    from core.embedded import stop_embedded_postgres

    stopped = stop_embedded_postgres(Path(settings.home_dir))
    print(
        "Stopped the embedded PostgreSQL." if stopped else "The embedded PostgreSQL is not running."
    )
    return 0


def port_number(text: str) -> int:
    """A TCP port (1-65535) for argparse."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return port


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("demo", "run", "migrate", "stop"))
    parser.add_argument(
        "--port",
        type=port_number,
        default=os.environ.get("ANKA_PORT", "8501"),  # argparse converts it with port_number
        help="the dashboard's port (ANKA_PORT, 8501)",
    )
    args = parser.parse_args(argv)
    from core.config import ConfigError, get_settings
    from core.logging_setup import configure, redact, secrets_from

    market_data = market_data_for(args.command, dict(os.environ))
    overridden = os.environ.get("ANKA_MARKET_DATA", market_data)
    if market_data is not None:
        os.environ["ANKA_MARKET_DATA"] = market_data  # the children inherit it
        get_settings.cache_clear()
    try:
        settings = get_settings()
        configure(settings.log_json, secrets=secrets_from(settings))
        if market_data is not None and market_data != overridden:
            log.warning("%s uses %s market data, not %s", args.command, market_data, overridden)
        if args.command == "migrate":
            return migrate_command(settings)
        if args.command == "stop":
            return stop_embedded(settings)
        return start(settings, demo=args.command == "demo", port=args.port)
    except (ConfigError, ValidationError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
