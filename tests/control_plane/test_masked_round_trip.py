"""A client that reads a document with its secrets masked and sends it back (GET then
PUT/PATCH/upsert) keeps the stored secrets: the mask is never stored. Changed values are
stored; a mask with no stored secret behind it is refused (422)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from control_plane.blocks import keyring_for, references
from control_plane.masking import MASK
from control_plane.models import Deployment, Pool

ACI = {
    "subscription_id": "sub",
    "resource_group": "rg",
    "location": "westeurope",
    "image": "example/flows:1",
    "secure_env": {"STRIPE": "sk-live-1"},
    "image_registry_credentials": [{"server": "r.azurecr.io", "username": "u", "password": "registry-pw"}],
    "env": {"DB_PASSWORD": "db-pw", "DATABASE_URL": "postgresql://app:url-pw@db/app", "LOG_LEVEL": "debug"},
}


def resolved(api: Any, ref: str) -> Any:
    """What a run given `{"$block": ref}` gets at submit."""
    services = api.app.state.services
    (layer,) = references.resolve_layers(services.engine, keyring_for(services.settings), {"v": {"$block": ref}})
    return layer["v"]


def stored_pool(api: Any, name: str) -> dict:
    with Session(api.app.state.services.engine) as session:
        return session.exec(select(Pool).where(Pool.name == name)).one().defaults  # type: ignore[no-any-return]


def test_pool_defaults_read_masked_and_patched_back_keep_their_secrets(api: Any) -> None:
    api.post("/api/pools", json={"name": "azure", "type": "aci", "defaults": ACI}).raise_for_status()
    shown = api.get("/api/pools/azure").json()["defaults"]
    assert shown["secure_env"] == MASK and shown["env"]["DB_PASSWORD"] == MASK
    shown["env"]["LOG_LEVEL"] = "info"  # the one edit
    assert api.patch("/api/pools/azure", json={"defaults": shown}).status_code == 200
    assert stored_pool(api, "azure") == {**ACI, "env": {**ACI["env"], "LOG_LEVEL": "info"}}
    assert MASK not in str(stored_pool(api, "azure"))

    shown["env"]["DB_PASSWORD"] = "new-db-pw"  # a new secret replaces the old one
    api.patch("/api/pools/azure", json={"defaults": shown}).raise_for_status()
    assert stored_pool(api, "azure")["env"]["DB_PASSWORD"] == "new-db-pw"
    assert stored_pool(api, "azure")["env"]["DATABASE_URL"] == "postgresql://app:url-pw@db/app"


def test_a_mask_with_no_secret_behind_it_is_refused(api: Any) -> None:
    defaults = {**ACI, "env": {"DB_PASSWORD": MASK}}
    created = api.post("/api/pools", json={"name": "azure", "type": "aci", "defaults": defaults})
    assert created.status_code == 422 and "defaults.env.DB_PASSWORD is the mask" in created.text
    api.post("/api/pools", json={"name": "azure", "type": "aci", "defaults": ACI}).raise_for_status()
    moved = api.patch("/api/pools/azure", json={"defaults": {**ACI, "env": {"OTHER_PASSWORD": MASK}}})
    assert moved.status_code == 422 and "send the real value" in moved.text
    assert stored_pool(api, "azure") == ACI


def test_deployment_job_variables_read_masked_and_upserted_back_keep_their_secrets(api: Any) -> None:
    api.post("/api/pools", json={"name": "azure", "type": "aci", "defaults": ACI}).raise_for_status()
    job_variables = {"env": {"API_TOKEN": "tok-123", "DATABASE_URL": "postgresql://a:pw-9@db/x"}, "cpu": 1}
    body = {"name": "d", "flow_name": "f", "entrypoint": "flows.py:f", "pool": "azure", "job_variables": job_variables}
    deployment = api.post("/api/deployments", json=body).json()
    shown = api.get(f"/api/deployments/{deployment['id']}").json()
    assert shown["job_variables"]["env"]["API_TOKEN"] == MASK
    assert shown["job_variables"]["env"]["DATABASE_URL"] == f"postgresql://a:{MASK}@db/x"

    resend = {k: shown[k] for k in ("name", "flow_name", "entrypoint", "pool", "job_variables")}
    resend["job_variables"]["cpu"] = 2
    assert api.post("/api/deployments", json=resend).status_code == 200
    with Session(api.app.state.services.engine) as session:
        stored = session.get(Deployment, deployment["id"])
        assert stored is not None
        assert stored.job_variables == {**job_variables, "cpu": 2}

    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={"job_variables": {"env": {"X_TOKEN": MASK}}})
    assert run.status_code == 422 and "job_variables.env.X_TOKEN is the mask" in run.text


def test_a_block_read_masked_and_put_back_keeps_its_secret(api: Any) -> None:
    body = {"type": "webhook", "name": "ops", "data": {"url": "https://hooks.example/T1", "headers": {"X-Key": "k1"}}}
    api.post("/api/blocks", json=body).raise_for_status()
    shown = api.get("/api/blocks/webhook/ops").json()
    assert shown["data"] == {"url": MASK, "headers": MASK}

    shown["data"]["url"] = "https://hooks.example/T2"  # change one secret, send the other back masked
    replaced = api.put("/api/blocks/webhook/ops", json={"data": shown["data"]})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["data"] == {"url": MASK, "headers": MASK}
    assert resolved(api, "webhook/ops") == {"url": "https://hooks.example/T2", "headers": {"X-Key": "k1"}}

    api.post("/api/blocks", json={"type": "secret", "name": "db", "data": {"value": "pw-1"}}).raise_for_status()
    shown = api.get("/api/blocks/secret/db").json()
    assert api.put("/api/blocks/secret/db", json={"data": shown["data"]}).status_code == 200
    assert resolved(api, "secret/db") == "pw-1"
    missing = api.put("/api/blocks/secret/nope", json={"data": {"value": "x"}})
    assert missing.status_code == 404
    unknown_mask = api.put("/api/blocks/webhook/ops", json={"data": {"url": "https://x.example", "extra": MASK}})
    assert unknown_mask.status_code == 422 and "data.extra is the mask" in unknown_mask.text
