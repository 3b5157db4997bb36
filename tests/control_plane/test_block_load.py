"""`Block.load("type/name")` inside a run, over real HTTP with the run's own token; keys,
even admin ones, never get a block's secrets in clear."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"PUSHFLOW_RUN_LOOPS": "false", "PUSHFLOW_DISPATCH_ON_TRIGGER": "false"}
    server = LiveServer(Path(tmp_path_factory.mktemp("blocks")) / "home", extra_env=env).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_run_loads_a_block_and_a_key_cannot(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from pushflow.blocks import Block

    api = live.client()
    creds = {"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s3cr3t-value"}
    api.post("/api/blocks", json={"type": "aws-credentials", "name": "prod", "data": creds}).raise_for_status()
    api.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
    body = {"name": "d", "flow_name": "f", "entrypoint": "f.py:f", "pool": "local"}
    deployment = api.post("/api/deployments", json=body).json()
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    for state in ("PENDING", "RUNNING"):
        api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": state}}).raise_for_status()
    child = api.post(f"/api/flow-runs/{run['id']}/subflow-runs", json={"flow_name": "s"}).json()

    monkeypatch.setenv("PUSHFLOW_API_URL", live.url)
    monkeypatch.setenv("PUSHFLOW_FLOW_RUN_ID", child["flow_run"]["id"])
    monkeypatch.setenv("PUSHFLOW_RUN_TOKEN", child["token"])
    block = Block.load("aws-credentials/prod")
    assert dict(block) == creds
    assert "s3cr3t-value" not in repr(block)

    path = f"/api/flow-runs/{child['flow_run']['id']}/blocks/aws-credentials/prod"
    assert api.get(path).status_code == 403  # the admin key
    other = api.get(path, headers={"Authorization": f"Bearer {child['token']}"}).json()
    assert other["data"] == creds
    elsewhere = f"/api/flow-runs/{run['id']}/blocks/aws-credentials/prod"
    assert api.get(elsewhere, headers={"Authorization": f"Bearer {child['token']}"}).status_code == 403


def test_block_load_outside_a_run_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    from pushflow.blocks import Block

    monkeypatch.delenv("PUSHFLOW_RUN_TOKEN", raising=False)
    with pytest.raises(RuntimeError, match="inside a deployed run"):
        Block.load("secret/db")
    with pytest.raises(ValueError, match="type/name"):
        Block.load("db")
