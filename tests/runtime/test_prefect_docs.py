"""Prefect-docs-style flows (tests/flows/prefect_docs.py), each run twice: called as a
function, and from a deployment on the process pool. Both must show the same return
value, final state, number of body executions and run log lines."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.loggers import LOGGER_NAME
from tests.flows import prefect_docs
from tests.helpers import LiveServer, final, trigger

FLOWS_DIR = Path(prefect_docs.__file__).parent


@dataclasses.dataclass
class Observed:
    value: Any
    state: tuple[str, str, str | None]
    executions: dict[str, int]
    logs: list[str]


@dataclasses.dataclass
class Case:
    flow: str
    parameters: dict[str, Any]
    value: Any
    state: str
    executions: dict[str, int]
    logs: list[str]


CASES = [
    Case(
        "hello_world",
        {"name": "Marvin"},
        "Hello Marvin!",
        "COMPLETED",
        {"hello_world": 1},
        ["Flow run - Hello Marvin!"],
    ),
    Case(
        "flaky_flow",
        {},
        "made it",
        "COMPLETED",
        {"flaky_flow": 2},
        ["Flow run - Attempt 1 of 3 failed with ConnectionError: the API is down; retrying in 0s"],
    ),
    Case(
        "etl",
        {"factor": 3},
        [3, 6, 9],
        "COMPLETED",
        {"get_data": 2, "transform": 1},
        [
            "Task run 'get_data-0' - Attempt 1 of 3 failed with TimeoutError: warehouse timed out; retrying in 0s",
            "Task run 'get_data-0' - Finished in state Completed()",
            "Task run 'transform-3' - Finished in state Completed()",
        ],
    ),
    Case(
        "handles_failure",
        {},
        "recovered from: ValueError: this task failed",
        "COMPLETED",
        {"might_fail": 1},
        [
            "Task run 'might_fail-0' - Task run failed: ",
            "Task run 'might_fail-0' - Finished in state Failed('ValueError: this task failed')",
        ],
    ),
    Case(
        "always_fails",
        {},
        None,
        "FAILED",
        {"always_fails": 1},
        [
            "Flow run - Flow run failed: ",
            "Flow run - Finished in state Failed('ValueError: this flow failed')",
        ],
    ),
    Case(
        "results_flow",
        {},
        {"value": 16, "second_state": "Cached"},
        "COMPLETED",
        {"expensive": 1},
        [
            "Task run 'expensive-0' - Finished in state Completed()",
            "Task run 'expensive-1' - Finished in state Cached('result from the cache')",
        ],
    ),
    Case(
        "caching_flow",
        {},
        ["hello marvin", "hello marvin", "hello ford"],
        "COMPLETED",
        {"hello_task": 2},
        [
            "Task run 'hello_task-0' - Finished in state Completed()",
            "Task run 'hello_task-1' - Finished in state Cached('result from the cache')",
            "Task run 'hello_task-2' - Finished in state Completed()",
        ],
    ),
    Case(
        "concurrent_squares",
        {"n": 4},
        114,
        "COMPLETED",
        {"square": 5},
        [f"Task run 'square-{i}' - Finished in state Completed()" for i in range(5)],
    ),
    Case(
        "context_flow",
        {"x": 5},
        {"task": "whoami in context-flow", "parameters": {"x": 5}, "run_count": 1},
        "COMPLETED",
        {},
        ["Task run 'whoami-0' - Finished in state Completed()"],
    ),
    Case(
        "logger_flow",
        {},
        "logged",
        "COMPLETED",
        {},
        [
            "Flow run - INFO level log message.",
            "Flow run - WARNING level log message.",
            "Task run 'log_task-0' - INFO level log message from a task.",
            "Task run 'log_task-0' - Finished in state Completed()",
        ],
    ),
    Case(
        "async_flow",
        {"n": 3},
        [0, 1, 2, 4],
        "COMPLETED",
        {"fetch": 3, "square": 1},
        [f"Task run 'fetch-{i}' - Finished in state Completed()" for i in range(3)]
        + ["Task run 'square-0' - Finished in state Completed()"],
    ),
]

# Lines every run has; the cases list the rest.
COMMON = ["Flow run - Beginning flow run '<run>' for flow '<flow>'"]


def normalise(label: str, message: str, flow_name: str) -> str:
    first = message.splitlines()[0] if message else message
    first = re.sub(
        r"Beginning flow run '[^']*' for flow '[^']*'", "Beginning flow run '<run>' for flow '<flow>'", first
    )
    if label.startswith("Flow run"):
        label = "Flow run"
    return f"{label} - {first}"


def expected_logs(case: Case, state: str) -> list[str]:
    end = "Flow run - Finished in state Completed()" if state == "COMPLETED" else None
    lines = COMMON + case.logs + ([end] if end else [])
    return sorted(lines)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((getattr(record, "run_label", ""), record.getMessage()))


@pytest.fixture
def records() -> Iterator[_Records]:
    handler = _Records()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def executions(folder: Path) -> dict[str, int]:
    return {p.name: len(p.read_text()) for p in folder.iterdir()}


def called(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records: _Records) -> Observed:
    marks = tmp_path / "called-marks"
    marks.mkdir()
    monkeypatch.setenv("DOCS_MARKS", str(marks))
    monkeypatch.setenv("PUSHFLOW_RESULT_STORAGE", str(tmp_path / "called-results"))
    fl = getattr(prefect_docs, case.flow)
    state = fl(**case.parameters, return_state=True)
    if asyncio.iscoroutine(state):
        state = asyncio.run(state)
    value = state.result() if state.is_completed() else None
    logs = sorted(normalise(label, message, fl.name) for label, message in records.lines)
    return Observed(value, (state.type.value, state.name, state.message), executions(marks), logs)


@pytest.fixture(scope="module")
def deployments(live_server: LiveServer) -> dict[str, dict]:
    found = {}
    with live_server.client() as api:
        for case in CASES:
            fl = getattr(prefect_docs, case.flow)
            body = {
                "name": "docs",
                "flow_name": fl.name,
                "entrypoint": f"prefect_docs.py:{case.flow}",
                "working_dir": str(FLOWS_DIR),
                "pool": "local",
            }
            response = api.post("/api/deployments", json=body)
            response.raise_for_status()
            found[case.flow] = response.json()
    return found


def deployed(case: Case, deployment: dict, api: httpx.Client, tmp_path: Path) -> Observed:
    marks = tmp_path / "deployed-marks"
    marks.mkdir()
    env = {"DOCS_MARKS": str(marks), "PUSHFLOW_RESULT_STORAGE": str(tmp_path / "deployed-results")}
    run = final(api, trigger(api, deployment, job_variables={"env": env}, **case.parameters))
    state = run["state"]
    value = api.get(f"/api/flow-runs/{run['id']}/result").json()["value"] if state["type"] == "COMPLETED" else None
    task_names = {t["id"]: t["name"] for t in api.get(f"/api/flow-runs/{run['id']}/task-runs").json()}
    logs = []
    for entry in api.get(f"/api/flow-runs/{run['id']}/logs").json():
        if entry["name"] != LOGGER_NAME or entry["level"] < logging.INFO:
            continue
        task_run = entry.get("task_run_id")
        label = f"Task run '{task_names[task_run]}'" if task_run else "Flow run"
        logs.append(normalise(label, entry["message"], deployment["flow_name"]))
    return Observed(value, (state["type"], state["name"], state["message"]), executions(marks), sorted(logs))


@pytest.mark.parametrize("case", CASES, ids=[c.flow for c in CASES])
def test_called_and_deployed_behave_the_same(
    case: Case,
    live_server: LiveServer,
    deployments: dict[str, dict],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    records: _Records,
) -> None:
    local = called(case, tmp_path, monkeypatch, records)
    assert (local.value, local.state[0], local.executions) == (case.value, case.state, case.executions)
    assert local.logs == expected_logs(case, case.state)
    with live_server.client() as api:
        remote = deployed(case, deployments[case.flow], api, tmp_path)
    assert remote == local


def test_a_deployed_flow_with_retries_runs_its_body_this_many_times(live_server: LiveServer, tmp_path: Path) -> None:
    """@flow(retries=1) on a flow that always fails, deployed with `pushflow deploy`: the
    retries happen in the container only (docs/run-lifecycle.md), so the body runs
    retries + 1 times; the control plane re-submits only crashed infrastructure."""
    (tmp_path / "retrying.py").write_text(
        "import os, pathlib\n"
        "from pushflow import flow\n\n\n"
        "@flow(retries=1)\n"
        "def retrying() -> None:\n"
        "    with pathlib.Path(os.environ['DOCS_MARKS'], 'retrying').open('a') as fh:\n"
        "        fh.write('x')\n"
        "    raise RuntimeError('always')\n"
    )
    env = {**live_server.env, "PUSHFLOW_API_KEY": str(live_server.api_key)}
    done = subprocess.run(
        [sys.executable, "-m", "pushflow_cli", "deploy", f"{tmp_path / 'retrying.py'}:retrying", "--name", "pin"]
        + ["--pool", "local"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    marks = tmp_path / "marks"
    marks.mkdir()
    with live_server.client() as api:
        deployment = api.get("/api/deployments/by-name/retrying/pin").json()
        run = final(api, trigger(api, deployment, job_variables={"env": {"DOCS_MARKS": str(marks)}}))
    assert run["state"]["type"] == "FAILED"
    assert len((marks / "retrying").read_text()) == DEPLOYED_BODY_EXECUTIONS


# retries + 1, all in the container; a FAILED run is never re-submitted.
DEPLOYED_BODY_EXECUTIONS = 2
