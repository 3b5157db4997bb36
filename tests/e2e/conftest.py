from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.ecs import EcsEmulator
from tests.helpers import LiveServer
from tests.terraform import aws_calls

FLOWS = Path(__file__).parent.parent / "flows"


@pytest.fixture(scope="module", autouse=True)
def record_aws_calls(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The AWS calls pushflow makes here feed the IAM check (tests/terraform/aws_calls.py)."""
    with aws_calls.recording(request.module.__name__, lambda: tmp_path_factory.mktemp("aws-calls")):
        yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real `pushflow server start` per test module (a server start costs seconds):
    each test deploys (upserts) what it runs and reads only its own runs."""
    with LiveServer(tmp_path_factory.mktemp("server") / "home") as live:
        yield live


@pytest.fixture(scope="module")
def ecs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcsEmulator]:
    """moto's ECS with the container simulator; each container starts in a fresh, empty
    folder, as a real one starts in its image's working dir."""
    emulator = EcsEmulator(tmp_path_factory.mktemp("ecs-containers")).start()
    emulator.simulator.fresh_working_dirs = True
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def ecs_server(ecs_emulator: EcsEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server that reaches `ecs_emulator` for every AWS call."""
    with LiveServer(tmp_path_factory.mktemp("home"), extra_env=ecs_emulator.env()) as live:
        yield live


def cli(server: LiveServer, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`pushflow ARGS` as a user runs it, against `server`."""
    return subprocess.run(
        [sys.executable, "-m", "pushflow_cli", *args],
        env={**server.env, "PUSHFLOW_API_URL": server.url},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def provision_pool(server: LiveServer, name: str, kind: str, *settings: str) -> str:
    """`pool create NAME --type KIND --set S...` then `pool provision NAME`, as an operator
    does once; returns what provisioning printed."""
    created = cli(server, "pool", "create", name, "--type", kind, *[a for s in settings for a in ("--set", s)])
    assert created.returncode == 0, created.stdout + created.stderr
    provisioned = cli(server, "pool", "provision", name)
    assert provisioned.returncode == 0, provisioned.stdout + provisioned.stderr
    return provisioned.stdout
