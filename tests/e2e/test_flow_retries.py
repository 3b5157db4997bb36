"""Flow retries are applied once, from a deployment (docs/run-lifecycle.md): a flow's
`@flow(retries=N)` runs its body N+1 times inside one container, never (N+1)² times; the
control plane re-submits on new infrastructure only when the infrastructure crashed, and
only as often as the deployment's own `retries` allows (default 0)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.shell import pushflow
from tests.helpers import LiveServer, final, trigger

FLOWS = """
import os
from pathlib import Path

from runtime import flow


def count(log_file: str) -> int:
    path = Path(log_file)
    runs = len(path.read_text().splitlines()) if path.exists() else 0
    path.write_text("ran\\n" * (runs + 1))
    return runs + 1


@flow(retries=2, retry_delay_seconds=0)
def always_fails(log_file: str) -> None:
    count(log_file)
    raise RuntimeError("the body fails every time")


@flow(retries=2, retry_delay_seconds=0)
def dies_once(log_file: str) -> str:
    if count(log_file) == 1:
        os._exit(137)  # the container dies: no final state is reported
    return "second container"
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    root = tmp_path_factory.mktemp("retries")
    folder = root / "project"
    folder.mkdir()
    (folder / "flows.py").write_text(textwrap.dedent(FLOWS))
    live = LiveServer(root / "home").start()
    try:
        live.client().post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
        yield live, folder
    finally:
        live.stop()


def deploy(server: LiveServer, folder: Path, entrypoint: str) -> dict:
    env = {"PUSHFLOW_API_KEY": server.api_key or ""}
    result = pushflow(server, folder, "deploy", entrypoint, "--name", "d", "--pool", "local", env=env)
    assert result.returncode == 0, result.stderr
    flow_name = entrypoint.split(":")[1].replace("_", "-")
    found = server.client().get(f"/api/deployments/by-name/{flow_name}/d")
    assert found.status_code == 200, found.text
    return found.json()  # type: ignore[no-any-return]


def test_a_deployed_flow_with_retries_runs_its_body_retries_plus_one_times(
    project: tuple[LiveServer, Path], tmp_path: Path
) -> None:
    server, folder = project
    deployment = deploy(server, folder, "flows.py:always_fails")
    assert deployment["retries"] == 0  # `@flow(retries=)` is not copied into the deployment
    log_file = tmp_path / "bodies.txt"
    done = final(server.client(), trigger(server.client(), deployment, log_file=str(log_file)), timeout=90)
    assert done["state"]["type"] == "FAILED"
    assert len(log_file.read_text().splitlines()) == 3  # 1 + 2 retries, in one container
    assert done["dispatch_count"] == 1


def test_a_crashed_container_is_resubmitted_only_as_the_deployment_allows(
    project: tuple[LiveServer, Path], tmp_path: Path
) -> None:
    server, folder = project
    api = server.client()
    deployment = deploy(server, folder, "flows.py:dies_once")
    api.patch(f"/api/deployments/{deployment['id']}", json={"retries": 1}).raise_for_status()
    log_file = tmp_path / "bodies.txt"
    done = final(api, trigger(api, deployment, log_file=str(log_file)), timeout=90)
    assert done["state"]["type"] == "COMPLETED", done["state"]
    assert len(log_file.read_text().splitlines()) == 2  # the crash is not a flow failure: no in-process retry
    assert done["dispatch_count"] == 2
    timeline = [e["payload"]["to"]["name"] for e in api.get(f"/api/flow-runs/{done['id']}/events").json()]
    assert "AwaitingRetry" in timeline
