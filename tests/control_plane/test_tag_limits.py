"""Tag-based task concurrency limits through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.control_plane.orchestration import Orchestra


def test_tag_slots_are_limited_and_freed_by_release_or_the_runs_final_state(orch: Orchestra) -> None:
    api = orch.api
    assert api.put("/api/concurrency-limits/db", json={"limit": 1}).json() == {
        "tag": "db",
        "limit": 1,
        "active_slots": 0,
    }
    deployment = orch.deploy()
    first, second = orch.trigger(deployment), orch.trigger(deployment)
    orch.dispatch()
    for run in (first, second):
        orch.propose(run["id"], "RUNNING")

    def take(run: dict, task: str) -> dict:
        response = api.post(
            f"/api/flow-runs/{run['id']}/concurrency-slots", json={"task_run_id": task, "tags": ["db", "free"]}
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    assert take(first, "t1") == {"acquired": True, "full": []}
    assert take(first, "t1") == {"acquired": True, "full": []}  # asking again is harmless
    assert take(second, "t2") == {"acquired": False, "full": ["db"]}
    assert api.get("/api/concurrency-limits").json() == [{"tag": "db", "limit": 1, "active_slots": 1}]
    assert api.delete(f"/api/flow-runs/{first['id']}/concurrency-slots/t1").status_code == 204
    assert take(second, "t2")["acquired"] is True
    orch.propose(second["id"], "CRASHED")  # any final state frees the run's slots
    assert take(first, "t3")["acquired"] is True
    assert api.delete("/api/concurrency-limits/db").status_code == 204
    assert api.delete("/api/concurrency-limits/db").status_code == 404


def test_a_scheduled_run_takes_no_slot_and_a_run_that_held_one_frees_it_whatever_it_was_before(
    orch: Orchestra,
) -> None:
    api = orch.api
    assert api.put("/api/concurrency-limits/db", json={"limit": 1}).status_code == 200
    deployment = orch.deploy()
    waiting, running = orch.trigger(deployment), orch.trigger(deployment)
    answer = api.post(f"/api/flow-runs/{waiting['id']}/concurrency-slots", json={"task_run_id": "t0", "tags": ["db"]})
    assert answer.status_code == 409
    assert "SCHEDULED" in answer.json()["detail"] and "RUNNING" in answer.json()["detail"]
    orch.propose(waiting["id"], "CANCELLED")  # never handed to a pool: nothing to free
    orch.dispatch()
    orch.propose(running["id"], "RUNNING")
    taken = api.post(f"/api/flow-runs/{running['id']}/concurrency-slots", json={"task_run_id": "t1", "tags": ["db"]})
    assert taken.json() == {"acquired": True, "full": []}
    orch.propose(running["id"], "CANCELLED")
    assert api.get("/api/concurrency-limits").json() == [{"tag": "db", "limit": 1, "active_slots": 0}]
