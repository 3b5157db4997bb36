"""FastAPI, imported and checked the way a control plane needs.

`import_fastapi`: FastAPI (0.150) defines ~40 pydantic models when it is imported, the
OpenAPI document's schema (`fastapi.openapi.models`) and the security schemes', and
pydantic builds each one's validator and serializer there and then: ~0.1 s of
`create_app()` and ~1.4 MiB of an idle server (measured: the API benchmark's idle server
on SQLite 75.3 -> 73.9 MiB). A control plane validates them only to build its OpenAPI
document and its API-key scheme, so they are imported with pydantic's `defer_build`
(each is built the first time it validates). Only the models FastAPI defines during that
import are deferred: the flag is set on `BaseModel`'s configuration, which every model
class copies when it is defined, and taken off again when the import returns. Those
models are first used on one thread (the event loop builds the OpenAPI document, route
modules define their security schemes as they import), so pydantic 2.13's rebuild, which
is not thread-safe (pydantic#13419), never runs for one of them on two threads at once.

`skip_pydantic_v1_import`: FastAPI's check that no route uses a pydantic v1 model,
answered without importing pydantic.v1 while nothing else has.

FastAPI (0.150) checks every route's body and response types with
`fastapi._compat.shared.is_pydantic_v1_model_class`, which imports the whole of
`pydantic.v1` to compare against its `BaseModel`: ~1.5 MiB resident for the server's
life and ~30 ms of `create_app()`, in a process that has no v1 model. None can exist
while `pydantic.v1` is not imported (a v1 model's module imports it first), so until then
the answer is "no"; once anything imports it, FastAPI's own check runs, and a v1 model
is refused as before.

`cache_sequence_checks`: FastAPI's question whether a parameter's annotation is a sequence,
asked again for every parameter of every request (twice for one that was sent: a query
model's ten fields, a path's id, a body), answered once per annotation: it is a pure
function of the annotation, a walk of `typing.get_origin`/`get_args` and `issubclass`
calls (GET /api/flow-runs: ~20 of them a request).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

V1 = "pydantic.v1"
_WRAPPED = "_pushflow_wrapped"  # on a FastAPI function we replaced: never wrapped twice


def import_fastapi() -> None:
    """Import FastAPI with the models it defines deferred (above); nothing if it is
    imported already (its models were built then)."""
    if "fastapi" in sys.modules:
        return
    from pydantic import BaseModel

    config = BaseModel.model_config
    config["defer_build"] = True
    try:
        import fastapi  # noqa: F401
        import fastapi.openapi.models  # noqa: F401 - FastAPI imports it itself; said here
    finally:
        del config["defer_build"]


def skip_pydantic_v1_import() -> None:
    """Wrap FastAPI's v1 checks so they import nothing while `pydantic.v1` is not loaded
    (idempotent; a FastAPI without these checks is left alone)."""
    try:
        from fastapi import encoders
        from fastapi._compat import shared
    except ImportError:
        return
    for module, name in (
        (shared, "is_pydantic_v1_model_class"),  # what annotation_is_pydantic_v1 calls
        (shared, "is_pydantic_v1_model_instance"),
        (encoders, "is_pydantic_v1_model_instance"),  # bound by name at import
    ):
        _wrap(module, name, _unless_v1_unloaded)


def _wrap(module: Any, name: str, wrapper: Callable[[Callable[[Any], bool]], Callable[[Any], bool]]) -> None:
    """Replace `module.name` by `wrapper` of it, once; nothing if this FastAPI has no such function."""
    check = getattr(module, name, None)
    if callable(check) and not hasattr(check, _WRAPPED):
        checked = wrapper(check)
        setattr(checked, _WRAPPED, True)
        checked.__doc__ = check.__doc__
        setattr(module, name, checked)


def _unless_v1_unloaded(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def checked(obj: Any) -> bool:
        return V1 in sys.modules and check(obj)

    return checked


def cache_sequence_checks() -> None:
    """Make FastAPI's per-request `field_annotation_is_sequence` (as the request parsing
    in `fastapi.dependencies.utils` calls it) remember its answer per annotation
    (idempotent; a FastAPI without it is left alone)."""
    try:
        from fastapi.dependencies import utils
    except ImportError:
        return
    _wrap(utils, "field_annotation_is_sequence", _per_annotation)


def _per_annotation(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    # By id, the annotation kept with its answer (so its id is never reused): hashing a
    # `list[X] | None` costs about what the check does, and a few annotations are not
    # hashable at all. Routes have a bounded set of annotations, all made at start-up.
    answers: dict[int, tuple[Any, bool]] = {}

    def checked(annotation: Any) -> bool:
        known = answers.get(id(annotation))
        if known is None or known[0] is not annotation:
            known = answers[id(annotation)] = (annotation, check(annotation))
        return known[1]

    return checked
