"""The OpenAPI document is valid and complete: a bearer security scheme (the Authorize
button of /api/docs), a description on every operation and schema, and every error
response declared with the one error model the API really answers with."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def document(api: Any) -> dict:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_the_document_is_valid_openapi(document: dict) -> None:
    from openapi_spec_validator import validate

    validate(document)


def test_every_operation_and_schema_is_described(document: dict) -> None:
    undescribed = [f"{m.upper()} {p}" for m, p, op in _operations(document) if not op.get("description")]
    assert undescribed == []
    schemas = document["components"]["schemas"]
    assert [name for name, schema in schemas.items() if not schema.get("description")] == []


def test_every_operation_but_health_needs_the_bearer_key(document: dict) -> None:
    [scheme] = document["components"]["securitySchemes"].values()
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    open_operations = [f"{m.upper()} {p}" for m, p, op in _operations(document) if not op.get("security")]
    # Webhook senders authenticate with the unguessable URL and a signature, not a key.
    assert open_operations == ["GET /api/health", "POST /hooks/{slug}"]


def test_every_error_response_is_the_one_error_model(document: dict) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, op in _operations(document):
        errors = {code: r for code, r in op["responses"].items() if code >= "400"}
        assert "500" in errors, f"{method} {path}"
        for code, response in errors.items():
            if method.lower() == "head":  # a HEAD answer has headers only
                assert "content" not in response, f"{method} {path} {code}"
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path} {code}"
        if op.get("security"):
            assert {"401", "403"} <= set(errors), f"{method} {path}"


def test_answered_errors_fit_the_declared_model(api: Any, document: dict) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(document["components"]["schemas"]["ErrorBody"])
    answers = [
        api.get("/api/pools", headers={"Authorization": "Bearer wrong"}),
        api.get("/api/pools/nope"),
        api.post("/api/pools", json={"name": "p", "type": "process", "defaults": {"workdir": "/"}}),
        api.post("/api/deployments", json={"name": "x"}),
        api.get("/api/flow-runs", params={"limit": 0}),
    ]
    assert [a.status_code for a in answers] == [401, 404, 422, 422, 422]
    for answer in answers:
        validator.validate(answer.json())
        assert isinstance(answer.json()["detail"], str)
