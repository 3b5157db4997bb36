"""The bundle routes and the deployment's `source`, over the API on each database:
what an admin may upload, what a run token may download, and the 422s that say why."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session

from control_plane.auth import mint_run_token
from control_plane.models import FlowRun

DATA = b"a bundle's bytes" * 64
SHA = hashlib.sha256(DATA).hexdigest()


def upsert(api: Any, **fields: Any) -> Any:
    body = {"name": "src", "flow_name": "etl", "entrypoint": "flows/etl.py:etl", "pool": "local", **fields}
    return api.post("/api/deployments", json=body)


def test_upload_once_then_the_store_has_it(api: Any) -> None:
    assert api.head(f"/api/bundles/{SHA}").status_code == 404
    assert api.put(f"/api/bundles/{SHA}", content=DATA).status_code == 201
    assert api.head(f"/api/bundles/{SHA}").status_code == 200


def test_an_upload_that_does_not_match_its_name_is_refused(api: Any) -> None:
    response = api.put(f"/api/bundles/{SHA}", content=DATA + b"x")
    assert response.status_code == 422
    assert f"not {SHA}" in str(response.json()["detail"])
    assert api.head(f"/api/bundles/{SHA}").status_code == 404
    assert api.put("/api/bundles/not-a-hash", content=DATA).status_code == 422


def test_a_local_store_takes_uploads_through_the_api(api: Any) -> None:
    """A folder cannot sign URLs: the upload target says to PUT through the API."""
    target = api.post(f"/api/bundles/{SHA}/upload", json={"size": len(DATA)})
    assert target.status_code == 200 and target.json()["via"] == "api" and target.json()["url"] is None
    missing = api.post(f"/api/bundles/{SHA}/commit")
    assert missing.status_code == 404 and "nothing was uploaded" in str(missing.json()["detail"])
    too_big = api.post(f"/api/bundles/{SHA}/upload", json={"size": 200 * 1024 * 1024})
    assert too_big.status_code == 413 and "PUSHFLOW_BUNDLE_MAX_BYTES" in str(too_big.json()["detail"])


def test_a_source_must_be_runnable_on_its_pool(api: Any) -> None:
    api.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
    api.post("/api/pools", json={"name": "cloud", "type": "ecs", "defaults": {"image": "x:1"}}).raise_for_status()
    refused = upsert(api, pool="cloud", source={"type": "local"})
    assert refused.status_code == 422
    assert "only works on a process pool" in str(refused.json()["detail"])
    missing = upsert(api, source={"type": "bundle", "sha256": SHA})
    assert missing.status_code == 422 and "upload it first" in str(missing.json()["detail"])
    unknown = upsert(api, source={"type": "ftp"})
    assert unknown.status_code == 422
    commit = upsert(api, source={"type": "git", "url": "https://example.invalid/r.git", "commit": "main"})
    assert commit.status_code == 422  # a commit id, resolved at deploy time, not a branch


def test_a_run_token_downloads_only_its_own_runs_bundle(api: Any) -> None:
    api.post("/api/pools", json={"name": "local", "type": "process", "paused": True}).raise_for_status()
    api.put(f"/api/bundles/{SHA}", content=DATA).raise_for_status()
    deployment = upsert(api, source={"type": "bundle", "sha256": SHA, "size": len(DATA)}).json()
    assert deployment["source"]["sha256"] == SHA
    first = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    second = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    assert first["source"] == deployment["source"]  # each run keeps the source it was made with
    token, token_hash = mint_run_token(first["id"])
    with Session(api.app.state.services.engine) as session:
        run = session.get(FlowRun, first["id"])
        assert run is not None
        run.token_hash = token_hash
        session.add(run)
        session.commit()
    as_run = {"Authorization": f"Bearer {token}"}
    own = api.get(f"/api/flow-runs/{first['id']}/bundle", headers=as_run)
    assert own.status_code == 200 and own.content == DATA
    assert api.get(f"/api/flow-runs/{second['id']}/bundle", headers=as_run).status_code == 403
    assert api.head(f"/api/bundles/{SHA}", headers=as_run).status_code == 403
    assert api.put(f"/api/bundles/{SHA}", content=DATA, headers=as_run).status_code == 403
