"""A runtime's batches are tried first as a faster twin of their documented model
(control_plane/json_batches.py): whatever the twin takes, the documented model takes too,
with the same values; the records a runtime sends are all taken by the twin; and what
only the documented model takes is still stored."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from control_plane.models import LogCreate, TaskRunReport
from control_plane.models.logs import LogCreateFromRuntime
from control_plane.models.task_runs import TaskRunReportFromRuntime
from runtime.states import State, StateType

NOW = datetime(2026, 12, 1, 15, 0, 0, 123456, tzinfo=timezone.utc)
# What runtime/task_engine.py's _task_run_record sends.
TASK_RUN = {
    "id": "t-0",
    "name": "add-0",
    "task_key": "add",
    "dynamic_key": "0",
    "tags": ["etl"],
    "state": State(StateType.COMPLETED, timestamp=NOW).to_wire(),
    "start_time": (NOW - timedelta(microseconds=50)).isoformat(),
    "end_time": NOW.isoformat(),
    "run_count": 1,
}
# What runtime/loggers.py's RunLogHandler sends.
LOG = {"level": 20, "name": "pushflow.runs", "message": "Finished in state Completed()", "timestamp": 1764601200.25}

STATE = TASK_RUN["state"]
TASK_RUN_VARIANTS: list[dict[str, Any]] = [
    {},
    {"state": State(StateType.FAILED, message="ValueError: no", timestamp=NOW).to_wire(), "end_time": None},
    {"state": {**STATE, "name": ""}},
    {"state": {"type": "RUNNING"}, "end_time": None},  # no name, no timestamp: the defaults
    {"state": {**STATE, "timestamp": "2026-12-01T15:00:00"}},  # a state's own timestamp may be naive
    {"state": {**STATE, "timestamp": 1764601200}},
    {"state": {**STATE, "type": "completed"}},
    {"state": {**STATE, "extra": 1}},
    {"state": "COMPLETED"},
    {"start_time": None, "end_time": None},
    {"start_time": "2026-12-01t15:00:00z"},
    {"start_time": "2026-12-01 17:00:00.5+0200"},
    {"start_time": "2026-12-01T15:00:00.000001-05:00"},
    {"start_time": "2026-12-01T15:00:00+02"},
    {"start_time": "2026-12-01T15:00:00Z\n"},
    {"start_time": "2026-12-01T15:00:00"},
    {"start_time": "2026-12-01"},
    {"start_time": "1764601200"},
    {"start_time": 1764601200},
    {"start_time": "٢٠٢٦-12-01T15:00:00Z"},
    {"start_time": "2026-13-01T15:00:00Z"},
    {"run_count": 3.0},
    {"run_count": 3.5},
    {"run_count": True},
    {"run_count": "3"},
    {"run_count": -1},
    {"run_count": 2**31},
    {"tags": "etl"},
    {"tags": [1]},
    {"dynamic_key": 0},
    {"extra": "ignored"},
]
LOG_VARIANTS: list[dict[str, Any]] = [
    {},
    {"task_run_id": "t-0"},
    {"level": 20.0},
    {"level": True},
    {"level": "20"},
    {"level": -1},
    {"timestamp": 1764601200},
    {"timestamp": "1764601200.25"},
    {"timestamp": True},
    {"name": None},
    {"message": 3},
]


def _check(twin: Any, documented: Any, record: dict[str, Any]) -> bool:
    """Whether `twin` took the record; if it did, `documented` took it too, alike."""
    body = json.dumps([record]).encode()
    try:
        (fast,) = TypeAdapter(list[twin]).validate_json(body)
    except ValidationError:
        return False
    (full,) = TypeAdapter(list[documented]).validate_json(body)  # raises if the twin took more
    assert isinstance(fast, documented)
    if "timestamp" not in record.get("state", {"timestamp": 0}):  # each model's own now()
        assert abs(fast.state.timestamp - full.state.timestamp) < timedelta(seconds=5)  # type: ignore[attr-defined]
        fast.state.timestamp = full.state.timestamp  # type: ignore[attr-defined]
    assert fast.model_dump() == full.model_dump(), record
    assert fast.model_dump_json() == full.model_dump_json()
    if isinstance(full, TaskRunReport):
        assert fast.state == full.state and fast.state.type is full.state.type  # type: ignore[attr-defined]
    return True


@pytest.mark.parametrize("change", TASK_RUN_VARIANTS, ids=json.dumps)
def test_what_the_task_run_twin_takes_the_documented_model_takes_alike(change: dict[str, Any]) -> None:
    _check(TaskRunReportFromRuntime, TaskRunReport, {**TASK_RUN, **change})


@pytest.mark.parametrize("change", LOG_VARIANTS, ids=json.dumps)
def test_what_the_log_twin_takes_the_documented_model_takes_alike(change: dict[str, Any]) -> None:
    _check(LogCreateFromRuntime, LogCreate, {**LOG, **change})


def test_the_twins_take_what_a_runtime_sends() -> None:
    for change in TASK_RUN_VARIANTS[:4]:
        assert _check(TaskRunReportFromRuntime, TaskRunReport, {**TASK_RUN, **change}), change
    assert _check(LogCreateFromRuntime, LogCreate, LOG)
    assert _check(LogCreateFromRuntime, LogCreate, {**LOG, "task_run_id": "t-0"})


def test_a_batch_only_the_documented_model_takes_is_stored(api: Any, deployment: dict) -> None:
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"label": "x"}}).json()
    reports = [{**TASK_RUN, "run_count": 3.0}, {**TASK_RUN, "id": "t-1"}]
    response = api.post(f"/api/flow-runs/{run['id']}/task-runs", json=reports)
    assert response.status_code == 204, response.text
    response = api.post(f"/api/flow-runs/{run['id']}/logs", json=[{**LOG, "level": 30.0}, LOG])
    assert response.status_code == 204, response.text
    task_runs = api.get(f"/api/flow-runs/{run['id']}/task-runs").json()
    assert sorted((t["id"], t["run_count"]) for t in task_runs) == [("t-0", 3), ("t-1", 1)]
    logs = api.get(f"/api/flow-runs/{run['id']}/logs").json()
    assert [(line["level"], line["message"]) for line in logs] == [(30, LOG["message"]), (20, LOG["message"])]
