"""``manage.py``: ``migrate`` (what docker-compose's one-shot service runs) and ``run`` (what
``make run`` starts), each on its own throwaway database on the real PostgreSQL.

``run`` is started for real as a child process: it must bring up the dashboard and the
scheduler, and stop both on SIGTERM. With an empty book and Yahoo market data it makes no
network call (nothing is held, so nothing is fetched).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

import dashboard.__main__ as launcher
import manage
from core.config import ConfigError, Settings, get_settings
from core.db import UnitOfWork, build_engine, uow_factory
from core.services.bootstrap import ensure_admin
from core.services.principal import SYSTEM
from core.services.users import verify_password

ROOT = Path(__file__).resolve().parents[2]
COOKIE_KEY = "ck-7Yh2Lq9Zt4Wm8Rn3Vb6Xc1Jd5Gf0Sa2P"
ADMIN_PASSWORD = "adm-correct-horse-battery"
FINISHED_RUNS = "SELECT count(*) FROM job_runs WHERE status <> 'running'"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def fresh_database(admin_database_url: str) -> Iterator[str]:
    """An empty database (no schema) of its own, dropped afterwards."""
    name = f"anka_manage_{uuid.uuid4().hex[:10]}"
    admin = _libpq(admin_database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_url(admin_database_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def scalar(url: str, query: str) -> object:
    engine = build_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query)).scalar()
    finally:
        engine.dispose()


def compose_command(service: str) -> list[str]:
    """The command docker-compose.yml runs for ``service``, with this interpreter."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = list(compose["services"][service]["command"])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without ANKA_ settings, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANKA_")}
    env.update(values)
    return env


def production_env(database_url: str, redis_url: str, home: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        ANKA_ENV="production",
        ANKA_DATABASE_URL=database_url,
        ANKA_REDIS_URL=redis_url,
        ANKA_COOKIE_KEY=COOKIE_KEY,
        ANKA_HOME_DIR=str(home),
        ANKA_BCRYPT_ROUNDS="4",
        **extra,
    )


