from __future__ import annotations

from typing import Any


def test_create_and_read_a_pool(api: Any) -> None:
    created = api.post("/api/pools", json={"name": "local", "type": "process", "defaults": {"env": {"A": "1"}}})
    assert created.status_code == 201
    pool = api.get("/api/pools/local").json()
    assert pool["type"] == "process"
    assert pool["defaults"] == {"env": {"A": "1"}}
    assert "command" in pool["job_schema"]["properties"]
    assert [p["name"] for p in api.get("/api/pools").json()] == ["local"]


def test_unknown_pool_type_is_422_listing_the_types(api: Any) -> None:
    response = api.post("/api/pools", json={"name": "x", "type": "kubernetes"})
    assert response.status_code == 422
    assert "unknown pool type 'kubernetes'" in response.json()["detail"]
    assert "process" in response.json()["detail"]


def test_invalid_defaults_are_422_naming_the_variable(api: Any) -> None:
    response = api.post("/api/pools", json={"name": "x", "type": "process", "defaults": {"command": "not-a-list"}})
    assert response.status_code == 422
    assert "command" in response.json()["detail"]


def test_duplicate_pool_is_409(api: Any) -> None:
    api.post("/api/pools", json={"name": "local", "type": "process"})
    response = api.post("/api/pools", json={"name": "local", "type": "process"})
    assert response.status_code == 409
    assert "pushflow pool update local" in response.json()["detail"]


def test_unknown_pool_is_404(api: Any) -> None:
    response = api.get("/api/pools/nope")
    assert response.status_code == 404
    assert "pushflow pool create nope" in response.json()["detail"]


def test_patch_changes_defaults_and_pause(api: Any) -> None:
    api.post("/api/pools", json={"name": "local", "type": "process"})
    response = api.patch("/api/pools/local", json={"defaults": {"working_dir": "/tmp"}, "paused": True})
    assert response.status_code == 200
    assert response.json()["defaults"] == {"working_dir": "/tmp"}
    assert response.json()["paused"] is True


def test_bad_pool_name_is_422(api: Any) -> None:
    response = api.post("/api/pools", json={"name": "has spaces", "type": "process"})
    assert response.status_code == 422
