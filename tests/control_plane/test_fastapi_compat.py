"""FastAPI's pydantic v1 check, answered without pydantic.v1 while nothing loaded it
(control_plane/fastapi_compat.py): once a v1 model can exist, it is refused as before.

No `from __future__ import annotations`: FastAPI must see the local class, not its name."""

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Query
from fastapi.exceptions import PydanticV1NotSupportedError

from control_plane.fastapi_compat import skip_pydantic_v1_import
from tests.conftest import ADMIN_KEY


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


DEFERRED_SCRIPT = """
import json, sys
from pathlib import Path
import pydantic
if sys.argv[3] == "eager":
    import fastapi  # its models built at import, as before import_fastapi
from control_plane.local import create_local_app, prepare_local  # what `pushflow server start` loads first
from control_plane.settings import Settings
if sys.argv[3] == "deferred":
    assert "fastapi" not in sys.modules, "imported before create_app: its models would be built"
settings = Settings(home=Path(sys.argv[1]), api_key=sys.argv[2], run_loops=False, dispatch_on_trigger=False)
app = create_local_app(settings)
from fastapi.openapi import models
from fastapi.testclient import TestClient

class Later(pydantic.BaseModel):
    x: int

out = {
    "openapi_model_built_by_create_app": models.OpenAPI.__pydantic_complete__,
    "base_config_after": dict(pydantic.BaseModel.model_config),
    "later_model_built": Later.__pydantic_complete__,
}
with TestClient(app) as client:
    response = client.get("/api/openapi.json")
    out["status"] = response.status_code
    out["document"] = response.json()
out["openapi_model_built_after_the_document"] = models.OpenAPI.__pydantic_complete__
print(json.dumps(out))
"""


def test_fastapi_models_are_built_on_first_use_and_the_document_is_unchanged(tmp_path: Path) -> None:
    """create_app imports FastAPI with its own models deferred (import_fastapi): a fresh
    process has not built them after create_app, serves the same OpenAPI document as a
    process that built them at import, and models defined later are built as usual."""

    def serve(mode: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-c", DEFERRED_SCRIPT, str(tmp_path / mode), ADMIN_KEY, mode],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    fresh, eager = serve("deferred"), serve("eager")
    assert fresh["openapi_model_built_by_create_app"] is False
    assert fresh["base_config_after"] == {}  # the flag is off again: nothing else is deferred
    assert fresh["later_model_built"] is True
    assert fresh["status"] == 200
    assert fresh["openapi_model_built_after_the_document"] is True
    assert eager["openapi_model_built_by_create_app"] is True  # the comparison below is with what it was
    assert fresh["document"] == eager["document"]


def test_sequence_checks_answer_as_fastapis_own_once_per_annotation() -> None:
    from typing import Optional

    from fastapi._compat import field_annotation_is_sequence as uncached
    from fastapi.dependencies import utils

    from control_plane.fastapi_compat import cache_sequence_checks

    cache_sequence_checks()
    cache_sequence_checks()  # idempotent: wrapped once
    cached = utils.field_annotation_is_sequence
    assert cached is not uncached
    annotations = [
        str, int, bytes, list[int], list[str] | None, Optional[list[int]], set[str], tuple[int, ...],  # noqa: UP045
        dict[str, int], Annotated[list[str], Query()], Annotated[str, "x"], None, str | int, list,
    ]  # fmt: skip
    for annotation in annotations * 2:  # the second time from the cache
        assert cached(annotation) == uncached(annotation), annotation


def test_repeated_query_parameters_still_arrive_as_a_list() -> None:
    from fastapi.testclient import TestClient

    from control_plane.fastapi_compat import cache_sequence_checks

    cache_sequence_checks()
    app = FastAPI()

    @app.get("/items")
    def items(tag: Annotated[list[str] | None, Query()] = None, n: int = 0) -> dict:
        return {"tag": tag, "n": n}

    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/items?tag=a&tag=b&n=3").json() == {"tag": ["a", "b"], "n": 3}
            assert client.get("/items").json() == {"tag": None, "n": 0}
