"""FastAPI's pydantic v1 check, answered without pydantic.v1 while nothing loaded it
(control_plane/fastapi_compat.py): once a v1 model can exist, it is refused as before.

No `from __future__ import annotations`: FastAPI must see the local class, not its name."""

import warnings

import pytest
from fastapi import FastAPI
from fastapi.exceptions import PydanticV1NotSupportedError

from control_plane.fastapi_compat import skip_pydantic_v1_import


def test_a_v1_model_is_still_refused() -> None:
    skip_pydantic_v1_import()
    skip_pydantic_v1_import()  # idempotent: wrapped once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic.v1 warns on Python 3.14
        from pydantic import v1

    class Pool(v1.BaseModel):
        name: str

    app = FastAPI()
    with pytest.raises(PydanticV1NotSupportedError):

        @app.post("/pools")
        def create(pool: Pool) -> None:
            return None
