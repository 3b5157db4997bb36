"""Secrets in job variables never come back from the API in clear; the store keeps them
for dispatch."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

SECRETS = ("aci-secure-value", "registry-pw", "env-db-password", "run-api-token", "url-password", "share-key")

ACI_DEFAULTS = {
    "subscription_id": "sub",
    "resource_group": "rg",
    "location": "westeurope",
    "image": "example/flows:1",
    "secure_env": {"STRIPE": "aci-secure-value"},
    "image_registry_credentials": [{"server": "r.azurecr.io", "username": "u", "password": "registry-pw"}],
    "env": {"DB_PASSWORD": "env-db-password", "LOG_LEVEL": "debug"},
    "deps_cache": {"storage_account_name": "pfcache", "share_name": "deps", "storage_account_key": "share-key"},
}


def test_job_variable_secrets_are_masked_in_every_read(api: Any) -> None:
    assert api.post("/api/pools", json={"name": "azure", "type": "aci", "defaults": ACI_DEFAULTS}).status_code == 201
    deployment = api.post(
        "/api/deployments",
        json={
            "name": "d",
            "flow_name": "f",
            "entrypoint": "flows.py:f",
            "pool": "azure",
            "job_variables": {"env": {"DATABASE_URL": "postgresql://app:url-password@db:5432/app"}},
        },
    ).json()
    run_vars = {"env": {"SERVICE_API_KEY": "run-api-token"}}
    created = api.post(f"/api/deployments/{deployment['id']}/runs", json={"job_variables": run_vars})
    assert created.status_code == 201, created.text
    run = created.json()

    responses = [
        created,
        api.get("/api/pools"),
        api.get("/api/pools/azure"),
        api.get("/api/deployments"),
        api.get(f"/api/deployments/{deployment['id']}"),
        api.get("/api/flow-runs"),
        api.get(f"/api/flow-runs/{run['id']}"),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        leaked = [s for s in SECRETS if s in response.text]
        assert not leaked, f"{response.url} shows {leaked}"
    pool = api.get("/api/pools/azure").json()
    assert pool["defaults"]["env"]["LOG_LEVEL"] == "debug"  # what is not secret still shows
    assert pool["defaults"]["env"]["DB_PASSWORD"] == "•••••• (hidden)"

    # The store keeps the real values: dispatch hands them to the provider.
    from control_plane.models import FlowRun

    with Session(api.app.state.services.engine) as session:
        stored = session.exec(select(FlowRun)).one()
        assert stored.job_variables["env"]["SERVICE_API_KEY"] == "run-api-token"
