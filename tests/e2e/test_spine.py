"""The spine, end to end: a real server process, the process pool, `pushflow execute`."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import httpx

from runtime.flows import FlowFunction
from runtime.loading import load_entrypoint
from tests.e2e.conftest import FLOWS
from tests.helpers import LiveServer, final, trigger, wait_for


def deploy(api: httpx.Client, entrypoint: str, *, schema: bool = True, **extra: Any) -> dict:
    api.post("/api/pools", json={"name": "local", "type": "process"})
    flow = load_entrypoint(entrypoint, str(FLOWS))
    assert isinstance(flow, FlowFunction)
    body = {
        "name": "test",
        "flow_name": flow.name,
        "entrypoint": entrypoint,
        "working_dir": str(FLOWS),
        "pool": "local",
        "parameter_schema": flow.parameter_schema() if schema else None,
        **extra,
    }
    response = api.post("/api/deployments", json=body)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def logs_of(api: httpx.Client, run: dict) -> str:
    return "\n".join(entry["message"] for entry in api.get(f"/api/flow-runs/{run['id']}/logs").json())


def test_triggered_run_completes_with_task_runs_and_logs(server: LiveServer) -> None:
    api = server.client()
    run = trigger(api, deploy(api, "etl.py:etl"), n=5)
    done = final(api, run)
    assert done["state"]["type"] == "COMPLETED"
    assert done["start_time"] and done["end_time"] and done["start_time"] <= done["end_time"]
    assert done["run_count"] == 1
    assert done["heartbeat_time"]  # crash detection was armed, however short the flow
    assert done["infrastructure"]["provider"] == "process"
    task_runs = api.get(f"/api/flow-runs/{run['id']}/task-runs").json()
    assert sorted(t["name"] for t in task_runs) == ["extract-0", "load-0", "transform-0"]
    assert {t["state"]["type"] for t in task_runs} == {"COMPLETED"}
    logs = logs_of(api, run)
    assert "loaded 5 rows" in logs  # get_run_logger() inside a task
    assert "total is 100" in logs  # print() captured by log_prints
    assert "Finished in state Completed" in logs


def test_failing_flow_is_failed_with_message_and_traceback(server: LiveServer) -> None:
    api = server.client()
    run = trigger(api, deploy(api, "failing.py:failing"))
    done = final(api, run)
    assert done["state"]["type"] == "FAILED"
    assert done["state"]["message"] == "ValueError: the warehouse is on fire"
    logs = logs_of(api, run)
    assert "Traceback (most recent call last)" in logs
    assert "raise ValueError(reason)" in logs


def test_killed_runtime_is_crashed_with_the_exit_code(server: LiveServer, tmp_path: Path) -> None:
    api = server.client()
    pid_file = tmp_path / "pid"
    run = trigger(api, deploy(api, "sleepy.py:sleepy"), pid_file=str(pid_file))
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the flow to start"))
    assert api.get(f"/api/flow-runs/{run['id']}").json()["state"]["type"] == "RUNNING"
    os.kill(pid, signal.SIGKILL)
    done = final(api, run)
    assert done["state"]["type"] == "CRASHED"
    assert "SIGKILL" in done["state"]["message"]
    assert "exit code -9" in done["state"]["message"]


def test_missing_entrypoint_file_fails_naming_the_file(server: LiveServer) -> None:
    api = server.client()
    deployment = deploy(api, "etl.py:etl")
    api.post(
        "/api/deployments",
        json={**{k: deployment[k] for k in ("name", "flow_name", "working_dir", "pool")}, "entrypoint": "gone.py:etl"},
    ).raise_for_status()
    done = final(api, trigger(api, deployment))
    assert done["state"]["type"] == "FAILED"
    assert "gone.py" in done["state"]["message"] and "does not exist" in done["state"]["message"]


def test_entrypoint_that_does_not_import_fails_naming_file_and_error(server: LiveServer) -> None:
    api = server.client()
    api.post("/api/pools", json={"name": "local", "type": "process"})
    body = {
        "name": "test",
        "flow_name": "broken",
        "entrypoint": "broken_import.py:broken",
        "working_dir": str(FLOWS),
        "pool": "local",
    }
    deployment = api.post("/api/deployments", json=body).json()
    run = trigger(api, deployment)
    done = final(api, run)
    assert done["state"]["type"] == "FAILED"
    assert "broken_import.py" in done["state"]["message"]
    assert "ModuleNotFoundError" in done["state"]["message"]
    assert "a_module_that_does_not_exist" in logs_of(api, run)


def test_runtime_checks_parameters_against_the_signature(server: LiveServer) -> None:
    # With no stored schema the API cannot check; the runtime still refuses bad input.
    api = server.client()
    run = trigger(api, deploy(api, "etl.py:etl", schema=False), n="lots")
    done = final(api, run)
    assert done["state"]["type"] == "FAILED"
    assert "parameter 'n'" in done["state"]["message"]


def test_run_token_is_not_the_admin_key(server: LiveServer, tmp_path: Path) -> None:
    # The runtime reports with its own token; the admin key never reaches the process.
    api = server.client()
    pid_file = tmp_path / "pid"
    run = trigger(api, deploy(api, "sleepy.py:sleepy"), pid_file=str(pid_file))
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the flow to start"))
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    assert "PUSHFLOW_API_KEY" not in env
    assert env["PUSHFLOW_RUN_TOKEN"].startswith(f"pfr_{run['id']}_")
    os.kill(pid, signal.SIGKILL)
    final(api, run)
