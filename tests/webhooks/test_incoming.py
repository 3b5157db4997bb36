"""Incoming webhooks over the API: signed (Standard Webhooks, GitHub, Stripe), templated
into events, replay-safe, bounded; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from control_plane.signatures import standard_headers

TEMPLATE = (
    '{"event": "acme.file.{{ body.action }}", "resource": {"id": "acme.bucket.{{ body.bucket }}", '
    '"labels": {"env": "{{ query.env }}"}}, "payload": {"key": {{ body.key | tojson }}}}'
)
BODY = json.dumps({"action": "landed", "bucket": "inbox", "key": "a.csv"}).encode()


def create(api: Any, **fields: Any) -> dict:
    response = api.post("/api/webhooks", json={"name": "files", "template": TEMPLATE, **fields})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def send(api: Any, hook: dict, body: bytes = BODY, headers: dict | None = None) -> Any:
    return api.post(
        hook["path"] + "?env=prod",
        content=body,
        headers={"Authorization": "", "Content-Type": "application/json", **(headers or {})},
    )


def landed(api: Any) -> list[dict]:
    return api.get("/api/events", params={"event": "acme.*"}).json()["items"]  # type: ignore[no-any-return]


def test_a_signed_request_becomes_the_templated_event(api: Any) -> None:
    hook = create(api, signature="standard-webhooks")
    assert hook["secret"].startswith("whsec_") and hook["path"].startswith("/hooks/")
    assert api.get("/api/webhooks/files").json()["secret"] is None  # shown once
    response = send(api, hook, headers=standard_headers(hook["secret"], "msg_1", BODY))
    assert response.status_code == 204, response.text
    [event] = landed(api)
    assert event["event"] == "acme.file.landed"
    assert event["resource"] == {"id": "acme.bucket.inbox", "labels": {"env": "prod"}}
    assert event["payload"] == {"key": "a.csv"}
    assert {"id": "webhook.files", "role": "webhook"} in event["related"]


def test_unsigned_wrong_and_stale_signatures_are_401_and_ingest_nothing(api: Any) -> None:
    hook = create(api, signature="standard-webhooks")
    unsigned = send(api, hook)
    assert unsigned.status_code == 401 and "webhook-signature" in unsigned.json()["detail"]
    wrong = send(api, hook, headers=standard_headers("whsec_" + "A" * 32, "msg_1", BODY))
    assert wrong.status_code == 401 and "does not match" in wrong.json()["detail"]
    tampered = send(api, hook, BODY.replace(b"inbox", b"other"), standard_headers(hook["secret"], "m", BODY))
    assert tampered.status_code == 401
    stale = standard_headers(hook["secret"], "msg_2", BODY, now=time.time() - 301)
    assert "stale" in send(api, hook, headers=stale).json()["detail"]
    assert landed(api) == []


def test_a_replayed_delivery_is_accepted_once(api: Any) -> None:
    hook = create(api, signature="standard-webhooks")
    headers = standard_headers(hook["secret"], "msg_same", BODY)
    assert [send(api, hook, headers=headers).status_code for _ in range(3)] == [204, 204, 204]
    assert len(landed(api)) == 1
    assert send(api, hook, headers=standard_headers(hook["secret"], "msg_other", BODY)).status_code == 204
    assert len(landed(api)) == 2


def test_during_a_rotation_both_secrets_are_accepted_and_the_url_can_rotate(api: Any) -> None:
    old = create(api, signature="standard-webhooks")
    new = api.post("/api/webhooks/files/rotate-secret").json()
    assert new["secret"] != old["secret"]
    assert send(api, new, headers=standard_headers(old["secret"], "a", BODY)).status_code == 204
    assert send(api, new, headers=standard_headers(new["secret"], "b", BODY)).status_code == 204
    api.post("/api/webhooks/files/rotate-secret").raise_for_status()
    assert send(api, new, headers=standard_headers(old["secret"], "c", BODY)).status_code == 401
    moved = api.post("/api/webhooks/files/rotate-url").json()
    assert moved["path"] != old["path"]
    assert send(api, old, headers=standard_headers(new["secret"], "d", BODY)).status_code == 404


def test_github_and_stripe_presets(api: Any) -> None:
    github = create(api, name="gh", signature="github", secret="s3cret-github-0123")
    digest = hmac.new(b"s3cret-github-0123", BODY, hashlib.sha256).hexdigest()
    signed = {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Delivery": "d-1"}
    assert send(api, github, headers=signed).status_code == 204
    assert send(api, github, headers={"X-Hub-Signature-256": "sha256=00"}).status_code == 401
    stripe = create(api, name="st", signature="stripe", secret="whsec_stripe-secret-0123")
    t = int(time.time())
    sig = hmac.new(b"whsec_stripe-secret-0123", f"{t}.".encode() + BODY, hashlib.sha256).hexdigest()
    # Stripe's secrets start with whsec_ too, but Stripe signs with the string itself.
    assert send(api, stripe, headers={"Stripe-Signature": f"t={t},v1={sig}"}).status_code == 204
    stale = f"t={t - 400},v1={sig}"
    assert send(api, stripe, headers={"Stripe-Signature": stale}).status_code == 401
    assert len(landed(api)) == 2


def test_template_failures_are_400_naming_the_problem(api: Any) -> None:
    hook = create(api, template='{"event": "acme.{{ body.missing }}", "resource": {"id": "x"}}')
    missing = send(api, hook)
    assert missing.status_code == 400 and "missing" in missing.json()["detail"]
    api.patch("/api/webhooks/files", json={"template": '{"event": "{{ body.__class__ }}"}'}).raise_for_status()
    sandboxed = send(api, hook)
    assert sandboxed.status_code == 400 and "unsafe" in sandboxed.json()["detail"]
    api.patch("/api/webhooks/files", json={"template": '{"event": "acme.x"}'}).raise_for_status()
    invalid = send(api, hook)
    assert invalid.status_code == 400 and "resource" in invalid.json()["detail"]
    api.patch("/api/webhooks/files", json={"template": "{% for i in range(99999) %}xxxx{% endfor %}"})
    assert "characters" in send(api, hook).json()["detail"]
    syntax = api.patch("/api/webhooks/files", json={"template": "{{ oops"})
    assert syntax.status_code == 422 and "syntax" in syntax.json()["detail"]
    assert landed(api) == []


def test_the_default_template_and_the_size_limit(api: Any) -> None:
    hook = api.post("/api/webhooks", json={"name": "raw"}).json()
    assert send(api, hook, b'{"a": 1}').status_code == 204
    [event] = api.get("/api/events", params={"event": "webhook.called"}).json()["items"]
    assert event["payload"] == {"body": {"a": 1}, "query": {"env": "prod"}}
    assert event["resource"]["id"] == "webhook.raw"
    big = send(api, hook, b"x" * (1024 * 1024 + 1))
    assert big.status_code == 413 and "PUSHFLOW_WEBHOOK_MAX_BYTES" in big.json()["detail"]
    assert api.post("/hooks/not-a-slug", content=b"{}").status_code == 404


def test_webhooks_are_managed_by_admins_only(api: Any) -> None:
    assert api.get("/api/webhooks", headers={"Authorization": "Bearer nope"}).status_code == 401
    create(api)
    assert api.post("/api/webhooks", json={"name": "files"}).status_code == 409
    assert api.post("/api/webhooks", json={"name": "x", "secret": "0123456789abcdefg"}).status_code == 422
    assert [h["name"] for h in api.get("/api/webhooks").json()] == ["files"]
    assert api.delete("/api/webhooks/files").status_code == 204
    assert api.get("/api/webhooks/files").status_code == 404


def test_a_flood_of_webhook_calls_is_429_past_the_rate_limit(tmp_path: Any, database_url: str) -> None:
    from fastapi.testclient import TestClient

    from control_plane.local import create_local_app
    from control_plane.settings import Settings

    settings = Settings(
        home=tmp_path / "h",
        database_url=database_url,
        api_key="k",
        run_loops=False,
        dispatch_on_trigger=False,
        event_rate_limit=2,
    )
    with TestClient(create_local_app(settings), headers={"Authorization": "Bearer k"}) as client:
        hook = client.post("/api/webhooks", json={"name": "flood"}).json()
        answers = [client.post(hook["path"], content=b'{"n": 1}').status_code for _ in range(4)]
        assert answers == [204, 204, 429, 429]
        flooded = client.post(hook["path"], content=b"{}")
        assert "PUSHFLOW_EVENT_RATE_LIMIT" in flooded.json()["detail"]
