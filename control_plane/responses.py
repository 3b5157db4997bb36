"""JSON answers serialised from the model a route already built.

A route annotated `-> SomeModel` makes FastAPI validate what it returns against that model
again and then serialise it, and for a plain `def` route the validation runs on a worker
thread of its own: a second thread hop per request, for a value that is already an
instance of the model. The busiest routes instead declare the model in the decorator
(`response_model=`, so the OpenAPI document is unchanged) and return `model_json(...)`:
the same bytes, serialised once, in the route's own thread.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def model_json(model: BaseModel, status_code: int = 200) -> Response:
    """`model` as FastAPI would answer it (by alias, unset and None fields included)."""
    body = type(model).__pydantic_serializer__.to_json(model, by_alias=True)
    return Response(body, status_code=status_code, media_type="application/json")
