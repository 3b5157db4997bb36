"""Size and count limits on what clients send, each a setting (docs/settings.md) answered
with 413 or 429 and a sentence naming the setting.

- `RequestBodyLimit`: an ASGI middleware refusing bodies over `max_request_bytes` before
  any route reads them (a declared Content-Length at once; a chunked body once it passes
  the limit), so a large body costs at most the limit in memory. Plain ASGI: it works the
  same under uvicorn and under mangum on Lambda. Bundle uploads have their own limit.
- log batches (lines per batch; over-long lines are cut, and say so), parameters, and
  children per run: checked by the routes through the functions below.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control_plane.errors import PayloadTooLargeError, TooManyRequestsError
from control_plane.models import FlowRun, LogCreate

# Routes with a limit of their own (PUSHFLOW_BUNDLE_MAX_BYTES).
_OWN_LIMIT_PREFIXES = ("/api/bundles/",)


class RequestBodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_OWN_LIMIT_PREFIXES):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        # Read the body here, up to the limit, and hand it on: a route never starts on
        # a body that turns out too large halfway.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        detail = (
            f"the request body is larger than {self.max_bytes} bytes (PUSHFLOW_MAX_REQUEST_BYTES); "
            "send less per request"
        )
        payload = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def check_log_batch(logs: list[LogCreate], max_lines: int, max_line_bytes: int) -> None:
    """Refuse a batch of more than `max_lines`; cut each line longer than `max_line_bytes`
    (UTF-8), saying how much was cut, so one huge print never costs the whole batch."""
    if len(logs) > max_lines:
        raise PayloadTooLargeError(
            f"a log batch holds at most {max_lines} lines (PUSHFLOW_LOG_BATCH_MAX_LINES), got {len(logs)}; "
            "send them in smaller batches"
        )
    for log in logs:
        encoded = log.message.encode()
        if len(encoded) > max_line_bytes:
            kept = encoded[:max_line_bytes].decode(errors="ignore")
            log.message = f"{kept}… [cut {len(encoded) - len(kept.encode())} bytes: PUSHFLOW_LOG_LINE_MAX_BYTES]"


def check_parameters(parameters: dict[str, Any], max_bytes: int) -> None:
    size = len(json.dumps(parameters, separators=(",", ":"), default=str).encode())
    if size > max_bytes:
        raise PayloadTooLargeError(
            f"parameters are {size} bytes of JSON, more than {max_bytes} (PUSHFLOW_MAX_PARAMETERS_BYTES); "
            "pass large data by reference (a path, a URL, a block) instead"
        )


def check_children(session: Session, parent_id: str, max_children: int) -> None:
    count = session.exec(
        select(func.count()).select_from(FlowRun).where(col(FlowRun.parent_flow_run_id) == parent_id)
    ).one()
    if count >= max_children:
        raise TooManyRequestsError(
            f"run {parent_id} already has {count} child runs, the most one run may start "
            "(PUSHFLOW_MAX_CHILDREN_PER_RUN); start fewer subflows, or map over tasks instead"
        )
