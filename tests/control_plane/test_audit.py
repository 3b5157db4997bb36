"""The audit log records every state-changing request made with a key: who, what, when,
and the answer; reads are not recorded; only admin keys read it."""

from __future__ import annotations

from typing import Any


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
