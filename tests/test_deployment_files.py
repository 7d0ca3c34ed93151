"""deploy/compose.yaml and deploy/Containerfile (docs/deployment.md, "Containers"): no
container engine runs on the development machine or in CI, so the files are checked here
instead of started: every command is one `beffroi` accepts, every process has the settings
its role needs, the workers cover both queues, the start order holds, no secret is written
in, and what the image copies and installs exists."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from beffroi.cli import main

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "deploy" / "compose.yaml"
CONTAINERFILE = REPO / "deploy" / "Containerfile"
#: What every Beffroi process needs (docs/deployment.md, "Processes and the settings…").
COMMON = {"DATABASE_URL", "BEFFROI_BROKER_URL", "BEFFROI_SECRET_KEY", "BEFFROI_HOME"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _beffroi_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image", "").startswith("beffroi")
    }


def _parse(command: list[str]) -> click.Context:
    """Parse a service's command as `beffroi` would, refusing unknown commands or options."""
    assert command[0] == "beffroi", command
    group = main.make_context("beffroi", command[1:], resilient_parsing=False)
    name, subcommand, rest = main.resolve_command(group, command[1:])
    assert subcommand is not None and name
    return subcommand.make_context(name, rest, parent=group)


def test_every_beffroi_process_runs_a_real_command_with_its_settings(
    compose: dict[str, Any],
) -> None:
    services = _beffroi_services(compose)
    assert set(services) == {"migrate", "web", "worker-fast", "worker-slow"}
    queues: set[str] = set()
    for name, service in services.items():
        context = _parse(service["command"])
        environment = service["environment"]
        assert COMMON <= set(environment), (name, COMMON - set(environment))
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["BEFFROI_BROKER_URL"].startswith("redis://redis:")
        if context.info_name == "worker":
            queues.update(context.params["queues"].split(","))
            assert service["healthcheck"] == {"disable": True}  # a worker serves no page
    assert queues == {"fast", "slow"}
    web = services["web"]
    # Inside its container, the web application listens on every interface of the container.
    assert _parse(web["command"]).params["host"] == "0.0.0.0"  # noqa: S104
    assert {"BEFFROI_ALLOWED_HOSTS", "BEFFROI_PUBLIC_URL"} <= set(web["environment"])
    assert _parse(services["migrate"]["command"]).info_name == "init"


def test_a_wrong_command_would_be_caught() -> None:
    """The check above can fail: an option `beffroi worker` does not have is refused."""
    with pytest.raises(click.UsageError):
        _parse(["beffroi", "worker", "--queue", "fast"])
    with pytest.raises(click.BadParameter):
        _parse(["beffroi", "worker", "--queues", "urgent"])


def test_the_start_order_and_the_shared_data(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("web", "worker-fast", "worker-slow"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert "data:/data" in services[name]["volumes"], name
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert set(compose["volumes"]) == {"postgres", "data"}
    # Published on the loopback only: the HTTPS proxy stands in front.
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_no_secret_is_written_in(compose: dict[str, Any]) -> None:
    """Passwords and the secret key come from the operator's environment, required."""
    text = COMPOSE.read_text()
    for variable in ("POSTGRES_PASSWORD", "BEFFROI_SECRET_KEY"):
        assert f"${{{variable}:?" in text, variable
        assert not re.search(rf"\${{{variable}:-", text), variable
    settings = _beffroi_services(compose)["web"]["environment"]
    assert settings["BEFFROI_SECRET_KEY"].startswith("${BEFFROI_SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in settings["DATABASE_URL"]


def test_the_image_copies_what_exists_and_installs_a_real_extra() -> None:
    instructions = re.sub(r"\\\n\s*", " ", CONTAINERFILE.read_text())  # continued lines
    lines = [
        line.strip()
        for line in instructions.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copies = [shlex.split(line)[1:-1] for line in lines if line.startswith("COPY ")]
    assert copies
    for sources in copies:
        for source in sources:
            assert (REPO / source).exists(), source
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    installs = [line for line in lines if line.startswith("RUN pip install")]
    assert len(installs) == 1
    extras = re.findall(r"\.\[([a-z,]+)\]", installs[0])
    assert extras and set(extras[0].split(",")) <= set(project["optional-dependencies"])
    assert "psycopg[binary]>=3.1" in project["optional-dependencies"]["scale"]
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in lines)
    command = next(line for line in lines if line.startswith("CMD "))
    _parse(yaml.safe_load(command.removeprefix("CMD ")))
    assert project["scripts"]["beffroi"].startswith("beffroi.cli")
