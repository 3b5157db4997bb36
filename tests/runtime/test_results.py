"""Results of deployed runs: `@flow(persist_result=True)` records the return value; it is
read back over `GET /api/flow-runs/{id}/result`, `pushflow runs result ID` and the SDK."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushflow import FlowRunFailed
from pushflow.deployments import run_deployment
from runtime.client import PushflowClient
from tests.helpers import LiveServer

FLOWS = """
from pushflow import flow, runtime


@flow(persist_result=True)
def totals(n: int = 3) -> dict:
    return {"n": n, "squares": [i * i for i in range(n)]}


@flow(persist_result=True, result_storage=STORAGE)
def opaque_value() -> set:
    return {1, 2}


@flow
def forgetful() -> int:
    return 1


@flow(persist_result=True)
def whereami() -> dict:
    return {
        "deployment": [runtime.deployment.name, runtime.deployment.id],
        "flow_run": [runtime.flow_run.id, runtime.flow_run.name, runtime.flow_run.run_count],
        "scheduled": runtime.flow_run.scheduled_start_time is not None,
    }


@flow(persist_result=True)
def broken() -> int:
    raise ValueError("no result")
"""


@pytest.fixture(scope="module")
def deployed(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("results")
    (folder / "flows.py").write_text(textwrap.dedent(FLOWS).replace("STORAGE", repr(str(folder / "store"))))
    names = {}
    with live_server.client() as api:
        for name in ("totals", "opaque_value", "forgetful", "broken", "whereami"):
            body = {
                "name": "r",
                "flow_name": name.replace("_", "-"),
                "entrypoint": f"flows.py:{name}",
                "working_dir": str(folder),
                "pool": "local",
            }
            api.post("/api/deployments", json=body).raise_for_status()
            names[name] = f"{body['flow_name']}/r"
    return names


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[PushflowClient]:
    with PushflowClient(live_server.url, live_server.api_key, retries=0) as api:
        yield api


def test_a_persisted_json_result_is_readable_over_the_api_the_cli_and_the_sdk(
    live_server: LiveServer, deployed: dict[str, str], client: PushflowClient
) -> None:
    run = run_deployment(deployed["totals"], parameters={"n": 4}, timeout=60, poll_interval=0.1, client=client)
    assert run.state.is_completed(), run.state
    expected = {"n": 4, "squares": [0, 1, 4, 9]}
    assert run.result() == expected

    with live_server.client() as api:
        body = api.get(f"/api/flow-runs/{run.id}/result").json()
    assert (body["inline"], body["serializer"], body["value"]) == (True, "pickle", expected)
    assert body["key"] == f"results/flow-runs/{run.id}"

    env = {**os.environ, "PUSHFLOW_API_URL": live_server.url, "PUSHFLOW_API_KEY": str(live_server.api_key)}
    done = subprocess.run(
        [sys.executable, "-m", "pushflow_cli", "runs", "result", run.id], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert '"squares": [' in done.stdout


def test_a_value_json_cannot_hold_is_read_from_result_storage(deployed: dict[str, str], client: PushflowClient) -> None:
    run = run_deployment(deployed["opaque_value"], timeout=60, poll_interval=0.1, client=client)
    assert run.state.is_completed(), run.state
    assert run.result() == {1, 2}


def test_runs_without_a_result_say_why(
    live_server: LiveServer, deployed: dict[str, str], client: PushflowClient
) -> None:
    forgetful = run_deployment(deployed["forgetful"], timeout=60, poll_interval=0.1, client=client)
    broken = run_deployment(deployed["broken"], timeout=60, poll_interval=0.1, client=client)
    with live_server.client() as api:
        missing = api.get(f"/api/flow-runs/{forgetful.id}/result")
        assert missing.status_code == 404
        assert "persist_result=True" in missing.json()["detail"]
        failed = api.get(f"/api/flow-runs/{broken.id}/result")
        assert failed.status_code == 404 and "ended FAILED" in failed.json()["detail"]
    assert broken.state.is_failed() and "ValueError: no result" in (broken.state.message or "")
    with pytest.raises(FlowRunFailed, match="is Failed"):
        broken.result()
    env = {**os.environ, "PUSHFLOW_API_URL": live_server.url, "PUSHFLOW_API_KEY": str(live_server.api_key)}
    done = subprocess.run(
        [sys.executable, "-m", "pushflow_cli", "runs", "result", forgetful.id], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
    assert "persist_result=True" in done.stderr


def test_a_local_call_persists_to_result_storage(tmp_path: Path) -> None:
    from pushflow import flow
    from runtime.results import LocalFileStorage, load_result

    storage = LocalFileStorage(tmp_path)

    @flow(persist_result=True, result_storage=storage)
    def local() -> list[int]:
        return [1, 2]

    state = local(return_state=True)
    assert state.result() == [1, 2]
    assert load_result(state.result_key, storage) == [1, 2]


def test_a_deployed_run_sees_its_deployment_and_itself_in_the_runtime_context(
    live_server: LiveServer, deployed: dict[str, str], client: PushflowClient
) -> None:
    run = run_deployment(deployed["whereami"], timeout=60, poll_interval=0.1, client=client)
    with live_server.client() as api:
        deployment = api.get(f"/api/deployments/by-name/{deployed['whereami']}").json()
    assert run.result() == {
        "deployment": ["r", deployment["id"]],
        "flow_run": [run.id, run.name, 1],
        "scheduled": True,
    }
