"""Block encryption keys, on SQLite and PostgreSQL: every sealed value names its key; a
keyring of the current key and the previous ones reads them all while rotate-key
re-seals them; AWS KMS envelope encryption (a moto server over real HTTP, real boto3):
only the KMS-encrypted data key is stored, and KMS Decrypt opens it at use."""

from __future__ import annotations

import base64
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlmodel import Session, select

from control_plane.blocks import Block, crypto, keyring_for, kms, references
from control_plane.local import create_local_app
from control_plane.settings import Settings

ADMIN = "test-admin-key"
SECRET = "sk-live-rotation-secret"
OLD, NEW = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))


class Server:
    """One control plane per configuration, all on the same database (as a restart with
    new settings would be)."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.tmp_path, self.database_url = tmp_path, database_url

    def settings(self, **keys: Any) -> Settings:
        home = self.tmp_path / f"home-{len(list(self.tmp_path.iterdir()))}"  # never the home-made key
        return Settings(home=home, database_url=self.database_url, api_key=ADMIN, run_loops=False, **keys)

    def client(self, **keys: Any) -> tuple[TestClient, Settings]:
        settings = self.settings(**keys)
        client = TestClient(create_local_app(settings), headers={"Authorization": f"Bearer {ADMIN}"})
        return client, settings


@pytest.fixture
def servers(tmp_path: Path, database_url: str) -> Server:
    return Server(tmp_path, database_url)


def value_of(client: TestClient, settings: Settings, ref: str) -> Any:
    """What a run naming `{"$block": ref}` gets at submit, under these settings."""
    engine = client.app.state.services.engine  # type: ignore[attr-defined]
    (layer,) = references.resolve_layers(engine, keyring_for(settings), {"v": {"$block": ref}})
    return layer["v"]


def sealed(client: TestClient) -> dict[str, str]:
    with Session(client.app.state.services.engine) as session:  # type: ignore[attr-defined]
        return {f"{b.type}/{b.name}": b.sealed or "" for b in session.exec(select(Block))}


def test_rotation_reads_with_the_previous_key_and_reseals_with_the_new_one(servers: Server) -> None:
    old_id, new_id = crypto.key_id(crypto.load_key(OLD)), crypto.key_id(crypto.load_key(NEW))
    client, _ = servers.client(block_key=OLD)
    with client:
        client.post("/api/blocks", json={"type": "secret", "name": "db", "data": {"value": SECRET}}).raise_for_status()
        body = {"aws_access_key_id": "AKIA1", "aws_secret_access_key": "aws-" + SECRET}
        client.post("/api/blocks", json={"type": "aws-credentials", "name": "prod", "data": body}).raise_for_status()
        assert all(v.startswith(f"{old_id}:") for v in sealed(client).values())
        assert [b["sealed_with"] for b in client.get("/api/blocks").json()] == [old_id, old_id]
        # One block as it was stored before key ids existed: no prefix.
        legacy = crypto.encrypt(crypto.load_key(OLD), "secret/db", {"value": SECRET})
        with client.app.state.services.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(update(Block).where(Block.name == "db").values(sealed=legacy))

    client, settings = servers.client(block_key=NEW)  # the old key forgotten too soon
    with client:
        refused = client.post("/api/blocks/rotate-key")
        assert refused.status_code == 409 and "PUSHFLOW_BLOCK_PREVIOUS_KEYS" in refused.json()["detail"]
        with pytest.raises(references.BlockReferenceError, match=f"sealed with key {old_id}"):
            value_of(client, settings, "aws-credentials/prod.aws_secret_access_key")
        assert sealed(client)["secret/db"] == legacy  # nothing changed
        listed = {b["name"]: b["sealed_with"] for b in client.get("/api/blocks").json()}
        assert listed == {"prod": old_id, "db": "legacy"}

    client, settings = servers.client(block_key=NEW, block_previous_keys=f"{OLD}")
    with client:
        assert value_of(client, settings, "secret/db") == SECRET  # read with the previous key meanwhile
        rotated = client.post("/api/blocks/rotate-key")
        assert rotated.status_code == 200, rotated.text
        assert rotated.json() == {"current_key": new_id, "rotated": 2, "by_previous_key": {old_id: 1, "legacy": 1}}
        assert all(v.startswith(f"{new_id}:") for v in sealed(client).values())
        again = client.post("/api/blocks/rotate-key").json()  # safe to run again
        assert again["by_previous_key"] == {new_id: 2}
        assert {b["sealed_with"] for b in client.get("/api/blocks").json()} == {new_id}  # done: retire the old key

    client, settings = servers.client(block_key=NEW)  # the old key retired
    with client:
        assert value_of(client, settings, "secret/db") == SECRET
        assert value_of(client, settings, "aws-credentials/prod.aws_secret_access_key") == "aws-" + SECRET


@pytest.fixture
def moto_kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto server on 127.0.0.1; boto3 reaches it through the standard AWS settings."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for name, value in {
        "AWS_ENDPOINT_URL_KMS": f"http://{host}:{port}",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    kms._client.cache_clear()
    try:
        yield boto3.client("kms")
    finally:
        kms._client.cache_clear()
        server.stop()


def test_kms_envelope_encryption_and_moving_between_keys(servers: Server, moto_kms: Any) -> None:
    first = moto_kms.create_key(Description="pushflow blocks")["KeyMetadata"]["KeyId"]
    alias = f"alias/pushflow-blocks-{uuid.uuid4().hex[:8]}"  # moto keeps its state per process, across servers
    moto_kms.create_alias(AliasName=alias, TargetKeyId=first)
    client, _ = servers.client(block_key=OLD)
    with client:  # a block from before KMS
        client.post("/api/blocks", json={"type": "secret", "name": "old", "data": {"value": "old-" + SECRET}})

    client, settings = servers.client(block_key=OLD, block_kms_key_id=alias)
    with client:
        client.post("/api/blocks", json={"type": "secret", "name": "db", "data": {"value": SECRET}}).raise_for_status()
        stored = sealed(client)
        assert stored["secret/db"].startswith("kms:") and stored["secret/old"].startswith("k")
        with client.app.state.services.engine.connect() as conn:  # type: ignore[attr-defined]
            assert SECRET not in str(conn.execute(text("SELECT * FROM block")).all())
        # Envelope: the stored data key is KMS-encrypted, bound to its block by the encryption context.
        _, wrapped, _ = stored["secret/db"].split(":", 2)
        context = {"pushflow:block": "secret/db"}
        data_key = moto_kms.decrypt(CiphertextBlob=base64.b64decode(wrapped), EncryptionContext=context)["Plaintext"]
        assert len(data_key) == 32
        assert value_of(client, settings, "secret/db") == SECRET
        rotated = client.post("/api/blocks/rotate-key").json()
        assert rotated["current_key"] == "kms" and rotated["by_previous_key"] == {
            crypto.key_id(crypto.load_key(OLD)): 1,
            "kms": 1,
        }

    second = moto_kms.create_key(Description="pushflow blocks, next")["KeyMetadata"]["KeyId"]
    client, settings = servers.client(block_kms_key_id=second)  # no local key at all now
    with client:
        assert value_of(client, settings, "secret/old") == "old-" + SECRET  # wrapped under the first key: still opens
        assert client.post("/api/blocks/rotate-key").json()["by_previous_key"] == {"kms": 2}
        _, wrapped, _ = sealed(client)["secret/db"].split(":", 2)
        answer = moto_kms.decrypt(
            CiphertextBlob=base64.b64decode(wrapped), EncryptionContext={"pushflow:block": "secret/db"}
        )
        assert answer["KeyId"].endswith(second)
        assert value_of(client, settings, "secret/db") == SECRET


def test_kms_out_of_reach_is_a_503_to_retry_and_a_run_waits_for_it(
    servers: Server, moto_kms: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KMS unreachable is not a server bug: the API answers 503 with Retry-After and
    stores nothing; a run whose job names a block is rescheduled (not crashed) to retry."""
    from control_plane.passes import dispatch_due

    key = moto_kms.create_key(Description="pushflow blocks")["KeyMetadata"]["KeyId"]
    client, _ = servers.client(block_kms_key_id=key)
    with client:
        client.post("/api/blocks", json={"type": "secret", "name": "db", "data": {"value": SECRET}}).raise_for_status()
        client.post("/api/pools", json={"name": "p", "type": "process"}).raise_for_status()
        client.patch("/api/pools/p", json={"paused": True}).raise_for_status()  # the run waits for KMS to go
        variables = {"env": {"DB": {"$block": "secret/db"}}}
        body = {"name": "d", "flow_name": "f", "entrypoint": "f.py:f", "pool": "p", "job_variables": variables}
        deployment = client.post("/api/deployments", json=body).json()
        run = client.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()

        with socket.socket() as closed:  # a port nothing listens on
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        kms._client.cache_clear()

        answer = client.post("/api/blocks", json={"type": "secret", "name": "new", "data": {"value": SECRET}})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert "AWS KMS GenerateDataKey could not be reached" in answer.json()["detail"]
        assert "retry shortly" in answer.json()["detail"]
        assert client.get("/api/blocks/secret/new").status_code == 404  # nothing half-stored
        again = client.post(f"/api/deployments/{deployment['id']}/runs", json={})  # checks its job resolved
        assert again.status_code == 503 and "AWS KMS Decrypt" in again.json()["detail"]
        kept = [r["id"] for r in client.get("/api/flow-runs").json()["items"]]
        assert kept == [run["id"]]  # the refused one was not kept

        client.patch("/api/pools/p", json={"paused": False}).raise_for_status()
        dispatch_due(client.app.state.services)  # type: ignore[attr-defined]
        after = client.get(f"/api/flow-runs/{run['id']}").json()["state"]
        assert after["type"] == "SCHEDULED", after  # backs off and retries, not CRASHED
        assert "AWS KMS Decrypt could not be reached" in after["message"]
