"""Managing what was created: deployments listed, paused and deleted; pools updated,
paused and deleted; schedules added, paused (removing the runs they made ahead), resumed
and deleted. Each on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.control_plane.orchestration import Orchestra


def _runs(orch: Orchestra, deployment: dict, **params: Any) -> list[dict]:
    query = {"deployment_id": deployment["id"], "limit": 200, **params}
    return orch.api.get("/api/flow-runs", params=query).json()["items"]  # type: ignore[no-any-return]


def test_deployments_are_listed_by_flow_and_name(orch: Orchestra) -> None:
    orch.deploy("b")
    orch.deploy("a")
    listed = orch.api.get("/api/deployments").json()
    assert [d["name"] for d in listed] == ["a", "b"]
    assert orch.api.get("/api/deployments", params={"pool": "elsewhere"}).json() == []


def test_deleting_a_deployment_removes_its_future_runs_and_keeps_finished_ones(orch: Orchestra) -> None:
    deployment = orch.deploy(schedules=[{"interval_seconds": 3600}])
    assert orch.schedule() > 0
    done = orch.trigger(deployment)
    orch.propose(done["id"], "CANCELLED")
    response = orch.api.delete(f"/api/deployments/{deployment['id']}")
    assert response.status_code == 204
    assert orch.api.get(f"/api/deployments/{deployment['id']}").status_code == 404
    kept = orch.run(done["id"])
    assert kept["state"]["type"] == "CANCELLED" and kept["deployment_id"] is None
    assert orch.api.get("/api/flow-runs", params={"state": "SCHEDULED"}).json()["items"] == []


def test_a_deployment_with_an_active_run_is_not_deleted(orch: Orchestra) -> None:
    deployment = orch.deploy()
    run = orch.trigger(deployment)
    orch.dispatch()
    response = orch.api.delete(f"/api/deployments/{deployment['id']}")
    assert response.status_code == 409
    assert f"({run['name']}); cancel them (`pushflow runs cancel NAME`)" in response.json()["detail"]


def test_pausing_a_schedule_removes_its_runs_ahead_and_resuming_makes_them_again(orch: Orchestra) -> None:
    deployment = orch.deploy(schedules=[{"cron": "0 9 * * *"}])
    schedule_id = deployment["schedules"][0]["id"]
    made = orch.schedule()
    assert made > 0 and len(_runs(orch, deployment, state="SCHEDULED")) == made
    url = f"/api/deployments/{deployment['id']}/schedules/{schedule_id}"
    paused = orch.api.patch(url, json={"active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False
    assert _runs(orch, deployment) == []  # removed, not left to run for days
    assert orch.schedule() == 0
    orch.api.patch(url, json={"active": True}).raise_for_status()
    assert orch.schedule() == made


def test_schedules_are_added_listed_and_deleted_one_by_one(orch: Orchestra) -> None:
    deployment = orch.deploy()
    base = f"/api/deployments/{deployment['id']}/schedules"
    added = orch.api.post(base, json={"interval_seconds": 600})
    assert added.status_code == 201, added.text
    assert [s["id"] for s in orch.api.get(base).json()] == [added.json()["id"]]
    assert orch.schedule() > 0
    assert orch.api.delete(f"{base}/{added.json()['id']}").status_code == 204
    assert orch.api.get(base).json() == []
    assert _runs(orch, deployment) == []


def test_schedule_errors_say_what_to_do(orch: Orchestra) -> None:
    deployment = orch.deploy()
    base = f"/api/deployments/{deployment['id']}/schedules"
    bad_cron = orch.api.post(base, json={"cron": "0 25 * * *"})
    assert bad_cron.status_code == 422
    assert "the hour field '25' is not valid (allowed 0-23" in bad_cron.json()["detail"]
    missing = orch.api.patch(f"{base}/nope", json={"active": False})
    assert missing.status_code == 404
    assert "pushflow deployment schedule ls" in missing.json()["detail"]
    empty = orch.api.patch(f"{base}/nope", json={})
    assert empty.status_code == 404


def test_pools_are_updated_paused_and_deleted(api: Any) -> None:
    api.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
    updated = api.patch("/api/pools/local", json={"description": "laptop", "paused": True})
    assert updated.json()["description"] == "laptop" and updated.json()["paused"] is True
    assert api.delete("/api/pools/local").status_code == 204
    assert api.get("/api/pools/local").status_code == 404


def test_a_pool_in_use_is_not_deleted(api: Any, deployment: dict) -> None:
    response = api.delete("/api/pools/local")
    assert response.status_code == 409
    assert "used by 1 deployment(s): etl/nightly" in response.json()["detail"]


def test_an_unknown_job_variable_names_the_one_meant(api: Any) -> None:
    response = api.post("/api/pools", json={"name": "p", "type": "process", "defaults": {"workdir": "/tmp"}})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "invalid pool defaults: unknown job variable `workdir`; did you mean `working_dir`?"
    )


def test_runs_are_found_by_name_or_id_prefix_and_sorted_by_expected_start(orch: Orchestra) -> None:
    from datetime import datetime, timedelta, timezone

    deployment = orch.deploy()
    now = datetime.now(timezone.utc)
    later = orch.trigger(deployment, scheduled_start_time=(now + timedelta(days=1)).isoformat(), name="tomorrow")
    soon = orch.trigger(deployment, name="now")
    by_name = orch.api.get("/api/flow-runs", params={"name": "tomorrow"}).json()["items"]
    assert [r["id"] for r in by_name] == [later["id"]]
    by_prefix = orch.api.get("/api/flow-runs", params={"id_prefix": soon["id"][:8]}).json()["items"]
    assert [r["id"] for r in by_prefix] == [soon["id"]]
    due = orch.api.get(
        "/api/flow-runs", params={"sort": "expected_start_desc", "expected_before": now.isoformat()}
    ).json()["items"]
    assert due == []
    upcoming = orch.api.get("/api/flow-runs", params={"sort": "expected_start_asc", "limit": 1}).json()
    assert [r["name"] for r in upcoming["items"]] == ["now"]
    second = orch.api.get(
        "/api/flow-runs", params={"sort": "expected_start_asc", "limit": 1, "cursor": upcoming["next_cursor"]}
    ).json()
    assert [r["name"] for r in second["items"]] == ["tomorrow"]


def _events(orch: Orchestra) -> list[dict]:
    return orch.api.get("/api/events", params={"limit": 500}).json()["items"]  # type: ignore[no-any-return]


def test_management_changes_are_in_the_event_log(orch: Orchestra) -> None:
    deployment = orch.deploy(schedules=[{"interval_seconds": 3600}])
    schedule_id = deployment["schedules"][0]["id"]
    made = orch.schedule()
    seen = len(_events(orch))
    orch.api.patch(f"/api/deployments/{deployment['id']}/schedules/{schedule_id}", json={"active": False})
    after_pause = _events(orch)[seen:]
    removed = [e for e in after_pause if e["event"] == "pushflow.flow-run.deleted"]
    assert len(removed) == made
    assert all("was paused or deleted" in e["payload"]["reason"] for e in removed)
    assert any(e["event"] == "pushflow.schedule.updated" for e in after_pause)
    seen += len(after_pause)
    assert orch.api.delete(f"/api/deployments/{deployment['id']}").status_code == 204
    after_delete = [e["event"] for e in _events(orch)[seen:]]
    assert "pushflow.schedule.deleted" in after_delete and "pushflow.deployment.deleted" in after_delete
