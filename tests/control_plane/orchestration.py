"""Shared set-up for the orchestration tests: the API in-process (no background loops,
so each test drives the dispatcher, reconciler and scheduler passes itself) with a
counting pool and a deployment on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from control_plane.passes import dispatch_due, reconcile, schedule_runs
from control_plane.services import Services
from tests.control_plane import counting_pool


class Orchestra:
    def __init__(self, api: Any, count_file: Path) -> None:
        self.api = api
        self.count_file = count_file
        self.services: Services = api.app.state.services
        self.services.settings.dispatch_on_trigger = False  # each test drives the passes itself

    def deploy(self, name: str = "dep", pool: str = "counting", **extra: Any) -> dict:
        body = {"name": name, "flow_name": "etl", "entrypoint": "flows/etl.py:etl", "pool": pool, **extra}
        response = self.api.post("/api/deployments", json=body)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def trigger(self, deployment: dict, **body: Any) -> dict:
        response = self.api.post(f"/api/deployments/{deployment['id']}/runs", json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()  # type: ignore[no-any-return]

    def run(self, run_id: str) -> dict:
        return self.api.get(f"/api/flow-runs/{run_id}").json()  # type: ignore[no-any-return]

    def state(self, run_id: str) -> tuple[str, str]:
        state = self.run(run_id)["state"]
        return state["type"], state["name"]

    def propose(self, run_id: str, type_: str, **extra: Any) -> Any:
        body = {"state": {"type": type_, **extra.pop("state", {})}, **extra}
        return self.api.post(f"/api/flow-runs/{run_id}/state", json=body)

    def dispatch(self) -> int:
        return dispatch_due(self.services)

    def reconcile(self) -> int:
        return reconcile(self.services)

    def schedule(self) -> int:
        return schedule_runs(self.services)

    def submitted(self) -> list[str]:
        return [row[0] for row in counting_pool.submissions(self.count_file)]


@pytest.fixture
def orch(api: Any, tmp_path: Path) -> Iterator[Orchestra]:
    counting_pool.register()
    count_file = tmp_path / "submissions.txt"
    response = api.post(
        "/api/pools", json={"name": "counting", "type": "counting", "defaults": {"count_file": str(count_file)}}
    )
    assert response.status_code == 201, response.text
    counting_pool.CountingPool.ended.clear()
    counting_pool.CountingPool.cancelled.clear()
    yield Orchestra(api, count_file)
