"""The reporter ships a running flow's task runs and log lines to the server in batches:
a busy flow's records reach the server while it still runs (the UI and `pushflow run
--watch` show them live), and nothing queued is lost when the run ends."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest

from runtime.client import PushflowClient
from runtime.reporting import Reporter
from tests.helpers import LiveServer, wait_for


@pytest.fixture
def run_id(live_server: LiveServer) -> str:
    """A run no pool picks up (it is scheduled far ahead): only the reporter writes to it."""
    api = live_server.client()
    deployment = api.post(
        "/api/deployments",
        json={"name": f"r-{uuid.uuid4().hex[:8]}", "flow_name": "reported", "pool": "local", "entrypoint": "x.py:f"},
    )
    assert deployment.status_code in (200, 201), deployment.text
    run = api.post(
        f"/api/deployments/{deployment.json()['id']}/runs",
        json={"scheduled_start_time": "2999-01-01T00:00:00Z"},
    )
    assert run.status_code == 201, run.text
    return str(run.json()["id"])


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[PushflowClient]:
    client = PushflowClient(live_server.url, live_server.api_key)
    yield client
    client.close()


def record(i: int) -> dict:
    now = datetime.now(timezone.utc).isoformat()
    return {
        "id": str(uuid.uuid4()),
        "name": f"step-{i}",
        "task_key": "tests.step",
        "dynamic_key": str(i),
        "tags": [],
        "state": {"type": "COMPLETED", "name": "Completed", "timestamp": now},
        "start_time": now,
        "end_time": now,
        "run_count": 1,
    }


def line(i: int) -> dict:
    return {"level": 20, "name": "tests", "message": f"line {i}", "timestamp": time.time()}


def task_runs(api: httpx.Client, run_id: str) -> list[dict]:
    return api.get(f"/api/flow-runs/{run_id}/task-runs").json()  # type: ignore[no-any-return]


def test_a_busy_flows_records_reach_the_server_while_it_runs(
    live_server: LiveServer, client: PushflowClient, run_id: str
) -> None:
    api = live_server.client()
    # An hour between timed sends: only the number of waiting records can start a send.
    reporter = Reporter(client, run_id, interval=3600, eager=50)
    try:
        for i in range(50):
            reporter.task_run(record(i))
            reporter.log(line(i))
        wait_for(lambda: len(task_runs(api, run_id)) == 50 or None, timeout=30, what="50 task runs on the server")
        logs = wait_for(
            lambda: (lambda got: got if len(got) == 50 else None)(api.get(f"/api/flow-runs/{run_id}/logs").json()),
            timeout=30,
            what="50 log lines on the server",
        )
        assert [entry["message"] for entry in logs] == [f"line {i}" for i in range(50)]
        # Fewer than `eager` records wait for the interval (or the end of the run)...
        for i in range(50, 60):
            reporter.task_run(record(i))
        assert len(task_runs(api, run_id)) == 50
    finally:
        reporter.close()
    # ... and closing the reporter sends them.
    assert sorted(r["name"] for r in task_runs(api, run_id)) == sorted(f"step-{i}" for i in range(60))


def test_a_large_backlog_goes_in_batches_and_nothing_is_lost(
    live_server: LiveServer, client: PushflowClient, run_id: str
) -> None:
    api = live_server.client()
    reporter = Reporter(client, run_id, interval=3600, max_batch=100)
    for i in range(1234):
        reporter.task_run(record(i))
    reporter.close()
    assert len(task_runs(api, run_id)) == 1234


def test_a_task_run_named_twice_in_one_batch_keeps_its_last_report(live_server: LiveServer, run_id: str) -> None:
    """As when it is reported again in a later batch: the later report wins."""
    api = live_server.client()
    running = record(0)
    running["state"] = {"type": "RUNNING", "name": "Running", "timestamp": running["start_time"]}
    running["end_time"] = None
    completed = {**running, "state": record(0)["state"], "end_time": record(0)["end_time"]}
    response = api.post(f"/api/flow-runs/{run_id}/task-runs", json=[running, record(1), completed])
    assert response.status_code == 204, response.text
    states = {r["name"]: r["state"]["type"] for r in task_runs(api, run_id)}
    assert states == {"step-0": "COMPLETED", "step-1": "COMPLETED"}


class _WatchingClient(PushflowClient):
    """A real client that notes, before each task-run batch, how many log lines the
    server holds."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.logs_before_batch: list[int] = []

    def report_task_runs(self, flow_run_id: str, task_runs: list[dict]) -> None:
        self.logs_before_batch.append(len(self.read_logs(flow_run_id)))
        super().report_task_runs(flow_run_id, task_runs)


def test_log_lines_are_not_held_back_behind_a_long_queue_of_task_runs(live_server: LiveServer, run_id: str) -> None:
    """A batch of each kind in turn: a busy flow's log lines show up while its task runs
    are still being sent, not after the last of them (they once waited for the end)."""
    client = _WatchingClient(live_server.url, live_server.api_key)
    try:
        reporter = Reporter(client, run_id, interval=3600, eager=10**9, max_batch=100)
        for i in range(1000):
            reporter.task_run(record(i))
        for i in range(10):
            reporter.log(line(i))
        reporter.close()
    finally:
        client.close()
    assert len(client.logs_before_batch) == 10
    assert client.logs_before_batch[0] == 0
    assert client.logs_before_batch[1:] == [10] * 9  # the lines went right after the first batch
    assert len(task_runs(live_server.client(), run_id)) == 1000
