"""Each run-lifecycle guarantee, through the API and the dispatcher/reconciler passes,
on SQLite and PostgreSQL."""

from __future__ import annotations

from push_pools.base import InfraPhase, InfraStatus
from tests.control_plane.counting_pool import CountingPool
from tests.control_plane.orchestration import Orchestra


def test_an_illegal_transition_is_refused_with_409_and_the_reason(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    response = orch.propose(run["id"], "RUNNING")
    assert response.status_code == 409
    assert "cannot move from SCHEDULED to RUNNING" in response.json()["detail"]


def test_a_repeated_proposal_with_the_same_transition_id_is_idempotent(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    first = orch.propose(run["id"], "RUNNING", transition_id="start-1")
    assert first.status_code == 200, first.text
    count = orch.run(run["id"])["run_count"]
    again = orch.propose(run["id"], "RUNNING", transition_id="start-1")
    assert again.status_code == 200 and again.json()["state"] == first.json()["state"]
    assert orch.run(run["id"])["run_count"] == count == 1
    done = orch.propose(run["id"], "COMPLETED", transition_id="end-1")
    assert done.status_code == 200
    assert orch.propose(run["id"], "COMPLETED", transition_id="end-1").status_code == 200
    assert orch.propose(run["id"], "COMPLETED", transition_id="end-2").status_code == 409


def test_final_states_are_sticky_unless_an_admin_forces(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    orch.propose(run["id"], "RUNNING")
    orch.propose(run["id"], "FAILED")
    refused = orch.propose(run["id"], "COMPLETED")
    assert refused.status_code == 409 and "final" in refused.json()["detail"]
    assert orch.propose(run["id"], "COMPLETED", force=True).status_code == 200
    assert orch.state(run["id"])[0] == "COMPLETED"


def test_a_claimed_run_is_submitted_once(orch: Orchestra) -> None:
    deployment = orch.deploy()
    run = orch.trigger(deployment)
    assert orch.dispatch() == 1
    assert orch.dispatch() == 0
    assert orch.submitted() == [run["id"]]
    current = orch.run(run["id"])
    assert current["state"]["name"] == "InfrastructurePending"
    assert current["infrastructure"]["id"] == f"pushflow-{run['id']}"
    assert current["dispatch_count"] == 1


def test_a_repeated_idempotency_key_returns_the_same_run(orch: Orchestra) -> None:
    deployment = orch.deploy()
    first = orch.api.post(f"/api/deployments/{deployment['id']}/runs", json={"idempotency_key": "order-42"})
    again = orch.api.post(f"/api/deployments/{deployment['id']}/runs", json={"idempotency_key": "order-42"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = orch.trigger(orch.deploy("other"), idempotency_key="order-42")  # unique per deployment
    assert other["id"] != first.json()["id"]
    orch.dispatch()
    assert sorted(orch.submitted()) == sorted([first.json()["id"], other["id"]])


def test_a_run_not_started_in_time_is_marked_late_and_stays_runnable(orch: Orchestra) -> None:
    orch.api.patch("/api/pools/counting", json={"paused": True})
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    orch.services.settings.late_after = 0
    orch.reconcile()
    assert orch.state(run["id"]) == ("SCHEDULED", "Late")
    assert "not started" in orch.run(run["id"])["state"]["message"]
    orch.api.patch("/api/pools/counting", json={"paused": False})
    orch.dispatch()
    assert orch.state(run["id"])[0] == "PENDING"


def test_paused_pools_and_deployments_are_not_dispatched_until_resumed(orch: Orchestra) -> None:
    deployment = orch.deploy()
    paused = orch.api.patch(f"/api/deployments/{deployment['id']}", json={"paused": True})
    assert paused.status_code == 200 and paused.json()["paused"] is True
    run = orch.trigger(deployment)
    assert orch.dispatch() == 0
    orch.api.patch(f"/api/deployments/{deployment['id']}", json={"paused": False})
    orch.api.patch("/api/pools/counting", json={"paused": True})
    assert orch.dispatch() == 0
    orch.api.patch("/api/pools/counting", json={"paused": False})
    assert orch.dispatch() == 1
    assert orch.submitted() == [run["id"]]


def test_a_failed_run_is_not_resubmitted_its_flow_retried_in_its_container(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy(retries=1, retry_delay_seconds=0))
    orch.dispatch()
    orch.propose(run["id"], "RUNNING")
    answer = orch.propose(run["id"], "FAILED", state={"message": "boom"})
    assert answer.status_code == 200 and answer.json()["state"]["type"] == "FAILED"
    assert orch.dispatch() == 0 and len(orch.submitted()) == 1


def test_a_crashed_run_is_resubmitted_on_new_infrastructure_with_a_fresh_token(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy(retries=1, retry_delay_seconds=0))
    orch.dispatch()
    orch.propose(run["id"], "RUNNING")
    CountingPool.ended[f"pushflow-{run['id']}"] = InfraStatus(InfraPhase.EXITED, exit_code=137, reason="OOMKilled")
    orch.reconcile()
    assert orch.state(run["id"]) == ("SCHEDULED", "AwaitingRetry")
    assert "OOMKilled" in orch.run(run["id"])["state"]["message"]
    assert orch.dispatch() == 1
    rows = [line.split(" ") for line in orch.count_file.read_text().splitlines()]
    assert [r[1] for r in rows] == [f"pushflow-{run['id']}", f"pushflow-{run['id']}-2"]  # new infrastructure
    assert rows[0][3] != rows[1][3]  # fresh token
    old = orch.api.get(f"/api/flow-runs/{run['id']}", headers={"Authorization": f"Bearer {rows[0][3]}"})
    assert old.status_code == 401
    orch.propose(run["id"], "RUNNING")
    CountingPool.ended[f"pushflow-{run['id']}-2"] = InfraStatus(InfraPhase.EXITED, exit_code=137, reason="again")
    orch.reconcile()
    final = orch.run(run["id"])
    assert final["state"]["type"] == "CRASHED" and final["run_count"] == 2 and final["dispatch_count"] == 2


def test_retryable_infrastructure_errors_back_off_then_crash_with_the_providers_message(orch: Orchestra) -> None:
    orch.services.settings.infra_retries = 2
    orch.services.settings.infra_retry_backoff = 0
    run = orch.trigger(orch.deploy(job_variables={"fail": "capacity"}))
    orch.dispatch()
    first = orch.run(run["id"])
    assert first["state"]["type"] == "SCHEDULED" and first["infra_retries"] == 1
    assert "infrastructure retry 1 of 2" in first["state"]["message"]
    assert "no Fargate capacity" in first["state"]["message"]
    orch.dispatch()
    orch.dispatch()
    final = orch.run(run["id"])
    assert final["state"]["type"] == "CRASHED"
    assert final["state"]["message"] == (
        "pool 'counting' could not run it after 3 attempts: no Fargate capacity in eu-west-1a (simulated)"
    )


def test_a_non_retryable_submission_error_crashes_at_once(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy(job_variables={"fail": "fatal"}))
    orch.dispatch()
    final = orch.run(run["id"])
    assert final["state"]["type"] == "CRASHED" and final["infra_retries"] == 0
    assert "image 'nope:latest' not found" in final["state"]["message"]


def test_infrastructure_that_ended_without_a_report_crashes_the_run_with_the_reason(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    orch.propose(run["id"], "RUNNING")
    CountingPool.ended[f"pushflow-{run['id']}"] = InfraStatus(
        InfraPhase.EXITED, 137, reason="OutOfMemoryError: container killed"
    )
    orch.reconcile()
    final = orch.run(run["id"])
    assert final["state"]["type"] == "CRASHED"
    assert final["state"]["message"] == "OutOfMemoryError: container killed before the run reported a final state"


def test_a_retryable_infrastructure_failure_before_start_is_retried(orch: Orchestra) -> None:
    orch.services.settings.infra_retry_backoff = 0
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    CountingPool.ended[f"pushflow-{run['id']}"] = InfraStatus(
        InfraPhase.EXITED, reason="spot capacity reclaimed", retryable=True
    )
    orch.reconcile()
    assert orch.run(run["id"])["infra_retries"] == 1
    orch.dispatch()
    assert orch.submitted() == [run["id"], run["id"]]
    assert orch.state(run["id"]) == ("PENDING", "InfrastructurePending")


def test_heartbeats_that_stop_crash_the_run_with_the_reason(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    orch.propose(run["id"], "RUNNING")
    beat = orch.api.post(f"/api/flow-runs/{run['id']}/heartbeat")
    assert beat.status_code == 200 and beat.json()["state"]["type"] == "RUNNING"
    assert orch.run(run["id"])["heartbeat_time"] is not None
    orch.reconcile()
    assert orch.state(run["id"])[0] == "RUNNING"  # within the timeout
    orch.services.settings.heartbeat_timeout = 0
    orch.reconcile()
    final = orch.run(run["id"])
    assert final["state"]["type"] == "CRASHED"
    assert final["state"]["message"].startswith("no heartbeat for 0s")
    assert CountingPool.ended[f"pushflow-{run['id']}"].reason == "stopped on request"  # infrastructure stopped


def test_cancelling_a_scheduled_run_cancels_it_at_once(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    response = orch.api.post(f"/api/flow-runs/{run['id']}/cancel")
    assert response.status_code == 200 and response.json()["state"]["type"] == "CANCELLED"
    assert orch.dispatch() == 0 and orch.submitted() == []


def test_cancelling_a_running_run_stops_its_infrastructure_and_frees_its_slot(orch: Orchestra) -> None:
    orch.api.patch("/api/pools/counting", json={"concurrency_limit": 1})
    deployment = orch.deploy()
    first, second = orch.trigger(deployment), orch.trigger(deployment)
    orch.dispatch()
    assert orch.state(second["id"]) == ("SCHEDULED", "AwaitingConcurrencySlot")
    orch.propose(first["id"], "RUNNING")
    response = orch.api.post(f"/api/flow-runs/{first['id']}/cancel")
    assert response.json()["state"]["type"] == "CANCELLING"
    orch.reconcile()  # asks the pool to stop it; the pool reports it ended
    assert orch.state(first["id"])[0] == "CANCELLED"
    assert CountingPool.ended[f"pushflow-{first['id']}"].reason == "stopped on request"
    orch.dispatch()
    assert orch.state(second["id"])[0] == "PENDING"


def test_pool_and_deployment_concurrency_limits_hold_runs_until_a_slot_frees(orch: Orchestra) -> None:
    orch.api.patch("/api/pools/counting", json={"concurrency_limit": 3})
    limited = orch.deploy("limited", concurrency_limit=1)
    other = orch.deploy("other")
    a1, a2 = orch.trigger(limited), orch.trigger(limited)
    b1, b2, b3 = orch.trigger(other), orch.trigger(other), orch.trigger(other)
    orch.dispatch()
    assert len(orch.submitted()) == 3
    waiting = [r for r in (a1, a2, b1, b2, b3) if orch.state(r["id"]) == ("SCHEDULED", "AwaitingConcurrencySlot")]
    assert len(waiting) == 2
    assert "concurrency limit" in orch.run(waiting[0]["id"])["state"]["message"]
    # Every final state frees a slot, CRASHED included.
    running = [r for r in (a1, a2, b1, b2, b3) if r not in waiting]
    orch.propose(running[0]["id"], "RUNNING")
    CountingPool.ended[f"pushflow-{running[0]['id']}"] = InfraStatus(InfraPhase.MISSING, reason="task vanished")
    orch.reconcile()
    assert orch.state(running[0]["id"])[0] == "CRASHED"
    orch.dispatch()
    assert len(orch.submitted()) == 4
    for r in running[1:]:
        orch.propose(r["id"], "RUNNING")
        orch.propose(r["id"], "COMPLETED")
    orch.dispatch()
    assert sorted(orch.submitted()) == sorted(r["id"] for r in (a1, a2, b1, b2, b3))


def test_lifting_a_limit_releases_waiting_runs(orch: Orchestra) -> None:
    orch.api.patch("/api/pools/counting", json={"concurrency_limit": 0})
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    assert orch.state(run["id"]) == ("SCHEDULED", "AwaitingConcurrencySlot")
    lifted = orch.api.patch("/api/pools/counting", json={"concurrency_limit": None})
    assert lifted.json()["concurrency_limit"] is None
    orch.dispatch()
    assert orch.submitted() == [run["id"]]
