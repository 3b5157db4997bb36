"""Blocks: a block's secret fields never appear in clear in any API answer or in the
database; they decrypt with the key, and only with it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def test_a_blocks_secret_fields_are_encrypted_and_never_answered(api: Any) -> None:
    body = {
        "type": "aws-credentials",
        "name": "prod",
        "data": {"aws_access_key_id": "AKIA1", "aws_secret_access_key": SECRET},
    }
    created = api.post("/api/blocks", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["data"] == {"aws_access_key_id": "AKIA1", "aws_secret_access_key": "•••••• (hidden)"}
    answers = [created, api.get("/api/blocks"), api.get("/api/blocks/aws-credentials/prod"), api.get("/api/audit")]
    for answer in answers:
        assert answer.status_code == 200 or answer.status_code == 201
        assert SECRET not in answer.text

    engine = api.app.state.services.engine
    with engine.connect() as conn:
        dump = str(conn.execute(text("SELECT * FROM block")).all())
    assert SECRET not in dump and "AKIA1" in dump

    from sqlmodel import Session, select

    from control_plane.blocks import Block, crypto, keyring_for

    settings = api.app.state.services.settings
    with Session(engine) as session:
        row = session.exec(select(Block)).one()
    keyring = keyring_for(settings)
    assert keyring.open("aws-credentials/prod", row.sealed) == {"aws_secret_access_key": SECRET}
    import pytest

    with pytest.raises(crypto.UnreadableError):  # bound to its block: moved elsewhere it does not open
        keyring.open("aws-credentials/other", row.sealed)


def test_bad_blocks_are_422_and_duplicates_409(api: Any) -> None:
    unknown = api.post("/api/blocks", json={"type": "ftp", "name": "x", "data": {}})
    assert unknown.status_code == 422 and "aws-credentials" in unknown.json()["detail"]
    missing = api.post("/api/blocks", json={"type": "secret", "name": "x", "data": {}})
    assert missing.status_code == 422 and "value" in missing.json()["detail"]
    assert api.post("/api/blocks", json={"type": "secret", "name": "x", "data": {"value": "s"}}).status_code == 201
    assert api.post("/api/blocks", json={"type": "secret", "name": "x", "data": {"value": "s"}}).status_code == 409
    assert api.delete("/api/blocks/secret/x").status_code == 204
    assert api.get("/api/blocks/secret/x").status_code == 404


def test_a_block_reference_is_resolved_only_when_the_run_is_submitted(api: Any, tmp_path: Any) -> None:
    import sys

    from control_plane.passes import dispatch_due
    from tests.helpers import wait_for

    api.post("/api/blocks", json={"type": "secret", "name": "db", "data": {"value": SECRET}}).raise_for_status()
    out = tmp_path / "seen"
    code = f"import os; open({str(out)!r}, 'w').write(os.environ['DB_PASSWORD'])"
    api.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
    body = {
        "name": "uses-secret",
        "flow_name": "f",
        "entrypoint": "f.py:f",
        "pool": "local",
        "job_variables": {"command": [sys.executable, "-c", code], "env": {"DB_PASSWORD": {"$block": "secret/db"}}},
    }
    deployment = api.post("/api/deployments", json=body)
    assert deployment.status_code == 200, deployment.text
    assert SECRET not in deployment.text
    from sqlmodel import Session

    from control_plane.models import Deployment

    with Session(api.app.state.services.engine) as session:  # stored as the reference, never resolved
        stored = session.get(Deployment, deployment.json()["id"])
        assert stored is not None and stored.job_variables["env"] == {"DB_PASSWORD": {"$block": "secret/db"}}
    run = api.post(f"/api/deployments/{deployment.json()['id']}/runs", json={}).json()
    assert SECRET not in api.get(f"/api/flow-runs/{run['id']}").text
    assert dispatch_due(api.app.state.services) == 1
    assert wait_for(lambda: out.exists() and out.read_text(), what="the run to see its secret") == SECRET

    missing = api.post(
        "/api/deployments", json={**body, "name": "x", "job_variables": {"env": {"K": {"$block": "secret/nope"}}}}
    )
    assert missing.status_code == 422
    assert "secret/nope" in missing.json()["detail"]


def test_a_secret_the_flow_prints_is_masked_in_its_stored_logs(api: Any) -> None:
    api.post("/api/blocks", json={"type": "secret", "name": "db", "data": {"value": SECRET}}).raise_for_status()
    api.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
    env = {"DB_PASSWORD": {"$block": "secret/db"}, "API_TOKEN": "plain-token-123", "LOG_LEVEL": "debug"}
    body = {"name": "d", "flow_name": "f", "entrypoint": "f.py:f", "pool": "local", "job_variables": {"env": env}}
    deployment = api.post("/api/deployments", json=body).json()
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    lines = [
        {"message": f"connecting with {SECRET}!", "timestamp": 1.0},
        {"message": "token=plain-token-123 level=debug", "timestamp": 2.0},
    ]
    assert api.post(f"/api/flow-runs/{run['id']}/logs", json=lines).status_code == 204
    stored = [line["message"] for line in api.get(f"/api/flow-runs/{run['id']}/logs").json()]
    assert stored == ["connecting with •••••• (hidden)!", "token=•••••• (hidden) level=debug"]


def test_secrets_in_each_layer_of_job_variables_are_masked_in_stored_logs(api: Any) -> None:
    # The pool's defaults, the deployment's job variables and the run's own are each read
    # (control_plane/blocks/redaction.py reads all three in one statement).
    defaults = {"env": {"POOL_TOKEN": "pool-secret-1"}}
    api.post("/api/pools", json={"name": "local", "type": "process", "defaults": defaults}).raise_for_status()
    body = {"name": "d", "flow_name": "f", "entrypoint": "f.py:f", "pool": "local"}
    deployment = api.post("/api/deployments", json={**body, "job_variables": {"env": {"DEP_TOKEN": "dep-secret-2"}}})
    deployment.raise_for_status()
    run = api.post(
        f"/api/deployments/{deployment.json()['id']}/runs",
        json={"job_variables": {"env": {"RUN_TOKEN": "run-secret-3"}}},
    ).json()
    lines = [{"message": "pool-secret-1 dep-secret-2 run-secret-3 plain", "timestamp": 1.0}]
    assert api.post(f"/api/flow-runs/{run['id']}/logs", json=lines).status_code == 204
    stored = [line["message"] for line in api.get(f"/api/flow-runs/{run['id']}/logs").json()]
    assert stored == ["•••••• (hidden) •••••• (hidden) •••••• (hidden) plain"]
    assert api.post("/api/flow-runs/nope/logs", json=lines).status_code == 404
