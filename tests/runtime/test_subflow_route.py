"""`POST /api/flow-runs/{id}/subflow-runs`: who may create child runs, and what a child's
token may do. In-process API against SQLite (and PostgreSQL when available)."""

from __future__ import annotations

from typing import Any


def _run_with_token(api: Any, deployment: dict, *, running: bool = True) -> tuple[dict, dict]:
    from sqlmodel import Session

    from control_plane.auth import mint_run_token
    from control_plane.models import FlowRun

    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    if running:
        moved = api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": "RUNNING"}, "force": True})
        assert moved.status_code == 200, moved.text
    token, token_hash = mint_run_token(run["id"])
    with Session(api.app.state.services.engine) as session:
        row = session.get(FlowRun, run["id"])
        row.token_hash = token_hash
        session.add(row)
        session.commit()
    return run, {"Authorization": f"Bearer {token}"}


def test_a_run_token_creates_children_of_its_own_run(api: Any, deployment: dict) -> None:
    parent, as_parent = _run_with_token(api, deployment)
    response = api.post(
        f"/api/flow-runs/{parent['id']}/subflow-runs",
        json={"flow_name": "child", "parameters": {"n": 2}, "parent_task_run_id": "t-1"},
        headers=as_parent,
    )
    assert response.status_code == 201, response.text
    child = response.json()["flow_run"]
    assert (child["parent_flow_run_id"], child["parent_task_run_id"]) == (parent["id"], "t-1")
    assert child["state"]["type"] == "PENDING" and child["parameters"] == {"n": 2}

    as_child = {"Authorization": f"Bearer {response.json()['token']}"}
    running = api.post(f"/api/flow-runs/{child['id']}/state", json={"state": {"type": "RUNNING"}}, headers=as_child)
    assert running.status_code == 200
    assert api.get(f"/api/flow-runs/{parent['id']}", headers=as_child).status_code == 403


def test_a_run_token_cannot_create_children_of_another_run(api: Any, deployment: dict) -> None:
    _, as_first = _run_with_token(api, deployment)
    second, _ = _run_with_token(api, deployment)
    response = api.post(f"/api/flow-runs/{second['id']}/subflow-runs", json={"flow_name": "x"}, headers=as_first)
    assert response.status_code == 403


def test_only_a_running_run_starts_subflows(api: Any, deployment: dict) -> None:
    parent, as_parent = _run_with_token(api, deployment, running=False)
    response = api.post(f"/api/flow-runs/{parent['id']}/subflow-runs", json={"flow_name": "x"}, headers=as_parent)
    assert response.status_code == 409
    assert "only a RUNNING run can start subflows" in response.json()["detail"]