# -- migrate -------------------------------------------------------------------------------
def test_migrate_brings_an_empty_database_to_head_and_creates_the_admin_once(
    fresh_database: str,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith("ANKA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANKA_DATABASE_URL", fresh_database)
    monkeypatch.setenv("ANKA_HOME_DIR", str(tmp_path / "home"))
    monkeypatch.setenv("ANKA_BCRYPT_ROUNDS", "4")
    get_settings.cache_clear()
    try:
        assert manage.main(["migrate"]) == 0
        first = capsys.readouterr().out
        assert manage.main(["migrate"]) == 0
        second = capsys.readouterr().out
    finally:
        get_settings.cache_clear()

    version = "SELECT version_num FROM alembic_version"
    assert scalar(fresh_database, version) == scalar(database_url, version)  # the test DB: head
    assert scalar(fresh_database, "SELECT count(*) FROM users WHERE role = 'admin'") == 1
    (line,) = first.strip().splitlines()
    assert line.startswith("Sign in as admin@example.com (admin) with password: ")
    password = line.rsplit(" ", 1)[1]
    factory = uow_factory(build_engine(fresh_database, pool_size=1))
    assert verify_password(UnitOfWork(factory), "admin@example.com", password) is not None
    saved = tmp_path / "home" / "first-start-credentials.txt"
    assert saved.read_text() == f"admin@example.com admin {password}\n"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert second == "", "a second migrate creates nobody and prints nothing"


def test_compose_migrate_command_in_production_needs_the_admin_password(
    fresh_database: str, redis_url: str, tmp_path: Path
) -> None:
    env = production_env(fresh_database, redis_url, tmp_path, ANKA_LOG_JSON="1")

    refused = subprocess.run(
        compose_command("migrate"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert refused.returncode == 2, refused
    assert "set ANKA_ADMIN_PASSWORD for the first start" in refused.stderr
    assert scalar(fresh_database, "SELECT count(*) FROM users") == 0

    env["ANKA_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    done = subprocess.run(
        compose_command("migrate"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done
    assert done.stdout == "", "a password the operator chose is never echoed"
    logged = [json.loads(line) for line in done.stderr.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(logged[-1])
    assert "database schema is up to date" in [entry["message"] for entry in logged]
    for output in (refused.stdout, refused.stderr, done.stderr):
        assert ADMIN_PASSWORD not in output
        assert COOKIE_KEY not in output
    factory = uow_factory(build_engine(fresh_database, pool_size=1))
    assert verify_password(UnitOfWork(factory), "admin@example.com", ADMIN_PASSWORD) is not None


def test_a_refused_configuration_exits_2_without_echoing_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANKA_ENV", "production")
    monkeypatch.setenv("ANKA_DATABASE_URL", "postgresql://anka:change-me@db:5432/anka")
    monkeypatch.setenv("ANKA_COOKIE_KEY", "short")
    get_settings.cache_clear()
    try:
        assert manage.main(["migrate"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "ANKA_DATABASE_URL has a placeholder password" in err
    assert "ANKA_COOKIE_KEY must be a random secret of at least 32 characters" in err


# -- run -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("command", "environ", "expected"),
    [
        ("run", {}, "yahoo"),
        ("run", {"ANKA_MARKET_DATA": "demo"}, "yahoo"),
        ("demo", {}, "demo"),
        ("demo", {"ANKA_MARKET_DATA": "yahoo"}, "yahoo"),
        ("migrate", {"ANKA_MARKET_DATA": "demo"}, None),
        ("stop", {}, None),
    ],
)
def test_market_data_for_each_command(
    command: str, environ: dict[str, str], expected: str | None
) -> None:
    assert manage.market_data_for(command, environ) == expected


@pytest.mark.parametrize("port", ["0", "65536", "http", "-1"])
def test_a_bad_port_is_a_usage_error(
    port: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANKA_PORT", port)
    with pytest.raises(SystemExit) as exit_info:
        manage.main(["run"])
    assert exit_info.value.code == 2
    assert f"not a port number (1-65535): '{port}'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("environ", "address"),
    [({}, "127.0.0.1"), ({"ANKA_ADDRESS": "0.0.0.0"}, "0.0.0.0")],  # noqa: S104
    ids=["a laptop: loopback only", "told otherwise"],
)
def test_the_dashboard_listens_on_the_configured_address(
    environ: dict[str, str], address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANKA_ADDRESS", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    command = manage.dashboard_command(Settings(_env_file=None), 8502)

    assert command == [
        sys.executable,
        "-m",
        "dashboard",
        "--server.address",
        address,
        "--server.port",
        "8502",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def test_run_starts_dashboard_and_scheduler_with_yahoo_and_stops_both_on_sigterm(
    fresh_database: str, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = production_env(
        fresh_database,
        redis_url,
        tmp_path,
        ANKA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        ANKA_MARKET_DATA="demo",  # `run` is the Yahoo start whatever this says
        ANKA_PORT=str(port),
        ANKA_LOG_JSON="1",
        # On 127.0.0.1 Streamlit has nothing to warn about (listening everywhere, it warned
        # that it could not detect the external IP): its debug lines show its logging.
        STREAMLIT_LOGGER_LEVEL="debug",
    )
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        launcher = subprocess.Popen(
            [sys.executable, "manage.py", "run"], cwd=ROOT, env=env, stdout=stdout, stderr=stderr
        )
    try:
        wait_for(lambda: healthy(port), 90, "the dashboard's health endpoint")
        kids = children_of(launcher.pid)
        commands = [cmdline(pid) for pid in kids]
        assert [c[1:3] for c in commands] == [["-m", "dashboard"], ["-m", "jobs"]], commands
        # Nobody said otherwise: the dashboard listens on the loopback interface only.
        assert commands[0][3:] == ["--server.address", "127.0.0.1", "--server.port", str(port)]
        # The scheduler is up: its gap repair at start is recorded.
        wait_for(
            lambda: scalar(fresh_database, FINISHED_RUNS),
            60,
            "the scheduler's first run",
        )
        # docker-compose's healthcheck command, pointed at this port, passes.
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        check = compose["services"]["dashboard"]["healthcheck"]["test"]
        probe = [sys.executable, *[a.replace("8501", str(port)) for a in check[2:]]]
        assert subprocess.run(probe, timeout=10).returncode == 0

        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=40) == 0
        wait_for(lambda: not any(alive(pid) for pid in kids), 10, "both children to exit")
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    assert not healthy(port)

    printed, logged = out.read_text(), err.read_text()
    assert "Anka is starting on http://localhost:" in printed
    entries = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    messages = [e["message"] for e in entries]
    assert "run uses yahoo market data, not demo" in messages
    assert "starting the dashboard and the scheduler (yahoo market data)" in messages
    assert "scheduler started (yahoo market data)" in messages
    assert any(e["logger"].startswith("streamlit") for e in entries), "Streamlit logs our way"
    for secret in (ADMIN_PASSWORD, COOKIE_KEY):
        assert secret not in printed
        assert secret not in logged


def test_production_never_generates_the_first_admin_password(make_uow: Any) -> None:
    settings = Settings(
        _env_file=None,
        env="production",
        database_url="postgresql://anka:a-real-password-here@db/anka",
        redis_url="redis://cache:6379/0",
        cookie_key=SecretStr(COOKIE_KEY),
    )
    with pytest.raises(ConfigError, match="set ANKA_ADMIN_PASSWORD for the first start"):
        ensure_admin(make_uow(), settings, actor=SYSTEM)


# -- python -m dashboard ---------------------------------------------------------------------
def test_dashboard_launcher_sets_up_logging_then_hands_over_to_streamlit_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks: list[tuple[Callable[[], None], bool]] = []
    monkeypatch.setattr(
        launcher.streamlit_config,
        "on_config_parsed",
        lambda func, force_connect=False: hooks.append((func, force_connect)),
    )
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        assert launcher.main(["--help"]) == 0
        ours = [h for h in root.handlers if getattr(h, "_anka_handler", False)]
        ((hook, force_connect),) = hooks
        root.handlers[:] = handlers
        hook()  # what Streamlit calls after each parse of its configuration
        again = [h for h in root.handlers if getattr(h, "_anka_handler", False)]
    finally:
        root.handlers[:] = handlers
    assert "Usage: streamlit run [OPTIONS]" in capsys.readouterr().out
    assert len(ours) == len(again) == 1
    assert force_connect, "re-applied after each of Streamlit's config parses"


def test_dashboard_launcher_refuses_a_bad_configuration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANKA_ENV", "production")
    monkeypatch.delenv("ANKA_COOKIE_KEY", raising=False)
    get_settings.cache_clear()
    try:
        assert launcher.main([]) == 2
    finally:
        get_settings.cache_clear()
    assert "ANKA_COOKIE_KEY must be a random secret" in capsys.readouterr().err
