"""The one place errors become HTTP answers, all in the one error model (`ErrorBody`):
`detail` says what was wrong and what to do; `errors` lists each problem."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from control_plane.audit import record_refusal
from control_plane.errors import ControlPlaneError, ErrorBody, ServiceUnavailableError
from push_pools.errors import JobConfigError, MissingDependencyError, PushPoolError

log = logging.getLogger("pushflow.api")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ControlPlaneError)
    async def control_plane_error(request: Request, exc: ControlPlaneError) -> JSONResponse:
        headers = None
        if exc.status_code == 401:
            headers = {"WWW-Authenticate": "Bearer"}
            await record_refusal(request.scope, getattr(request.state, "refused_key", None))
        elif isinstance(exc, ServiceUnavailableError):
            headers = {"Retry-After": str(exc.retry_after)}
        return _answer(exc.status_code, exc.detail, exc.errors, headers)

    @app.exception_handler(PushPoolError)
    async def push_pool_error(_: Request, exc: PushPoolError) -> JSONResponse:
        status = 422 if isinstance(exc, (JobConfigError, MissingDependencyError)) else 502
        return _answer(status, str(exc), [])

    @app.exception_handler(OperationalError)
    async def database_unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        # A paused (Aurora at 0 ACU) or unreachable database: the client should come back.
        log.warning("database unavailable: %s", (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0])
        detail = "the database is not reachable right now (it may be resuming); retry shortly"
        return _answer(503, detail, [], {"Retry-After": "5"})

    @app.exception_handler(DataError)
    async def unstorable_value(_: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the models let through (PostgreSQL text cannot
        # hold NUL; a number beyond its column): the client's input, so a 422.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        if "NUL" in reason or "\\u0000" in reason:
            detail = "text cannot contain NUL characters (\\u0000); remove them and send it again"
        else:
            detail = f"a value cannot be stored ({reason}); send a smaller or simpler value"
        return _answer(422, detail, [])

    @app.exception_handler(IntegrityError)
    async def concurrent_conflict(_: Request, exc: IntegrityError) -> JSONResponse:
        # Routes check for duplicates before they write; what still reaches the database's
        # constraints is a concurrent request that stored the same thing first.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        detail = (
            f"another request stored the same thing at the same moment ({reason}); "
            "read the current state and send this again if it is still needed"
        )
        return _answer(409, detail, [])

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        problems = [describe_validation(e) for e in errors]
        return _answer(422, "invalid request: " + "; ".join(problems), errors)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return _answer(500, "internal error; the server log has the details", [])


def describe_validation(error: dict[str, Any]) -> str:
    """One request-validation problem in words: which field, and what it must be."""
    loc = [str(p) for p in error["loc"]]
    where = loc[0] if loc else ""
    field = ".".join(loc[1:]) if where in ("body", "query", "path", "header") else ".".join(loc)
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"`{field}` is required" if field else f"the {where} is required"
    if error["type"] == "value_error":  # our validators' messages name the value and the fix
        return message
    if error["type"] == "extra_forbidden":
        return f"unknown field `{field}`"
    return f"`{field}`: {message}" if field else message


def _answer(status: int, detail: str, errors: list[Any], headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(detail=detail, errors=errors)
    return JSONResponse(body.model_dump(exclude_defaults=True), status_code=status, headers=headers)
