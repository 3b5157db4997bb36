"""The audit log records every state-changing request made with a key: who, what, when,
and the answer; reads are not recorded; every refused key is (within a budget); only
admin keys read it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from control_plane import audit


def test_changes_are_recorded_with_the_keys_name_and_the_answer(api: Any, deployment: dict) -> None:
    created = api.post("/api/keys", json={"name": "deployer", "scope": "deploy"}).json()
    as_deployer = {"Authorization": f"Bearer {created['key']}"}
    api.get("/api/deployments", headers=as_deployer).raise_for_status()  # a read: not recorded
    patched = api.patch(f"/api/deployments/{deployment['id']}", json={"paused": True}, headers=as_deployer)
    assert patched.status_code == 200
    missing = api.delete("/api/deployments/00000000-0000-0000-0000-000000000000", headers=as_deployer)
    assert missing.status_code == 404

    entries = api.get("/api/audit").json()
    assert [(e["actor"], e["scope"], e["method"], e["status"]) for e in entries[:2]] == [
        ("deployer", "deploy", "DELETE", 404),
        ("deployer", "deploy", "PATCH", 200),
    ]
    assert entries[1]["path"] == f"/api/deployments/{deployment['id']}"
    assert entries[1]["route"].endswith("/deployments/{deployment_id}")
    assert all(e["method"] != "GET" for e in entries)
    # the bootstrap key is `admin`; the key's creation is in the log too
    assert any(e["actor"] == "admin" and e["path"] == "/api/keys" and e["status"] == 201 for e in entries)
    assert created["key"] not in str(entries)


def test_only_admin_keys_read_the_audit_log(api: Any) -> None:
    key = api.post("/api/keys", json={"name": "viewer", "scope": "read"}).json()["key"]
    assert api.get("/api/audit", headers={"Authorization": f"Bearer {key}"}).status_code == 403
    page = api.get("/api/audit", params={"limit": 1}).json()
    assert len(page) == 1
    older = api.get("/api/audit", params={"before": page[0]["id"]}).json()
    assert all(e["id"] < page[0]["id"] for e in older)


def test_refused_keys_and_refused_changes_are_recorded_without_the_key(api: Any) -> None:
    revoked = api.post("/api/keys", json={"name": "ci", "scope": "admin"}).json()["key"]
    api.delete("/api/keys/ci").raise_for_status()
    reader = api.post("/api/keys", json={"name": "viewer", "scope": "read"}).json()["key"]

    assert api.get("/api/deployments", headers={"Authorization": f"Bearer {revoked}"}).status_code == 401
    guess = {"Authorization": "Bearer pfk_a-guessed-key"}
    assert api.post("/api/pools", json={"name": "x", "type": "process"}, headers=guess).status_code == 401
    assert api.get("/api/pools", headers={"Authorization": ""}).status_code == 401
    pool = {"name": "x", "type": "process"}
    assert api.post("/api/pools", json=pool, headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    assert api.get("/api/pools", headers={"Authorization": f"Bearer {reader}"}).status_code == 200  # a read

    refused = api.get("/api/audit", params={"status": 401}).json()
    assert [(e["actor"], e["scope"], e["method"], e["path"]) for e in refused] == [
        ("(no key)", "none", "GET", "/api/pools"),
        ("(unknown key)", "none", "POST", "/api/pools"),
        ("ci", "none", "GET", "/api/deployments"),  # revoked: named, so its owner can be asked
    ]
    forbidden = api.get("/api/audit", params={"status": 403}).json()
    assert [(e["actor"], e["scope"], e["method"], e["path"]) for e in forbidden] == [
        ("viewer", "read", "POST", "/api/pools")
    ]
    everything = api.get("/api/audit").text
    assert revoked not in everything and "a-guessed-key" not in everything and reader not in everything


def test_refusals_past_the_budget_are_counted_in_the_log_not_stored(
    api: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A caller without a key must not be able to fill the table: past the per-process
    budget, refusals are only counted in the server log."""
    monkeypatch.setattr(audit, "_refusals", audit._RefusalBudget(rate=0.0, burst=2))
    with caplog.at_level(logging.WARNING, logger="pushflow.audit"):
        for _ in range(4):
            assert api.get("/api/pools", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert len(api.get("/api/audit", params={"status": 401}).json()) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "audit log: 1 refused authentication(s) not recorded (more than 0 a second)"
    ]


def test_a_change_is_recorded_once_in_its_own_transaction(api: Any, deployment: dict) -> None:
    before = {e["id"] for e in api.get("/api/audit").json()}
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"label": "x"}})
    assert run.status_code == 201
    refused = api.post(f"/api/flow-runs/{run.json()['id']}/state", json={"state": {"type": "COMPLETED"}})
    assert refused.status_code == 409  # SCHEDULED -> COMPLETED: nothing committed, recorded after the answer

    new = [e for e in api.get("/api/audit").json() if e["id"] not in before]
    assert [(e["method"], e["route"].rsplit("/", 1)[-1], e["status"]) for e in new] == [
        ("POST", "state", 409),
        ("POST", "runs", 201),
    ]


def test_a_change_that_fails_after_its_commit_is_recorded_with_the_answer(
    api: Any, deployment: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from control_plane import passes
    from push_pools.errors import PushPoolError

    def provider_down(*_: Any) -> bool:
        raise PushPoolError("the provider refused the submission")

    monkeypatch.setattr(passes, "dispatch_now", provider_down)  # runs after the run is committed
    before = {e["id"] for e in api.get("/api/audit").json()}
    answer = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"label": "x"}})
    assert answer.status_code == 502

    new = [e for e in api.get("/api/audit").json() if e["id"] not in before]
    assert [(e["method"], e["path"], e["status"]) for e in new] == [
        ("POST", f"/api/deployments/{deployment['id']}/runs", 502)
    ]
