"""The stock runtime image (docker/runtime.Dockerfile). No image can be built here, so
this checks what can be: its command is the one every pool runs, the command works, and
the base install it makes covers everything that command imports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import tomllib

from push_pools.aci.job import AciJob
from push_pools.cloud_run.job import DEFAULT_COMMAND as CLOUD_RUN_COMMAND
from push_pools.ecs.job import EcsJob
from push_pools.managed import STOCK_IMAGE, ManagedJob

ROOT = Path(__file__).parents[2]
DOCKERFILE = ROOT / "docker" / "runtime.Dockerfile"


def image_command() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.M)
    assert match, "the Dockerfile has an exec-form CMD"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_the_image_runs_what_every_pool_runs() -> None:
    command = image_command()
    assert command == ["pushflow", "execute"]
    assert EcsJob.model_fields["command"].default_factory() == command  # type: ignore[misc, call-arg]
    assert command == CLOUD_RUN_COMMAND
    assert AciJob.model_fields["command"].default == command
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["pushflow"] == "pushflow_cli.main:main"
    assert ManagedJob().image == STOCK_IMAGE


def test_the_command_starts_and_explains_a_missing_run() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pushflow_cli", "execute"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "set PUSHFLOW_FLOW_RUN_ID" in done.stderr


def test_the_base_install_covers_what_the_entrypoint_imports() -> None:
    """Every third-party distribution `pushflow execute` imports (running a bundle or a
    git source, installing requirements) is a base dependency or one of theirs."""
    probe = (
        "import sys, runtime.execute, runtime.sources, runtime.requirements, pushflow_cli.main, pushflow; "
        "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    imported = set(done.stdout.split())
    ours = {"runtime", "pushflow", "pushflow_cli", "push_pools", "control_plane"}
    by_module = metadata.packages_distributions()
    distributions = {d.lower() for m in imported - ours for d in by_module.get(m, [])}
    base = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    # Optional imports of installed packages, guarded by try/except where they are made:
    # httpx tries click for its CLI; setuptools' site hook loads _distutils_hack.
    allowed = _closure({_name(r) for r in base}) | {"click", "setuptools"}
    assert distributions - allowed == set(), "imported but not in the base install"
    # and the server's, the clouds' packages are not needed to run a flow
    assert not distributions & {"fastapi", "sqlmodel", "sqlalchemy", "boto3", "uvicorn"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _closure(names: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return {n.replace("-", "_") for n in seen} | seen
