"""Routes whose body is a runtime's batch (task runs, log lines) validate it straight from
its bytes.

FastAPI parses a JSON body with `json.loads` and then validates the Python objects. For
a batch of hundreds of records, the two passes were most of the event loop's share of the
request (callgrind, a batch of 500 task runs: the parse a quarter, validation three
fifths). pydantic-core's `validate_json` does both in one pass in Rust.

`JsonBatchRoute` hands FastAPI a request whose `json()` returns the records already
validated: FastAPI's own validation of the body then passes model instances through (an
instance check each), so the OpenAPI document, dependencies and the endpoint are the same
as for any route. A route may name a faster twin of its body (`JsonBatchRoute.of`): a
subclass of the documented model whose fields pydantic-core checks without calling
Python (columns.StrictCount and its kin), tried first. It takes a subset of what the
documented model takes and gives the same values, so a batch it refuses is simply
validated as the documented model. When `validate_json` refuses the body, `json()`
returns plain `json.loads` instead and FastAPI validates it as always: a bad batch gets
exactly the 422 (or the JSON error) it got before, with the same locations and messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError


class _ValidatedJsonRequest(Request):
    adapters: tuple[TypeAdapter[Any], ...]

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            for adapter in self.adapters:
                try:
                    self._json = adapter.validate_json(body)
                    break
                except ValidationError:
                    continue
            else:
                self._json = json.loads(body)  # FastAPI validates it and says what is wrong
        return self._json


class JsonBatchRoute(APIRoute):
    """An APIRoute whose JSON body is validated from its bytes (see the module's doc)."""

    twin: Any = None  # the body's faster twin, e.g. list[TaskRunReportFromRuntime]

    @classmethod
    def of(cls, twin: Any) -> type[JsonBatchRoute]:
        """A JsonBatchRoute that tries `twin` (a list of a subclass of the body's model)
        before the body's own type."""
        return type(cls.__name__, (cls,), {"twin": twin})

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        assert self.body_field is not None, "JsonBatchRoute is for routes that take a JSON body"
        body: Any = self.body_field.field_info.annotation
        types = (body,) if self.twin is None else (self.twin, body)
        adapters: tuple[TypeAdapter[Any], ...] = ()

        async def validated(request: Request) -> Response:
            nonlocal adapters
            if not adapters:  # built on the route's first request, as the twin's model is
                adapters = tuple(TypeAdapter(t) for t in types)
            wrapped = _ValidatedJsonRequest(request.scope, request.receive, request._send)
            wrapped.adapters = adapters
            return await handler(wrapped)

        return validated
