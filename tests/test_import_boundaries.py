"""The dependency rules of docs/architecture, checked in a fresh interpreter per package:
importing it must not load what it may not depend on (a container's runtime stays light;
the API and the Lambda handler load no cloud SDK until a pool of that kind is used)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# httpx and what it loads: its client and httpcore's async backends were most of a run's imports.
HTTPX = ["httpx", "httpcore", "h11", "anyio", "trio"]

RULES = {
    "runtime": ["control_plane", "push_pools", "pydantic", "httpx"],
    "pushflow": ["control_plane", "push_pools", "pydantic", "httpx"],
    "push_pools": ["control_plane", "runtime"],
    # `pushflow execute` starts every run: no CLI libraries, and no httpx (runtime/transport.py).
    "runtime.execute": ["control_plane", "push_pools", "pydantic", "click", "rich", "pygments", "typer", *HTTPX],
    # Importing the factory does no work: create_app loads the web stack (see BUILT).
    "control_plane.app": ["fastapi", "starlette", "sqlalchemy", "sqlmodel", "pydantic", "alembic"],
    # A cold start imports the handler alone; each event kind loads what it needs (see
    # tests/aws_lambda/test_cold_start.py: a tick never loads FastAPI or Mangum).
    "control_plane.aws_lambda": [
        "google",
        "azure",
        "boto3",
        "botocore",
        "fastapi",
        "starlette",
        "mangum",
        "sqlalchemy",
        "sqlmodel",
        "pydantic",
        "pydantic_settings",
        "aws_lambda_powertools",
    ],
    # Settings are read by every entry point; pydantic-settings costs more than the rest.
    "control_plane.settings": ["pydantic_settings", "sqlalchemy", "fastapi"],
}


# What building the app loads (statement -> forbidden top-level packages).
BUILT = {
    # jinja2 loads with the first UI page (control_plane/ui/render.py), not with the API;
    # pydantic.v1 not at all (control_plane/fastapi_compat.py).
    "from control_plane.app import create_app; create_app()": [
        "boto3",
        "botocore",
        "google",
        "azure",
        "jinja2",
        "pydantic.v1",
    ],
}


def loaded_by(module: str) -> set[str]:
    return loaded_after(f"import {module}")


def loaded_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(("module", "forbidden"), RULES.items(), ids=list(RULES))
def test_importing_a_package_loads_nothing_it_may_not_depend_on(module: str, forbidden: list[str]) -> None:
    loaded = loaded_by(module)
    offending = sorted(m for m in loaded if m.split(".")[0] in forbidden)
    assert offending == [], f"`import {module}` loads {offending}"


@pytest.mark.parametrize(("statement", "forbidden"), BUILT.items(), ids=list(BUILT))
def test_building_the_app_loads_nothing_it_may_not_depend_on(statement: str, forbidden: list[str]) -> None:
    loaded = loaded_after(statement)
    offending = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))
    assert offending == [], f"`{statement}` loads {offending}"
