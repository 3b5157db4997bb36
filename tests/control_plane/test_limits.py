"""Limits on what a client (or a run token) may send: each a setting, each answered with
413 or 429 and a sentence naming the setting; the server never holds more than the limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

MB = 1024 * 1024


def _run(api: Any, deployment: dict) -> dict:
    response = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"label": "x"}})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _running_child(api: Any, deployment: dict) -> tuple[dict, str]:
    """A RUNNING run and a child of it with the child's own run token."""
    run = _run(api, deployment)
    for state in ("PENDING", "RUNNING"):
        api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": state}}).raise_for_status()
    created = api.post(f"/api/flow-runs/{run['id']}/subflow-runs", json={"flow_name": "sub"})
    assert created.status_code == 201, created.text
    return created.json()["flow_run"], created.json()["token"]


def test_a_20_mb_body_is_refused_with_413(api: Any, deployment: dict) -> None:
    body = json.dumps(
        {"name": "big", "flow_name": "f", "entrypoint": "a.py:f", "pool": "local", "description": "x" * (20 * MB)}
    )
    response = api.post("/api/deployments", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "PUSHFLOW_MAX_REQUEST_BYTES" in response.json()["detail"]


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(api: Any, deployment: dict) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "big", "description": "'
        for _ in range(40):
            yield b"x" * MB
        yield b'"}'

    response = api.post("/api/deployments", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "PUSHFLOW_MAX_REQUEST_BYTES" in response.json()["detail"]


def test_a_log_batch_over_the_line_count_is_413_and_long_lines_are_cut(api: Any, deployment: dict) -> None:
    run = _run(api, deployment)
    settings = api.app.state.services.settings
    too_many = [{"message": "m", "timestamp": 1.0}] * (settings.log_batch_max_lines + 1)
    response = api.post(f"/api/flow-runs/{run['id']}/logs", json=too_many)
    assert response.status_code == 413
    assert "PUSHFLOW_LOG_BATCH_MAX_LINES" in response.json()["detail"]

    long_line = "é" * settings.log_line_max_bytes  # 2 bytes each: twice the limit
    response = api.post(f"/api/flow-runs/{run['id']}/logs", json=[{"message": long_line, "timestamp": 1.0}])
    assert response.status_code == 204
    stored = api.get(f"/api/flow-runs/{run['id']}/logs").json()[0]["message"]
    assert len(stored.encode()) < settings.log_line_max_bytes + 200
    assert "PUSHFLOW_LOG_LINE_MAX_BYTES" in stored


@pytest.mark.parametrize("where", ["trigger", "deployment", "subflow"])
def test_oversized_parameters_are_413(api: Any, deployment: dict, where: str) -> None:
    big = {"label": "x" * (2 * MB)}
    if where == "trigger":
        response = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": big})
    elif where == "deployment":
        body = {k: deployment[k] for k in ("name", "flow_name", "entrypoint", "pool")}
        response = api.post("/api/deployments", json={**body, "parameters": big})
    else:
        child, _ = _running_child(api, deployment)
        parent = child["parent_flow_run_id"]
        response = api.post(f"/api/flow-runs/{parent}/subflow-runs", json={"flow_name": "s", "parameters": big})
    assert response.status_code == 413, response.text
    assert "PUSHFLOW_MAX_PARAMETERS_BYTES" in response.json()["detail"]


def test_children_per_run_are_limited_with_429(api: Any, deployment: dict) -> None:
    api.app.state.services.settings.max_children_per_run = 3
    child, _ = _running_child(api, deployment)
    parent = child["parent_flow_run_id"]
    statuses = [
        api.post(f"/api/flow-runs/{parent}/subflow-runs", json={"flow_name": "s"}).status_code for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    refused = api.post(f"/api/flow-runs/{parent}/subflow-runs", json={"flow_name": "s"})
    assert "PUSHFLOW_MAX_CHILDREN_PER_RUN" in refused.json()["detail"]


def test_a_run_token_expires_when_its_run_ends_plus_the_grace(api: Any, deployment: dict) -> None:
    child, token = _running_child(api, deployment)
    as_run = {"Authorization": f"Bearer {token}"}
    logs = f"/api/flow-runs/{child['id']}/logs"
    for state in ("RUNNING", "COMPLETED"):
        api.post(
            f"/api/flow-runs/{child['id']}/state", json={"state": {"type": state}}, headers=as_run
        ).raise_for_status()
    # Within the grace: the last log lines in flight still land.
    assert api.post(logs, json=[{"message": "late line", "timestamp": 1.0}], headers=as_run).status_code == 204
    api.app.state.services.settings.run_token_grace = 0
    for method in ("get", "post"):
        response = api.request(method.upper(), logs, json=[{"message": "x", "timestamp": 1.0}], headers=as_run)
        assert response.status_code == 401, response.text
        assert "expired" in response.json()["detail"]
