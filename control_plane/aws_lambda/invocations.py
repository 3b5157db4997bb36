"""The Lambda handler: one function, routed by the event's shape (see events.py)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from control_plane.aws_lambda.container import Container
from control_plane.aws_lambda.errors import DatabaseUnavailableError, LambdaConfigError
from control_plane.aws_lambda.events import COMMANDS, EventKind, classify, describe

log = logging.getLogger("pushflow.lambda")

_container: Container | None = None


def handler(event: Any, context: Any) -> Any:
    """`control_plane.aws_lambda:handler`."""
    return handle(container(), event, context)


def container() -> Container:
    """This Lambda container's state, built on the first invocation (or by a preload)."""
    global _container
    if _container is None:
        _container = Container()
    return _container


def built_container() -> Container | None:
    return _container


def handle(container: Container, event: Any, context: Any) -> Any:
    container.obs.start(context)
    kind = classify(event)
    try:
        if kind is EventKind.HTTP:
            return _http(container, event, context)
        if kind is EventKind.TICK:
            from control_plane.aws_lambda.ticks import run_tick

            return run_tick(container, context)
        if kind is EventKind.QUEUE:
            from control_plane.aws_lambda.deliveries import deliver

            return deliver(container, event["Records"], context)
        if kind is EventKind.COMMAND:
            from control_plane.aws_lambda.commands import run_command

            return run_command(container, event, context)
        return _unknown(event)
    finally:
        container.obs.flush()


def _http(container: Container, event: Any, context: Any) -> Any:
    with event_loop():  # Mangum looks for a loop when it is built and when it serves
        try:
            app = container.http()
        except LambdaConfigError as exc:  # the operator's to fix; say what, without secrets
            log.error("cannot serve HTTP: %s", exc)
            return _http_error(500, f"the control plane is misconfigured: {exc}")
        method, path = _method_and_path(event)
        run = RUN_PATH.match(path)
        with container.obs.run(run.group(1)) if run else contextlib.nullcontext():
            response = app(event, context)
    if method == "POST" and TRIGGER_PATH.match(path) and response.get("statusCode") == 201:
        container.obs.count("RunsCreated")
    return response


@contextlib.contextmanager
def event_loop() -> Iterator[None]:
    """A loop of our own for one HTTP invocation. Mangum (built and called) uses
    `asyncio.get_event_loop()`, which would otherwise create a loop, leave it as the
    thread's current loop and never close it (leaking its self-pipe sockets)."""
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        asyncio.set_event_loop(None)
        loop.close()


RUN_PATH = re.compile(r"^/api/flow-runs/([0-9a-f-]{36})(?:/|$)")
TRIGGER_PATH = re.compile(r"^/api/deployments/[^/]+/runs$")


def _method_and_path(event: dict[str, Any]) -> tuple[str, str]:
    http = event.get("requestContext", {}).get("http")
    if isinstance(http, dict):  # payload 2.0 and function URLs
        return str(http.get("method", "")), str(event.get("rawPath", ""))
    return str(event.get("httpMethod", "")), str(event.get("path", ""))


def _unknown(event: Any) -> dict[str, str]:
    """Answered, not raised: an asynchronous source would retry a raised error, and
    retrying an event we cannot read only repeats the failure."""
    message = (
        f"pushflow cannot handle this event ({describe(event)}): expected an API Gateway or function URL "
        "request, an EventBridge scheduled event, an SQS batch, or a direct invocation "
        f'{{"pushflow": "{" | ".join(COMMANDS)}"}}'
    )
    log.error(message)
    return {"error": message}


def _http_error(status: int, detail: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps({"detail": detail}),
        "isBase64Encoded": False,
    }


def remaining_seconds(context: Any, default: float = 60.0) -> float:
    """Time left in this invocation (the whole default when not on Lambda)."""
    get = getattr(context, "get_remaining_time_in_millis", None)
    return get() / 1000 if callable(get) else default


def database_unavailable(exc: BaseException) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(f"the database is not reachable: {str(exc).strip().splitlines()[0]}")
