"""Automations over the API, with the passes run by hand: create/pause/resume/delete,
run-deployment with templated parameters (once), failed firings recorded with their
error while the others go on; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from control_plane.passes import evaluate_automations, run_due_actions
from control_plane.passes.tick import tick


def passes(api: Any) -> None:
    services = api.app.state.services
    evaluate_automations(services)
    run_due_actions(services)


def automation(api: Any, deployment: str, **fields: Any) -> dict:
    body = {
        "name": "on-landing",
        "trigger": {"expect": ["acme.file.landed"], "match": {"env": "prod"}},
        "actions": [
            {
                "type": "run-deployment",
                "deployment": deployment,
                "parameters": {"label": "{{ event.payload.key }}", "n": "{{ event.payload.size }}"},
            }
        ],
        **fields,
    }
    response = api.post("/api/automations", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def landed(api: Any, key: str, env: str = "prod", size: int = 7) -> None:
    event = {"event": "acme.file.landed", "resource": {"id": "acme.bucket.in", "labels": {"env": env}}}
    api.post("/api/events", json={**event, "payload": {"key": key, "size": size}}).raise_for_status()


def runs(api: Any) -> list[dict]:
    return api.get("/api/flow-runs", params={"limit": 100}).json()["items"]  # type: ignore[no-any-return]


def test_an_event_starts_a_run_with_templated_parameters_once(api: Any, deployment: dict) -> None:
    landed(api, "before.csv")  # before the automation: not its business
    auto = automation(api, "etl/nightly")
    landed(api, "a.csv")
    landed(api, "b.csv", env="dev")
    passes(api)
    passes(api)  # again: nothing new
    [run] = runs(api)
    assert run["parameters"] == {"label": "a.csv", "n": 7}
    [firing] = api.get(f"/api/automations/{auto['id']}/firings").json()
    assert firing["event"]["payload"] == {"key": "a.csv", "size": 7}
    assert firing["actions"] == [
        {
            "type": "run-deployment",
            "status": "succeeded",
            "attempts": 1,
            "result": firing["actions"][0]["result"],
            "error": None,
        }
    ]
    assert run["id"] in firing["actions"][0]["result"]


def test_a_deleted_target_and_a_bad_template_are_recorded_failures_and_others_go_on(api: Any, deployment: dict) -> None:
    automation(api, "etl/gone", name="gone")
    bad = {"type": "run-deployment", "deployment": deployment["id"], "parameters": {"label": "{{ event.nope.x }}"}}
    automation(api, deployment["id"], name="bad-template", actions=[bad])
    automation(api, deployment["id"], name="good")
    landed(api, "a.csv")
    report = tick(api.app.state.services, budget_seconds=30)
    assert report.failed == [] and report.fired == 3
    assert len(runs(api)) == 1
    [gone] = api.get("/api/automations/gone/firings").json()
    assert gone["actions"][0]["status"] == "failed" and "not found" in gone["actions"][0]["error"]
    [bad_firing] = api.get("/api/automations/bad-template/firings").json()
    assert "nope" in bad_firing["actions"][0]["error"]


def test_pause_resume_and_delete(api: Any, deployment: dict) -> None:
    automation(api, deployment["id"])
    assert api.post("/api/automations/on-landing/pause").json()["enabled"] is False
    landed(api, "while-paused.csv")
    passes(api)
    assert runs(api) == []
    api.post("/api/automations/on-landing/resume").raise_for_status()
    passes(api)
    assert runs(api) == []  # events from while it was paused do not count
    landed(api, "after.csv")
    passes(api)
    assert [r["parameters"]["label"] for r in runs(api)] == ["after.csv"]
    assert [a["name"] for a in api.get("/api/automations").json()] == ["on-landing"]
    assert api.delete("/api/automations/on-landing").status_code == 204
    assert api.get("/api/automations/on-landing").status_code == 404


def test_invalid_automations_are_422_saying_why(api: Any) -> None:
    bad_trigger = {"name": "x", "trigger": {"posture": "proactive"}, "actions": [{"type": "pause-pool"}]}
    response = api.post("/api/automations", json=bad_trigger)
    assert response.status_code == 422 and "within" in response.json()["detail"]
    bad_action = {"name": "x", "trigger": {}, "actions": [{"type": "launch-rocket"}]}
    assert api.post("/api/automations", json=bad_action).status_code == 422
    unknown_field = {"name": "x", "trigger": {"expect_typo": ["a"]}, "actions": [{"type": "pause-pool"}]}
    assert api.post("/api/automations", json=unknown_field).status_code == 422


def test_pause_and_resume_actions_on_the_event_s_deployment(api: Any, deployment: dict) -> None:
    body = {
        "name": "stop-on-failure",
        "trigger": {"expect": ["pushflow.flow-run.Failed"]},
        "actions": [{"type": "pause-deployment"}, {"type": "pause-automation"}],
    }
    api.post("/api/automations", json=body).raise_for_status()
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": "FAILED"}, "force": True}).raise_for_status()
    passes(api)
    assert api.get(f"/api/deployments/{deployment['id']}").json()["paused"] is True
    assert api.get("/api/automations/stop-on-failure").json()["enabled"] is False


def test_call_webhook_is_retried_with_backoff_then_recorded(api: Any) -> None:
    from tests.automations.receiver import Receiver
    from tests.helpers import wait_for

    services = api.app.state.services
    services.settings.automation_action_backoff = 0.05
    with Receiver(fail_first=2) as flaky:
        hook = {"type": "call-webhook", "url": flaky.url}
        dead = {"type": "send-notification", "url": "http://127.0.0.1:9/nothing-listens"}
        body = {"name": "notify", "trigger": {"expect": ["acme.file.landed"]}, "actions": [hook, dead]}
        api.post("/api/automations", json=body).raise_for_status()
        landed(api, "a.csv")
        evaluate_automations(services)

        def settled() -> list[dict] | None:
            run_due_actions(services)
            [firing] = api.get("/api/automations/notify/firings").json()
            return firing["actions"] if all(a["status"] != "pending" for a in firing["actions"]) else None

        webhook, notification = wait_for(settled, what="both actions to settle")
    assert (webhook["status"], webhook["attempts"]) == ("succeeded", 3)
    assert len(flaky.received) == 1 and flaky.received[0]["body"]["event"]["payload"]["key"] == "a.csv"
    assert (notification["status"], notification["attempts"]) == ("failed", 4)
    assert "POST http://127.0.0.1:9/… failed" in notification["error"]  # the path may be a credential


def test_secrets_and_webhook_paths_are_not_shown(api: Any) -> None:
    slack = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    actions = [
        {"type": "call-webhook", "url": "https://example.com/in/abc", "secret": "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"},
        {"type": "send-notification", "url": slack},
    ]
    body = {"name": "quiet", "trigger": {}, "actions": actions}
    created = api.post("/api/automations", json=body).json()
    for shown in (created, api.get("/api/automations/quiet").json(), api.get("/api/automations").json()[0]):
        text = str(shown["actions"])
        assert "XXXXSECRET" not in text and "whsec_" not in text and "/in/abc" not in text
        assert shown["actions"][1]["url"] == "https://hooks.slack.com/…"


def test_flow_run_and_pool_actions(api: Any, deployment: dict) -> None:
    def on(name: str, event: str, actions: list[dict]) -> None:
        body = {"name": name, "trigger": {"expect": [event]}, "actions": actions}
        api.post("/api/automations", json=body).raise_for_status()

    on("cancel-it", "acme.cancel", [{"type": "cancel-flow-run", "flow_run_id": "{{ event.payload.run }}"}])
    on(
        "force-it",
        "acme.force",
        [{"type": "change-flow-run-state", "flow_run_id": "{{ event.payload.run }}", "state": "completed"}],
    )
    on(
        "hold",
        "acme.hold",
        [{"type": "pause-pool", "target": "local"}, {"type": "pause-deployment", "target": "etl/nightly"}],
    )
    on(
        "release",
        "acme.release",
        [{"type": "resume-pool", "target": "local"}, {"type": "resume-deployment", "target": "etl/nightly"}],
    )
    first = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    second = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()

    def send(event: str, **payload: str) -> None:
        body = {"event": event, "resource": {"id": "acme.ops"}, "payload": payload}
        api.post("/api/events", json=body).raise_for_status()

    send("acme.cancel", run=first["id"])
    send("acme.force", run=second["id"])
    send("acme.hold")
    passes(api)
    assert api.get(f"/api/flow-runs/{first['id']}").json()["state"]["type"] == "CANCELLED"
    assert api.get(f"/api/flow-runs/{second['id']}").json()["state"]["type"] == "COMPLETED"
    assert api.get("/api/pools/local").json()["paused"] is True
    assert api.get(f"/api/deployments/{deployment['id']}").json()["paused"] is True
    send("acme.release")
    passes(api)
    assert api.get("/api/pools/local").json()["paused"] is False
    assert api.get(f"/api/deployments/{deployment['id']}").json()["paused"] is False
    send("acme.cancel", run="no-such-run")
    passes(api)
    latest = api.get("/api/automations/cancel-it/firings").json()[0]
    assert latest["actions"][0]["status"] == "failed" and "not found" in latest["actions"][0]["error"]


def test_without_loops_an_event_is_evaluated_in_its_request(tmp_path: Any, database_url: str) -> None:
    """Lambda: no loop, the API starts work itself; the run exists when the POST answers."""
    from fastapi.testclient import TestClient

    from control_plane.local import create_local_app
    from control_plane.settings import Settings

    settings = Settings(home=tmp_path / "h", database_url=database_url, api_key="k", run_loops=False)
    with TestClient(create_local_app(settings), headers={"Authorization": "Bearer k"}) as client:
        client.post("/api/pools", json={"name": "held", "type": "process", "paused": True}).raise_for_status()
        body = {"name": "d", "flow_name": "f", "entrypoint": "x.py:f", "pool": "held"}
        client.post("/api/deployments", json=body).raise_for_status()
        automation(
            client,
            "f/d",
            trigger={"expect": ["acme.file.landed"]},
            actions=[{"type": "run-deployment", "deployment": "f/d"}],
        )
        landed(client, "now.csv")
        assert len(runs(client)) == 1


def test_a_sequence_trigger_through_the_api(api: Any, deployment: dict) -> None:
    body = {
        "name": "extract-then-load",
        "trigger": {
            "type": "sequence",
            "triggers": [{"expect": ["acme.extracted"]}, {"expect": ["acme.loaded"]}],
            "within": 60,
        },
        "actions": [
            {"type": "run-deployment", "deployment": "etl/nightly", "parameters": {"label": "{{ event.event }}"}}
        ],
    }
    api.post("/api/automations", json=body).raise_for_status()

    def send(event: str) -> None:
        api.post("/api/events", json={"event": event, "resource": {"id": "acme.batch"}}).raise_for_status()

    send("acme.loaded")  # out of order: nothing
    passes(api)
    assert runs(api) == []
    send("acme.extracted")
    send("acme.loaded")
    passes(api)
    assert [r["parameters"]["label"] for r in runs(api)] == ["acme.loaded"]


def test_with_no_automations_the_evaluator_moves_past_the_stream_once(api: Any) -> None:
    """More than one batch of events and no automation: one pass moves the cursor to the
    end for good (it used to roll back and re-read the same batch until the tick's budget
    was gone, starving the release pass after it)."""
    from sqlmodel import Session, func, select

    from control_plane.automations.evaluate import BATCH, CURSOR
    from control_plane.automations.models import EvaluatorCursor
    from control_plane.events import Event

    services = api.app.state.services
    evaluate_automations(services)  # the cursor exists from here on
    for start in range(0, BATCH + 50, 100):
        batch = [{"event": "acme.ping", "resource": {"id": f"acme.{i}"}} for i in range(start, start + 100)]
        api.post("/api/events", json=batch).raise_for_status()
    assert evaluate_automations(services) == 0
    with Session(services.engine) as session:
        newest = session.exec(select(func.max(Event.id))).one()
        cursor = session.get(EvaluatorCursor, CURSOR)
        assert cursor is not None and cursor.position == newest
