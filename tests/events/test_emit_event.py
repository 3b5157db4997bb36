"""`emit_event` from the SDK, against a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pushflow import emit_event
from runtime.errors import APIError
from tests.helpers import LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("events") / "home") as server:
        yield server


@pytest.fixture
def server(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    """One live server for the module, with the SDK pointed at it."""
    server = live
    monkeypatch.setenv("PUSHFLOW_API_URL", server.url)
    monkeypatch.setenv("PUSHFLOW_API_KEY", server.api_key or "")
    monkeypatch.delenv("PUSHFLOW_RUN_TOKEN", raising=False)
    return server


def test_emit_event_sends_a_custom_event(server: LiveServer) -> None:
    assert emit_event("acme.file.landed", {"id": "acme.bucket.inbox", "env": "prod"}, payload={"key": "a.csv"})
    items = server.client().get("/api/events", params={"event": "acme.*"}).json()["items"]
    assert [(e["event"], e["resource"], e["payload"]) for e in items] == [
        ("acme.file.landed", {"id": "acme.bucket.inbox", "labels": {"env": "prod"}}, {"key": "a.csv"})
    ]


def test_a_refused_event_raises_with_the_server_s_reason(server: LiveServer) -> None:
    with pytest.raises(APIError, match="reserved"):
        emit_event("pushflow.flow-run.Completed", {"id": "x"})


def test_without_an_api_nothing_is_sent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PUSHFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("PUSHFLOW_API_KEY", raising=False)
    monkeypatch.delenv("PUSHFLOW_RUN_TOKEN", raising=False)
    assert emit_event("acme.x", {"id": "acme.y"}) is False
