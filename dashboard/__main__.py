"""``python -m dashboard [streamlit options]``: the Streamlit server, logging Anka's way.

The same as ``streamlit run dashboard/server.py [options]`` (``make demo``/``make run``
and docker-compose start it this way), except that every log line, Streamlit's own
included, uses Anka's format and redaction (:mod:`core.logging_setup`, JSON lines with
``ANKA_LOG_JSON=1``) from the server's first line, not from the first visitor's session.
Streamlit resets its loggers' handlers whenever it parses its configuration, so the set-up
is applied again after each parse.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import ValidationError
from streamlit import config as streamlit_config
from streamlit.web import cli as streamlit_cli

from core.config import ConfigError, get_settings
from core.logging_setup import configure, redact, secrets_from

# The Starlette app that serves streamlit_app.py and owns the session cookie.
APP = Path(__file__).resolve().parent / "server.py"


def main(argv: list[str] | None = None) -> int:
    """Configure logging, then hand the command line to ``streamlit run``."""
    try:
        settings = get_settings()
    except (ConfigError, ValidationError) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2

    def set_up() -> None:
        configure(settings.log_json, secrets=secrets_from(settings))

    set_up()
    # Runs after Streamlit's own handler on each parse (receivers run in connection order).
    streamlit_config.on_config_parsed(set_up, force_connect=True)
    args = ["run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    try:
        streamlit_cli.main.main(args=args, prog_name="streamlit", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
