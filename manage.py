"""Anka's operator commands: start the whole app, migrate, create the first admin.

    python manage.py demo     zero-config start with demo market data and seeded clients
    python manage.py run      start with the configured (Yahoo) market data
    python manage.py migrate  apply database migrations and exit
    python manage.py stop     stop the embedded PostgreSQL left running by a zero-config start

``demo``/``run`` resolve the database and Redis (embedded when ``ANKA_DATABASE_URL`` /
``ANKA_REDIS_URL`` are unset), apply migrations, create the first admin, then run the
dashboard (and, once present, the scheduler) as child processes, handing them the resolved
URLs, and stop them all on Ctrl-C or SIGTERM.
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

if TYPE_CHECKING:
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


def start(*, demo: bool, port: int) -> int:
    """Prepare services and data, then supervise the dashboard (and scheduler) until stopped."""
    if demo:
        os.environ.setdefault("ANKA_MARKET_DATA", "demo")
    from core.config import get_settings
    from core.db import UnitOfWork, engine_for, uow_factory
    from core.embedded import resolve_database_url, resolve_redis_url
    from core.market.demo import DemoMarketData
    from core.security import local_secret
    from core.services.bootstrap import ensure_admin, seed_demo, seed_demo_allocations

    settings = get_settings()
    database_url = resolve_database_url(settings)
    redis_url = resolve_redis_url(settings)
    migrate(database_url)
    factory = uow_factory(engine_for(database_url))
    credentials = [c for c in (ensure_admin(UnitOfWork(factory), settings),) if c]
    if demo:
        credentials += [c for c in (seed_demo(UnitOfWork(factory)),) if c]
        seed_demo_allocations(UnitOfWork(factory), DemoMarketData(), date.today())
    if credentials:
        _save_first_credentials(Path(settings.home_dir), credentials)
    _print_credentials(credentials, port)

    env = dict(os.environ, ANKA_DATABASE_URL=database_url, ANKA_REDIS_URL=redis_url)
    if settings.cookie_key is None:
        env["ANKA_COOKIE_KEY"] = local_secret(Path(settings.home_dir) / "cookie_key")
    app = str(ROOT / "dashboard" / "streamlit_app.py")
    dashboard = [sys.executable, "-m", "streamlit", "run", app, "--server.port", str(port)]
    children = [subprocess.Popen(dashboard, env=env, cwd=ROOT)]
    if (ROOT / "jobs" / "__main__.py").exists():
        children.append(subprocess.Popen([sys.executable, "-m", "jobs"], env=env, cwd=ROOT))
    return _supervise(children)


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


def stop_embedded() -> int:
    """Stop the embedded PostgreSQL that zero-config starts leave running for reuse."""
    from core.config import get_settings
    from core.embedded import stop_embedded_postgres

    stopped = stop_embedded_postgres(Path(get_settings().home_dir))
    print(
        "Stopped the embedded PostgreSQL." if stopped else "The embedded PostgreSQL is not running."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("demo", "run", "migrate", "stop"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ANKA_PORT", "8501")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    from core.config import ConfigError

    try:
        if args.command == "migrate":
            from core.embedded import resolve_database_url

            migrate(resolve_database_url())
            return 0
        if args.command == "stop":
            return stop_embedded()
        return start(demo=args.command == "demo", port=args.port)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
