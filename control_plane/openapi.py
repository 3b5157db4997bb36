"""The OpenAPI document, completed: every error response is declared with the one error
model (`ErrorBody`), in place of FastAPI's own validation-error schema, which this API
never answers with. Which errors an operation can answer follows from what it is:

- 401 and 403 when it needs a key (every operation but health);
- 404 when its path names something (`{id}`, `{name}`);
- 409 when it changes something (the store's state may refuse it);
- 400 (not JSON) and 413 (past PUSHFLOW_MAX_REQUEST_BYTES) when it takes a body;
- 422 when it takes parameters or a body;
- 429 when it counts against a limit (`LIMITED_OPERATIONS`);
- 502 when it reaches a pool's provider (`PROVIDER_OPERATIONS`);
- 500 everywhere (a bug; the server log has the details).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from control_plane.errors import ErrorBody

# Operations that call a pool's provider, so may answer 502 when the provider fails.
PROVIDER_OPERATIONS = {
    ("post", "/api/deployments/{deployment_id}/runs"),
    ("post", "/api/flow-runs/{flow_run_id}/cancel"),
    ("get", "/api/flow-runs/{flow_run_id}/infrastructure-logs"),
}

# Operations answering 429 past a limit (control_plane/limits.py).
LIMITED_OPERATIONS = {("post", "/api/flow-runs/{flow_run_id}/subflow-runs")}

_ERRORS = {
    400: "The body is not valid JSON",
    401: "No key, or a key the server does not accept",
    403: "The key may not do this (a run token acts only on its own run)",
    404: "What the path names does not exist",
    409: "Refused by the current state (it exists already, is in use, or cannot move so)",
    413: "The body, or a part of it, is larger than its limit; `detail` names the setting",
    429: "Past a count limit; `detail` names the setting",
    422: "The request is invalid; `detail` says which field and why",
    500: "A bug in the server; its log has the details",
    502: "The pool's provider failed or refused",
}


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            complete(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]

    @app.exception_handler(405)
    async def method_not_allowed(request: Request, _: Exception) -> JSONResponse:
        # Starlette's 405 names only the first route matching the path; HTTP (and the
        # contract) want every method the path has, which the document knows.
        methods = allowed_methods(build(), request.url.path)
        detail = f"{request.method} is not allowed here; use {', '.join(methods) or 'another path'}"
        return JSONResponse({"detail": detail}, status_code=405, headers={"Allow": ", ".join(methods)})


def allowed_methods(document: dict[str, Any], path: str) -> list[str]:
    for template, item in document.get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path):
            return sorted(method.upper() for method in item)
    return []


def complete(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                responses.setdefault(str(status), {"description": _ERRORS[status]})["content"] = {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                }
            if method == "head":  # a HEAD answer has headers only
                for response in responses.values():
                    response.pop("content", None)


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [500]
    if operation.get("security"):
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if method != "get":
        statuses.append(409)
    if operation.get("requestBody"):
        statuses += [400, 413]
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    if (method, path) in LIMITED_OPERATIONS:
        statuses.append(429)
    if (method, path) in PROVIDER_OPERATIONS:
        statuses.append(502)
    return sorted(statuses)
