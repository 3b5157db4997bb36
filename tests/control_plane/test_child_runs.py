"""A child run (a subflow, or a child created over the API) never outlives its parent:
when the parent ends, children that have not ended are ended too, naming the parent."""

from __future__ import annotations

from typing import Any

from push_pools.base import InfraPhase, InfraStatus
from tests.control_plane import counting_pool


def _running_parent(orch: Any) -> dict:
    run = orch.trigger(orch.deploy())
    assert orch.dispatch() == 1
    assert orch.propose(run["id"], "RUNNING").json()["status"] == "ACCEPT"
    return orch.run(run["id"])  # type: ignore[no-any-return]


def _child(orch: Any, parent_id: str, name: str) -> dict:
    response = orch.api.post(f"/api/flow-runs/{parent_id}/subflow-runs", json={"flow_name": "sub", "name": name})
    assert response.status_code == 201, response.text
    return response.json()["flow_run"]  # type: ignore[no-any-return]


def test_children_of_a_killed_run_crash_with_it(orch: Any) -> None:
    parent = _running_parent(orch)
    running = _child(orch, parent["id"], "running-child")
    assert orch.propose(running["id"], "RUNNING").json()["status"] == "ACCEPT"
    grandchild = _child(orch, running["id"], "grandchild")
    assert orch.propose(grandchild["id"], "RUNNING").json()["status"] == "ACCEPT"
    done = _child(orch, parent["id"], "done-child")
    orch.propose(done["id"], "RUNNING")
    orch.propose(done["id"], "COMPLETED")

    # The parent's process is killed: the reconciler finds it gone.
    infra_id = orch.run(parent["id"])["infrastructure"]["id"]
    counting_pool.CountingPool.ended[infra_id] = InfraStatus(InfraPhase.EXITED, exit_code=-9, reason="killed")
    orch.reconcile()

    assert orch.state(parent["id"])[0] == "CRASHED"
    for child in (running, grandchild):
        state = orch.run(child["id"])["state"]
        assert state["type"] == "CRASHED", state
        assert "ended (CRASHED) before it did" in state["message"]
    assert orch.state(done["id"])[0] == "COMPLETED"  # an ended child is left alone


def test_a_pending_child_is_ended_when_its_parent_completes(orch: Any) -> None:
    parent = _running_parent(orch)
    pending = _child(orch, parent["id"], "never-started")
    assert orch.propose(parent["id"], "COMPLETED").json()["status"] == "ACCEPT"
    state = orch.run(pending["id"])["state"]
    assert state["type"] == "CRASHED"
    assert parent["name"] in state["message"]


def test_children_of_a_cancelled_run_are_cancelled(orch: Any) -> None:
    parent = _running_parent(orch)
    child = _child(orch, parent["id"], "child")
    orch.propose(child["id"], "RUNNING")
    orch.propose(parent["id"], "CANCELLED", force=True)
    assert orch.state(child["id"])[0] == "CANCELLED"
