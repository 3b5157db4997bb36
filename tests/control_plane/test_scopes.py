"""Scoped API keys: every route x every scope (the matrix below is the contract, and the
table in docs/security.md), revoked and expired keys, keys stored hashed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

SCOPES = ("read", "run", "deploy", "admin")

# The least scope each route needs. A new route fails test_every_route_has_a_scope until
# it is added here, i.e. until someone decided who may call it.
MATRIX = {
    # only the run's own token: no key, whatever its scope, reads a block's secrets in clear
    ("GET", "/api/flow-runs/{flow_run_id}/blocks/{type}/{name}"): "none",
    ("GET", "/api/block-types"): "read",
    ("GET", "/api/blocks"): "read",
    ("POST", "/api/blocks"): "deploy",
    ("GET", "/api/blocks/{type}/{name}"): "read",
    ("PUT", "/api/blocks/{type}/{name}"): "deploy",
    ("POST", "/api/blocks/rotate-key"): "admin",
    ("DELETE", "/api/blocks/{type}/{name}"): "deploy",
    ("GET", "/api/audit"): "admin",
    ("GET", "/api/automations"): "read",
    ("POST", "/api/automations"): "deploy",
    ("GET", "/api/automations/{ref}"): "read",
    ("DELETE", "/api/automations/{ref}"): "deploy",
    ("GET", "/api/automations/{ref}/firings"): "read",
    ("POST", "/api/automations/{ref}/pause"): "deploy",
    ("POST", "/api/automations/{ref}/resume"): "deploy",
    ("HEAD", "/api/bundles/{sha256}"): "read",
    ("PUT", "/api/bundles/{sha256}"): "deploy",
    ("POST", "/api/bundles/{sha256}/upload"): "deploy",
    ("POST", "/api/bundles/{sha256}/commit"): "deploy",
    ("GET", "/api/concurrency-limits"): "read",
    ("PUT", "/api/concurrency-limits/{tag}"): "deploy",
    ("DELETE", "/api/concurrency-limits/{tag}"): "deploy",
    ("POST", "/api/deployments"): "deploy",
    ("GET", "/api/deployments"): "read",
    ("GET", "/api/deployments/by-name/{flow_name}/{name}"): "read",
    ("PATCH", "/api/deployments/{deployment_id}"): "deploy",
    ("DELETE", "/api/deployments/{deployment_id}"): "deploy",
    ("GET", "/api/deployments/{deployment_id}"): "read",
    ("POST", "/api/deployments/{deployment_id}/runs"): "run",
    ("GET", "/api/deployments/{deployment_id}/schedules"): "read",
    ("POST", "/api/deployments/{deployment_id}/schedules"): "deploy",
    ("PATCH", "/api/deployments/{deployment_id}/schedules/{schedule_id}"): "deploy",
    ("DELETE", "/api/deployments/{deployment_id}/schedules/{schedule_id}"): "deploy",
    ("GET", "/api/events"): "read",
    ("POST", "/api/events"): "run",
    ("GET", "/api/flow-runs"): "read",
    ("GET", "/api/flow-runs/{flow_run_id}"): "read",
    ("GET", "/api/flow-runs/{flow_run_id}/attempts"): "read",
    ("POST", "/api/flow-runs/{flow_run_id}/cancel"): "run",
    ("POST", "/api/flow-runs/{flow_run_id}/concurrency-slots"): "run",
    ("DELETE", "/api/flow-runs/{flow_run_id}/concurrency-slots/{task_run_id}"): "run",
    ("GET", "/api/flow-runs/{flow_run_id}/events"): "read",
    ("POST", "/api/flow-runs/{flow_run_id}/heartbeat"): "run",
    ("GET", "/api/flow-runs/{flow_run_id}/infrastructure-logs"): "read",
    ("GET", "/api/flow-runs/{flow_run_id}/logs"): "read",
    ("POST", "/api/flow-runs/{flow_run_id}/logs"): "run",
    ("PUT", "/api/flow-runs/{flow_run_id}/result"): "run",
    ("GET", "/api/flow-runs/{flow_run_id}/result"): "read",
    ("POST", "/api/flow-runs/{flow_run_id}/state"): "run",
    ("POST", "/api/flow-runs/{flow_run_id}/subflow-runs"): "run",
    ("GET", "/api/flow-runs/{flow_run_id}/task-runs"): "read",
    ("POST", "/api/flow-runs/{flow_run_id}/task-runs"): "run",
    ("GET", "/api/flow-runs/{run_id}/bundle"): "read",
    ("GET", "/api/keys"): "admin",
    ("POST", "/api/keys"): "admin",
    ("DELETE", "/api/keys/{name}"): "admin",
    ("GET", "/api/pools"): "read",
    ("POST", "/api/pools"): "admin",
    ("GET", "/api/pools/{name}"): "read",
    ("PATCH", "/api/pools/{name}"): "admin",
    ("DELETE", "/api/pools/{name}"): "admin",
    ("GET", "/api/webhooks"): "read",
    ("POST", "/api/webhooks"): "deploy",
    ("GET", "/api/webhooks/{name}"): "read",
    ("PATCH", "/api/webhooks/{name}"): "deploy",
    ("DELETE", "/api/webhooks/{name}"): "deploy",
    ("POST", "/api/webhooks/{name}/rotate-secret"): "deploy",
    ("POST", "/api/webhooks/{name}/rotate-url"): "deploy",
}


def _keys(api: Any) -> dict[str, str]:
    keys = {}
    for scope in SCOPES:
        response = api.post("/api/keys", json={"name": f"key-{scope}", "scope": scope})
        assert response.status_code == 201, response.text
        keys[scope] = response.json()["key"]
    return keys


def _routes(api: Any) -> list[tuple[str, str]]:
    spec = api.get("/api/openapi.json").json()
    return [
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        if path != "/api/health" and not path.startswith("/hooks/")  # hooks: signed, no key
        for method in methods
    ]


def test_every_route_has_a_scope(api: Any) -> None:
    routes = set(_routes(api))
    assert routes - set(MATRIX) == set(), "routes without a decided scope: add them to MATRIX"
    assert set(MATRIX) - routes == set(), "MATRIX names routes the app no longer has"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_scope_matrix_every_route_by_every_scope(api: Any) -> None:
    keys = _keys(api)
    wrong = []
    for method, path in _routes(api):
        needed = MATRIX[(method, path)]
        least = len(SCOPES) if needed == "none" else SCOPES.index(needed)
        url = path.replace("{", "").replace("}", "")
        for rank, scope in enumerate(SCOPES):
            status = api.request(method, url, headers={"Authorization": f"Bearer {keys[scope]}"}).status_code
            refused = status == 403
            if refused != (rank < least) or status == 401:
                wrong.append(f"{scope} key: {method} {path} -> {status}")
    assert not wrong, "\n".join(wrong)


def test_a_read_key_cannot_trigger_and_a_run_key_cannot_change_pools(api: Any, deployment: dict) -> None:
    keys = _keys(api)
    as_read = {"Authorization": f"Bearer {keys['read']}"}
    as_run = {"Authorization": f"Bearer {keys['run']}"}
    refused = api.post(
        f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"label": "x"}}, headers=as_read
    )
    assert refused.status_code == 403
    assert "--scope run" in refused.json()["detail"]
    assert api.get("/api/deployments", headers=as_read).status_code == 200
    ok = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"label": "x"}}, headers=as_run)
    assert ok.status_code == 201
    assert api.patch("/api/pools/local", json={"paused": True}, headers=as_run).status_code == 403
    assert api.get("/api/pools/local").json()["paused"] is False


def test_revoked_and_expired_keys_get_401(api: Any) -> None:
    from control_plane.keys import ApiKey

    keys = _keys(api)
    headers = {"Authorization": f"Bearer {keys['read']}"}
    assert api.get("/api/pools", headers=headers).status_code == 200
    assert api.delete("/api/keys/key-read").status_code == 204
    response = api.get("/api/pools", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]

    created = api.post("/api/keys", json={"name": "short", "scope": "read", "expires_in_days": 1}).json()
    with Session(api.app.state.services.engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.name == "short")).one()
        session.execute(update(ApiKey).where(ApiKey.id == row.id).values(expires=row.expires - timedelta(days=2)))
        session.commit()
    response = api.get("/api/pools", headers={"Authorization": f"Bearer {created['key']}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    # the bootstrap admin key keeps working
    assert api.get("/api/pools").status_code == 200


def test_keys_are_stored_hashed_shown_once_and_record_last_use(api: Any) -> None:
    from control_plane.keys import ApiKey

    created = api.post("/api/keys", json={"name": "ci", "scope": "deploy"}).json()
    secret = created["key"]
    assert secret.startswith("pfk_") and created["scope"] == "deploy"
    listed = api.get("/api/keys").json()
    assert secret not in str(listed)
    assert [k["last_used"] for k in listed if k["name"] == "ci"] == [None]
    assert api.get("/api/pools", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert [k["last_used"] for k in api.get("/api/keys").json() if k["name"] == "ci"][0] is not None
    with Session(api.app.state.services.engine) as session:
        stored = session.exec(select(ApiKey)).all()
        assert secret not in str([row.model_dump() for row in stored])
    duplicate = api.post("/api/keys", json={"name": "ci", "scope": "read"})
    assert duplicate.status_code == 409


@pytest.mark.parametrize(
    "body", [{"name": "x", "scope": "root"}, {"name": "x", "scope": "read", "expires_in_days": True}]
)
def test_bad_key_requests_are_422(api: Any, body: dict) -> None:
    assert api.post("/api/keys", json=body).status_code == 422
