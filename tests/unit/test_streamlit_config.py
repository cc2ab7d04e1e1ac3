"""The server options that keep live refreshes cheap (docs/performance.md): no full garbage
collection after every script run, no watching of the source tree; set in
``.streamlit/config.toml`` and not undone by the command lines that start the dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import manage
from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".streamlit" / "config.toml"
EXPECTED = {"runner.postScriptGC": False, "server.fileWatcherType": "none"}
# What Streamlit itself makes of the project's file and a command line's flags.
READ_BACK = """
import json, sys
from streamlit import config
flags = dict(arg[2:].split("=", 1) for arg in sys.argv[1:])
config.get_config_options(force_reparse=True, options_from_flags=flags)
print(json.dumps({key: config.get_option(key) for key in %r}))
"""


def _flags(argv: list[str]) -> list[str]:
    """``--key value`` and ``--key=value`` pairs of a command line as ``--key=value``."""
    flags: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg.startswith("--"):
            flags.append(arg if "=" in arg else f"{arg}={next(args)}")
    return flags


def test_the_config_file_turns_both_off() -> None:
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))

    assert config["runner"]["postScriptGC"] is False
    assert config["server"]["fileWatcherType"] == "none"


def _dashboard_command_lines() -> list[list[str]]:
    """manage.py's (``make demo``/``make run``), docker-compose's and the Dockerfile's."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    return [
        manage.dashboard_command(Settings(), 8501),
        [str(part) for part in compose["services"]["dashboard"]["command"]],
        json.loads(cmd.removeprefix("CMD ")),
    ]


@pytest.mark.parametrize("argv", _dashboard_command_lines(), ids=["manage", "compose", "docker"])
def test_no_start_command_overrides_them(argv: list[str]) -> None:
    # A command-line flag wins over the file.
    named = {flag.split("=", 1)[0].removeprefix("--") for flag in _flags(argv)}
    assert not named & set(EXPECTED)

    read = subprocess.run(
        [sys.executable, "-c", READ_BACK % list(EXPECTED), *_flags(argv)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(read.stdout.strip().splitlines()[-1]) == EXPECTED
