"""SDK behaviour when a flow runs from a deployment: a real server process, the process
pool, `pushflow execute`; everything is read back over the HTTP API."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import LiveServer, final, trigger

FLOWS = """
from runtime import Flow, Parameter, flow, task


@task(retries=2)
def flaky(path: str) -> str:
    import pathlib

    marker = pathlib.Path(path)
    if not marker.exists():
        marker.write_text("tried")
        raise ConnectionError("first attempt fails")
    return "ok"


@task
def square(x: int) -> int:
    return x * x


@flow
def child(n: int) -> int:
    return sum(square.map(range(n)).result())


@flow
def parent(n: int, marker: str) -> int:
    flaky(marker)
    return child(n) + child(1)


@task
def inc(x):
    return x + 1


@task
def explode(x):
    raise ValueError("no")


@task(retries=1)
async def fetch(marker: str) -> int:
    import pathlib

    path = pathlib.Path(marker)
    path.write_text(path.read_text() + "x" if path.exists() else "x")
    if path.read_text() == "x":
        raise ConnectionError("first attempt fails")
    return len(path.read_text())


@task
async def halve(x: int) -> float:
    return x / 2


@flow
async def async_flow(marker: str) -> float:
    import asyncio

    fetched = await fetch(marker)
    halves = await asyncio.gather(halve(fetched), halve(10))
    return sum(halves)


with Flow("graph") as graph:
    start = Parameter("start", default=1)
    inc(inc(start))

with Flow("broken-graph") as broken:
    after = inc(explode(Parameter("start", default=1)))
"""


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    return live_server


@pytest.fixture(scope="module")
def flows_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flows") / "sdk_flows.py"
    path.write_text(textwrap.dedent(FLOWS))
    return path


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def deploy(server: LiveServer, flows_file: Path, name: str) -> dict:
    """`pushflow deploy file.py:name`, like a user."""
    env = {**os.environ, "PUSHFLOW_API_URL": server.url, "PUSHFLOW_API_KEY": server.api_key}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pushflow_cli",
            "deploy",
            f"{flows_file}:{name}",
            "--name",
            "sdk",
            "--pool",
            "local",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    flow_name = done.stdout.split("Deployed ")[1].split("/sdk")[0]
    with server.client() as api:
        response = api.get(f"/api/deployments/by-name/{flow_name}/sdk")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


def run_to_end(api: httpx.Client, deployment: dict, **parameters: Any) -> dict:
    return final(api, trigger(api, deployment, **parameters))


def task_runs(api: httpx.Client, run: dict) -> list[dict]:
    return api.get(f"/api/flow-runs/{run['id']}/task-runs").json()  # type: ignore[no-any-return]


def test_retries_mapped_tasks_and_subflows_are_reported(
    server: LiveServer, api: httpx.Client, flows_file: Path, tmp_path: Path
) -> None:
    run = run_to_end(api, deploy(server, flows_file, "parent"), n=3, marker=str(tmp_path / "marker"))
    assert run["state"]["type"] == "COMPLETED", run["state"]
    (flaky_run,) = task_runs(api, run)
    assert (flaky_run["name"], flaky_run["state"]["type"], flaky_run["run_count"]) == (
        "flaky-0",
        "COMPLETED",
        2,
    )

    children = [
        r
        for r in api.get("/api/flow-runs", params={"flow_name": "child"}).json()["items"]
        if r["parent_flow_run_id"] == run["id"]
    ]
    assert len(children) == 2
    assert {c["state"]["type"] for c in children} == {"COMPLETED"}
    mapped = sorted(t["name"] for c in children for t in task_runs(api, c))
    assert mapped == ["square-0", "square-0", "square-1", "square-2"]
    logs = [e["message"] for e in api.get(f"/api/flow-runs/{children[0]['id']}/logs").json()]
    assert any("Beginning flow run" in m for m in logs)


def test_a_flow_api_graph_deploys_and_runs(server: LiveServer, api: httpx.Client, flows_file: Path) -> None:
    deployment = deploy(server, flows_file, "graph")
    assert deployment["parameter_schema"]["properties"] == {"start": {"default": 1}}
    run = run_to_end(api, deployment, start=5)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    runs = task_runs(api, run)
    assert sorted(t["name"] for t in runs) == ["inc-0", "inc-1"]
    bad = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"nope": 1}})
    assert bad.status_code == 422


def test_a_failed_graph_reports_trigger_failed(server: LiveServer, api: httpx.Client, flows_file: Path) -> None:
    run = run_to_end(api, deploy(server, flows_file, "broken"))
    assert run["state"]["type"] == "FAILED"
    assert run["state"]["message"] == "Some reference tasks failed: inc (TriggerFailed)"
    states = {t["name"]: t["state"]["name"] for t in task_runs(api, run)}
    assert states == {"explode-0": "Failed", "inc-0": "TriggerFailed"}


def test_a_deployed_async_flow_runs_its_body(
    server: LiveServer, api: httpx.Client, flows_file: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "async-marker"
    run = run_to_end(api, deploy(server, flows_file, "async_flow"), marker=str(marker))
    assert run["state"]["type"] == "COMPLETED", run["state"]
    assert marker.read_text() == "xx"  # the body ran, and its task retried once
    runs = {t["name"]: (t["state"]["type"], t["run_count"]) for t in task_runs(api, run)}
    assert runs == {"fetch-0": ("COMPLETED", 2), "halve-0": ("COMPLETED", 1), "halve-1": ("COMPLETED", 1)}
