"""The OpenAPI document, completed: every error response is declared with the one error
model (`ErrorBody`), in place of FastAPI's own validation-error schema, which this API
never answers with. Which errors an operation can answer follows from what it is:

- 401 and 403 when it needs a key (every operation but health);
- 404 when its path names something (`{id}`, `{name}`), or its body does (`NAMING_OPERATIONS`);
- 409 when it changes something (the store's state may refuse it);
- 400 (not JSON) and 413 (past PUSHFLOW_MAX_REQUEST_BYTES) when it takes a body;
- 422 when it takes parameters or a body;
- 429 when it counts against a limit (`LIMITED_OPERATIONS`);
- 502 when it reaches a pool's provider (`PROVIDER_OPERATIONS`);
- 503 when it reads the store (it may be resuming; `Retry-After` says when to come back);
- 500 everywhere (a bug; the server log has the details).

It also carries OpenAPI links (`LINKS`): which answer's fields name what the next call
acts on (a created pool → read, change, delete it, deploy onto it; a deployment → its
runs; a run → its state, logs, cancel ...), for clients and for stateful testing.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from control_plane.errors import ErrorBody
from control_plane.lazy_routes import lazy_routes

# Operations that call a pool's provider, so may answer 502 when the provider fails.
PROVIDER_OPERATIONS = {
    ("post", "/api/deployments/{deployment_id}/runs"),
    ("post", "/api/flow-runs/{flow_run_id}/cancel"),
    ("get", "/api/flow-runs/{flow_run_id}/infrastructure-logs"),
}

# Operations whose body names something that must exist (404 when it does not).
NAMING_OPERATIONS = {("post", "/api/deployments")}

# Operations answering 429 past a limit (control_plane/limits.py).
LIMITED_OPERATIONS = {("post", "/api/flow-runs/{flow_run_id}/subflow-runs")}

_RUN = "$response.body#/id"
_RUN_OPS = [
    ("get", "/api/flow-runs/{flow_run_id}"),
    ("post", "/api/flow-runs/{flow_run_id}/state"),
    ("post", "/api/flow-runs/{flow_run_id}/cancel"),
    ("post", "/api/flow-runs/{flow_run_id}/heartbeat"),
    ("get", "/api/flow-runs/{flow_run_id}/logs"),
    ("post", "/api/flow-runs/{flow_run_id}/logs"),
    ("get", "/api/flow-runs/{flow_run_id}/task-runs"),
    ("post", "/api/flow-runs/{flow_run_id}/task-runs"),
    ("get", "/api/flow-runs/{flow_run_id}/events"),
    ("get", "/api/flow-runs/{flow_run_id}/attempts"),
    ("get", "/api/flow-runs/{flow_run_id}/infrastructure-logs"),
    ("get", "/api/flow-runs/{flow_run_id}/result"),
    ("put", "/api/flow-runs/{flow_run_id}/result"),
    ("post", "/api/flow-runs/{flow_run_id}/subflow-runs"),
    ("post", "/api/flow-runs/{flow_run_id}/concurrency-slots"),
]
_DEPLOYMENT = {"deployment_id": "$response.body#/id"}
_SCHEDULE = {"deployment_id": "$response.body#/deployment_id", "schedule_id": "$response.body#/id"}
_POOL = {"name": "$response.body#/name"}
_WEBHOOK = {"name": "$response.body#/name"}
_AUTOMATION = {"ref": "$response.body#/id"}
_BLOCK = {"type": "$response.body#/type", "name": "$response.body#/name"}

# (method, path, status) of an answer -> (method, path, parameters, request body) of the
# calls it leads to. Parameters and bodies are OpenAPI runtime expressions.
LINKS: dict[tuple[str, str, str], list[tuple[str, str, dict[str, str], dict[str, str] | None]]] = {
    ("post", "/api/pools", "201"): [
        ("get", "/api/pools/{name}", _POOL, None),
        ("patch", "/api/pools/{name}", _POOL, None),
        ("delete", "/api/pools/{name}", _POOL, None),
        ("post", "/api/deployments", {}, {"pool": "$response.body#/name"}),
    ],
    ("post", "/api/deployments", "200"): [
        ("get", "/api/deployments/{deployment_id}", _DEPLOYMENT, None),
        ("patch", "/api/deployments/{deployment_id}", _DEPLOYMENT, None),
        ("delete", "/api/deployments/{deployment_id}", _DEPLOYMENT, None),
        (
            "get",
            "/api/deployments/by-name/{flow_name}/{name}",
            {"flow_name": "$response.body#/flow_name", "name": "$response.body#/name"},
            None,
        ),
        ("get", "/api/deployments/{deployment_id}/schedules", _DEPLOYMENT, None),
        ("post", "/api/deployments/{deployment_id}/schedules", _DEPLOYMENT, None),
        ("post", "/api/deployments/{deployment_id}/runs", _DEPLOYMENT, None),
    ],
    ("post", "/api/deployments/{deployment_id}/schedules", "201"): [
        ("patch", "/api/deployments/{deployment_id}/schedules/{schedule_id}", _SCHEDULE, None),
        ("delete", "/api/deployments/{deployment_id}/schedules/{schedule_id}", _SCHEDULE, None),
    ],
    ("post", "/api/deployments/{deployment_id}/runs", "201"): [
        (method, path, {"flow_run_id": _RUN}, None) for method, path in _RUN_OPS
    ],
    ("post", "/api/deployments/{deployment_id}/runs", "200"): [
        (method, path, {"flow_run_id": _RUN}, None) for method, path in _RUN_OPS
    ],
    ("post", "/api/webhooks", "201"): [
        (method, path, _WEBHOOK, None)
        for method, path in [
            ("get", "/api/webhooks/{name}"),
            ("patch", "/api/webhooks/{name}"),
            ("delete", "/api/webhooks/{name}"),
            ("post", "/api/webhooks/{name}/rotate-url"),
            ("post", "/api/webhooks/{name}/rotate-secret"),
        ]
    ],
    ("post", "/api/automations", "201"): [
        (method, path, _AUTOMATION, None)
        for method, path in [
            ("get", "/api/automations/{ref}"),
            ("delete", "/api/automations/{ref}"),
            ("post", "/api/automations/{ref}/pause"),
            ("post", "/api/automations/{ref}/resume"),
            ("get", "/api/automations/{ref}/firings"),
        ]
    ],
    ("post", "/api/blocks", "201"): [
        ("get", "/api/blocks/{type}/{name}", _BLOCK, None),
        ("delete", "/api/blocks/{type}/{name}", _BLOCK, None),
    ],
    ("post", "/api/keys", "201"): [("delete", "/api/keys/{name}", {"name": "$response.body#/name"}, None)],
    ("put", "/api/concurrency-limits/{tag}", "200"): [
        ("delete", "/api/concurrency-limits/{tag}", {"tag": "$response.body#/tag"}, None)
    ],
}

_ERRORS = {
    400: "The body is not valid JSON",
    401: "No key, or a key the server does not accept",
    403: "The key may not do this (a run token acts only on its own run)",
    404: "What the path (or the body) names does not exist",
    409: "Refused by the current state (it exists already, is in use, or cannot move so)",
    413: "The body, or a part of it, is larger than its limit; `detail` names the setting",
    429: "Past a count limit; `detail` names the setting",
    422: "The request is invalid; `detail` says which field and why",
    500: "A bug in the server; its log has the details",
    503: "The database or AWS KMS is not reachable right now (or is throttling); retry after Retry-After",
    502: "The pool's provider failed or refused",
}


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            lazy_routes(app).load_all()  # the document describes every route
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            declare_bearer(document, app.routes)
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


BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key: the bootstrap admin key (PUSHFLOW_API_KEY, or the key the local server saved in "
    "~/.pushflow/api_key) or a scoped key (`pushflow key create`); or a run token (only for its own run)",
}


def declare_bearer(document: dict[str, Any], routes: list[Any]) -> None:
    """The bearer scheme (the Authorize button of /api/docs) on every operation whose
    route depends on `control_plane.deps.get_principal` (or `require_admin`, which calls
    it): declared here, once, rather than
    by a `Security` dependency that FastAPI would solve on every request."""
    from fastapi.routing import APIRoute

    from control_plane.deps import get_principal, require_admin

    candidates: Iterable[Any] = routes  # FastAPI before 0.150 copies every route into app.routes
    with contextlib.suppress(ImportError):  # later ones keep included routers whole
        from fastapi.routing import iter_route_contexts

        candidates = iter_route_contexts(routes)
    keyed = [
        route
        for route in candidates
        if isinstance(getattr(route, "original_route", route), APIRoute)
        and route.include_in_schema
        and (_calls(route.dependant, get_principal) or _calls(route.dependant, require_admin))
    ]
    if not keyed:
        return
    document.setdefault("components", {}).setdefault("securitySchemes", {})["HTTPBearer"] = dict(BEARER)
    paths = document.get("paths", {})
    for route in keyed:
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = [{"HTTPBearer": []}]


def _calls(dependant: Any, function: Any) -> bool:
    return any(d.call is function or _calls(d, function) for d in dependant.dependencies)


def complete(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                responses.setdefault(str(status), {"description": _ERRORS[status]})
            for code, response in responses.items():  # declared by a route or above: one model
                if code >= "400":
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
            if method == "head":  # a HEAD answer has headers only
                for response in responses.values():
                    response.pop("content", None)
    add_links(document)
    add_pool_defaults(document)


def add_pool_defaults(document: dict[str, Any]) -> None:
    """A pool's `defaults` are its type's job variables (any may be left out: a
    deployment or a run gives the rest); the document states them per type."""
    from push_pools import registry
    from push_pools.errors import MissingDependencyError

    schemas = document["components"]["schemas"]
    if "PoolCreate" not in schemas:
        return
    per_type = []
    for kind in registry.pool_types():
        try:
            job = registry.load(kind)().Job
        except MissingDependencyError:  # its SDK is not installed here: no pool of it can be made
            continue
        schema = job.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        per_type.append({"properties": {"type": {"const": kind}, "defaults": _optional_fields(schema)}})
    schemas["PoolCreate"]["oneOf"] = per_type


def _optional_fields(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "required"}


def add_links(document: dict[str, Any]) -> None:
    paths = document.get("paths", {})
    for (method, path, status), targets in LINKS.items():
        response = paths[path][method]["responses"][status]
        links = response.setdefault("links", {})
        for target_method, target_path, parameters, body in targets:
            target = paths[target_path][target_method]
            link: dict[str, Any] = {"operationId": target["operationId"], "parameters": parameters}
            if body is not None:
                link["requestBody"] = body
            links[target["operationId"].split("_api_")[0]] = link


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [500] if path == "/api/health" else [500, 503]
    if operation.get("security"):
        statuses += [401, 403]
    if "{" in path or (method, path) in NAMING_OPERATIONS:
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
