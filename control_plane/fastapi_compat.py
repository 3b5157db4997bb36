"""FastAPI's check that no route uses a pydantic v1 model, answered without importing
pydantic.v1 while nothing else has.

FastAPI (0.150) checks every route's body and response types with
`fastapi._compat.shared.is_pydantic_v1_model_class`, which imports the whole of
`pydantic.v1` to compare against its `BaseModel`: ~1.5 MiB resident for the server's
life and ~30 ms of `create_app()`, in a process that has no v1 model. None can exist
while `pydantic.v1` is not imported (a v1 model's module imports it first), so until then
the answer is "no"; once anything imports it, FastAPI's own check runs, and a v1 model
is refused as before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

V1 = "pydantic.v1"
_WRAPPED = "_pushflow_unless_v1_unloaded"


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
        check = getattr(module, name, None)
        if callable(check) and not hasattr(check, _WRAPPED):
            setattr(module, name, _unless_v1_unloaded(check))


def _unless_v1_unloaded(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def checked(obj: Any) -> bool:
        return V1 in sys.modules and check(obj)

    setattr(checked, _WRAPPED, True)
    checked.__doc__ = check.__doc__
    return checked
