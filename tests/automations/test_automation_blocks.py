"""Blocks named in automation actions, on SQLite and PostgreSQL, against a real webhook
receiver: a call-webhook's URL, headers and signing secret come from blocks, resolved
only when the action runs (a changed block is used from the next firing); the values are
never stored, answered or logged; a missing block fails the action with a message saying
so, recorded on the firing like any action failure."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text

from control_plane.passes import evaluate_automations, run_due_actions
from tests.automations.receiver import Receiver

SIGNING = "whsec_c2lnbmluZy1zZWNyZXQtZm9yLWJsb2Nrcw=="
HEADER_SECRET = "hdr-secret-4711"
PATH_SECRET = "T0PATHSECRET"


def fire(api: Any) -> list[dict]:
    """Send the triggering event, run the passes; the newest firing's actions."""
    event = {"event": "acme.file.landed", "resource": {"id": "acme.bucket.in"}}
    api.post("/api/events", json=event).raise_for_status()
    services = api.app.state.services
    evaluate_automations(services)
    run_due_actions(services)
    return api.get("/api/automations/ops-hook/firings").json()[0]["actions"]  # type: ignore[no-any-return]


def test_webhook_url_headers_and_secret_come_from_blocks_at_run_time(
    api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Receiver(secret=SIGNING) as receiver:
        url = f"{receiver.url}/{PATH_SECRET}"
        webhook = {"url": url, "headers": {"X-Ops-Key": HEADER_SECRET}}
        api.post("/api/blocks", json={"type": "webhook", "name": "ops", "data": webhook}).raise_for_status()
        signing = {"type": "secret", "name": "hook-signing", "data": {"value": SIGNING}}
        api.post("/api/blocks", json=signing).raise_for_status()
        actions = [
            {
                "type": "call-webhook",
                "url": {"$block": "webhook/ops.url"},
                "headers": {"$block": "webhook/ops.headers"},
                "secret": {"$block": "secret/hook-signing"},
            },
            {"type": "send-notification", "url": {"$block": "slack-webhook/alerts"}},  # never created
            # A whole block where it has a field of that name stands for the field.
            {"type": "call-webhook", "url": {"$block": "webhook/ops"}, "headers": {"$block": "webhook/ops"}},
        ]
        body = {"name": "ops-hook", "trigger": {"expect": ["acme.file.landed"]}, "actions": actions}
        created = api.post("/api/automations", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["actions"][0]["url"] == {"$block": "webhook/ops.url"}  # the reference is what shows

        called, missing, whole = fire(api)
        assert called["status"] == "succeeded", called
        assert whole["status"] == "succeeded", whole
        signed, unsigned = sorted(receiver.received, key=lambda r: not r["verified"])
        assert signed["verified"] is True  # signed with the block's secret
        assert signed["headers"]["X-Ops-Key"] == unsigned["headers"]["X-Ops-Key"] == HEADER_SECRET
        assert (missing["status"], missing["attempts"]) == ("failed", 1)  # no retry can create a block
        assert "block 'slack-webhook/alerts' does not exist" in missing["error"]

        # Resolved when the action runs: a changed block is used from the next firing on.
        changed = {"url": url, "headers": {"X-Ops-Key": HEADER_SECRET + "-v2"}}
        api.put("/api/blocks/webhook/ops", json={"data": changed}).raise_for_status()
        called, _, _ = fire(api)
        assert called["status"] == "succeeded"
        assert receiver.received[-1]["headers"]["X-Ops-Key"] == HEADER_SECRET + "-v2"

    answers = [
        api.get("/api/automations/ops-hook").text,
        api.get("/api/automations").text,
        api.get("/api/automations/ops-hook/firings").text,
        api.get("/api/audit").text,
    ]
    with api.app.state.services.engine.connect() as conn:
        tables = ["automation", "automation_firing", "automation_action_run", "event", "block"]
        stored = [str(conn.execute(text(f"SELECT * FROM {table}")).all()) for table in tables]
    for place in [*answers, *stored, caplog.text]:
        for secret in (SIGNING, HEADER_SECRET, PATH_SECRET):
            assert secret not in place


def test_a_bad_block_reference_is_refused_when_the_automation_is_created(api: Any) -> None:
    action = {"type": "call-webhook", "url": {"$block": "no slash"}}
    body = {"name": "ops-hook", "trigger": {}, "actions": [action]}
    assert api.post("/api/automations", json=body).status_code == 422
    action = {"type": "call-webhook", "url": {"$block": "webhook/ops", "extra": 1}}
    assert api.post("/api/automations", json={**body, "actions": [action]}).status_code == 422
