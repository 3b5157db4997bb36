from __future__ import annotations

from typing import Any

from tests.conftest import FLOW_SCHEMA


def test_upsert_replaces_the_deployment_with_the_same_flow_and_name(api: Any, deployment: dict) -> None:
    body = {
        "name": "nightly",
        "flow_name": "etl",
        "entrypoint": "flows/etl.py:etl",
        "pool": "local",
        "parameters": {"label": "changed"},
        "parameter_schema": FLOW_SCHEMA,
    }
    again = api.post("/api/deployments", json=body).json()
    assert again["id"] == deployment["id"]
    assert again["parameters"] == {"label": "changed"}


def test_read_by_id_and_by_name(api: Any, deployment: dict) -> None:
    assert api.get(f"/api/deployments/{deployment['id']}").json()["name"] == "nightly"
    assert api.get("/api/deployments/by-name/etl/nightly").json()["id"] == deployment["id"]


def test_unknown_deployment_is_404(api: Any) -> None:
    assert api.get("/api/deployments/nope").status_code == 404
    response = api.get("/api/deployments/by-name/etl/nope")
    assert response.status_code == 404
    assert "etl/nope" in response.json()["detail"]
    assert api.post("/api/deployments/nope/runs", json={}).status_code == 404


def test_deployment_on_a_missing_pool_is_404_saying_how_to_fix(api: Any) -> None:
    # The body is valid by the document; what it names does not exist (as for a path).
    body = {"name": "n", "flow_name": "f", "entrypoint": "f.py:f", "pool": "ghost"}
    response = api.post("/api/deployments", json=body)
    assert response.status_code == 404
    assert "pushflow pool create ghost" in str(response.json()["detail"])


def test_mistyped_default_parameter_is_422(api: Any, deployment: dict) -> None:
    body = {
        "name": "nightly",
        "flow_name": "etl",
        "entrypoint": "flows/etl.py:etl",
        "pool": "local",
        "parameters": {"n": "three"},
        "parameter_schema": FLOW_SCHEMA,
    }
    response = api.post("/api/deployments", json=body)
    assert response.status_code == 422
    assert "parameter 'n'" in response.json()["detail"]


def test_missing_fields_are_422_naming_them(api: Any) -> None:
    response = api.post("/api/deployments", json={"name": "x"})
    assert response.status_code == 422
    missing = {tuple(e["loc"])[-1] for e in response.json()["errors"]}
    assert {"flow_name", "entrypoint", "pool"} <= missing
    assert "`flow_name` is required" in response.json()["detail"]
