"""Custom events: POST /api/events (admin and run tokens), filters on GET /api/events,
the size and rate limits, and retention; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from control_plane.auth import mint_run_token
from control_plane.local import create_local_app
from control_plane.models import FlowRun
from control_plane.passes import tick
from control_plane.settings import Settings
from tests.conftest import ADMIN_KEY


def landed(**labels: str) -> dict[str, Any]:
    return {"event": "acme.file.landed", "resource": {"id": "acme.bucket.inbox", "labels": labels}}


def names(api: Any, **params: Any) -> list[str]:
    response = api.get("/api/events", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return [e["event"] for e in response.json()["items"] if not e["event"].startswith("pushflow.")]


def test_posted_events_join_the_stream_with_their_shape(api: Any) -> None:
    response = api.post("/api/events", json={**landed(env="prod"), "payload": {"key": "a.csv"}})
    assert response.status_code == 204, response.text
    api.post("/api/events", json=[landed(env="dev"), {**landed(), "event": "acme.file.deleted"}]).raise_for_status()
    items = api.get("/api/events", params={"event": "acme.*"}).json()["items"]
    assert [e["event"] for e in items] == ["acme.file.landed", "acme.file.landed", "acme.file.deleted"]
    assert items[0]["resource"] == {"id": "acme.bucket.inbox", "labels": {"env": "prod"}}
    assert items[0]["payload"] == {"key": "a.csv"}
    assert items[0]["occurred"]


def test_filters_by_name_resource_and_label_with_wildcards(api: Any) -> None:
    api.post("/api/events", json=[landed(env="prod"), landed(env="dev"), landed(env="prod-eu")]).raise_for_status()
    api.post("/api/events", json={"event": "acme.job.done", "resource": {"id": "acme.job.7"}}).raise_for_status()
    assert names(api, event="acme.file.*") == ["acme.file.landed"] * 3
    assert names(api, event=["acme.job.*", "nothing"]) == ["acme.job.done"]
    assert names(api, resource_id="acme.job.*") == ["acme.job.done"]
    assert len(names(api, label="env=prod*")) == 2
    assert len(names(api, label="env=prod")) == 1
    bad = api.get("/api/events", params={"label": "env"})
    assert bad.status_code == 422 and "key=value" in bad.json()["detail"]


def test_a_label_filtered_page_moves_the_cursor_past_what_it_read(api: Any) -> None:
    api.post("/api/events", json=[landed(env="dev")] * 5 + [landed(env="prod")]).raise_for_status()
    page = api.get("/api/events", params={"label": "env=prod", "limit": 1}).json()
    assert [e["resource"]["labels"] for e in page["items"]] == [{"env": "prod"}]
    assert api.get("/api/events", params={"label": "env=prod", "after": page["next_cursor"]}).json()["items"] == []


def test_pushflow_names_are_reserved_and_big_events_are_413(api: Any) -> None:
    reserved = api.post("/api/events", json={**landed(), "event": "pushflow.flow-run.Completed"})
    assert reserved.status_code == 422 and "reserved" in reserved.json()["detail"]
    huge = api.post("/api/events", json={**landed(), "payload": {"blob": "x" * 70_000}})
    assert huge.status_code == 413 and "PUSHFLOW_EVENT_MAX_BYTES" in huge.json()["detail"]
    naive = api.post("/api/events", json={**landed(), "occurred": "2026-12-01T10:00:00"})
    assert naive.status_code == 422 and "time zone" in naive.json()["detail"]


def test_a_run_token_sends_events_only_about_its_own_run(api: Any, deployment: dict) -> None:
    first = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    other = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    token, token_hash = mint_run_token(first["id"])
    with Session(api.app.state.services.engine) as session:
        run = session.get(FlowRun, first["id"])
        assert run is not None
        run.token_hash = token_hash
        session.add(run)
        session.commit()
    as_run = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/events", json=landed(), headers=as_run).status_code == 204
    about_other = {"event": "acme.x", "resource": {"id": f"pushflow.flow-run.{other['id']}"}}
    refused = api.post("/api/events", json=about_other, headers=as_run)
    assert refused.status_code == 403 and "its own run" in refused.json()["detail"]
    assert api.get("/api/events", headers=as_run).status_code == 403  # the stream is for admins
    sent = api.get("/api/events", params={"event": "acme.file.landed"}).json()["items"][0]
    assert {"id": f"pushflow.flow-run.{first['id']}", "role": "flow-run"} in sent["related"]


@pytest.fixture
def strict_api(tmp_path: Path, database_url: str) -> Iterator[Any]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        api_key=ADMIN_KEY,
        run_loops=False,
        dispatch_on_trigger=False,
        event_rate_limit=3,
        event_retention_days=1,
    )
    with TestClient(create_local_app(settings), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


def test_past_the_rate_limit_events_are_429_and_not_kept(strict_api: Any) -> None:
    assert strict_api.post("/api/events", json=[landed()] * 3).status_code == 204
    flood = strict_api.post("/api/events", json=landed())
    assert flood.status_code == 429 and "PUSHFLOW_EVENT_RATE_LIMIT" in flood.json()["detail"]
    assert len(names(strict_api)) == 3


def test_retention_trims_events_older_than_the_setting(strict_api: Any) -> None:
    old = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    strict_api.post("/api/events", json=[{**landed(), "occurred": old}, landed(env="new")]).raise_for_status()
    report = tick(strict_api.app.state.services, budget_seconds=30)
    assert report.trimmed >= 1 and not report.failed
    kept = strict_api.get("/api/events", params={"event": "acme.*"}).json()["items"]
    assert [e["resource"]["labels"] for e in kept] == [{"env": "new"}]
