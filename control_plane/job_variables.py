"""Job variables checked against a pool type's `Job` model, with problems a person can act
on: an unknown variable names the one that was probably meant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from control_plane.errors import InvalidInputError
from push_pools.base import JobVariables, parse_job
from push_pools.errors import JobConfigError


def check_job(job_cls: type[JobVariables], *layers: Mapping[str, Any]) -> None:
    """Merge pool defaults < deployment < run job variables and validate the result."""
    try:
        parse_job(job_cls, *layers)
    except JobConfigError as exc:
        problems = [describe(job_cls, e["variable"], e["message"]) for e in exc.errors]
        raise InvalidInputError("invalid job variables: " + "; ".join(problems), problems) from None


def check_defaults(job_cls: type[BaseModel], defaults: Mapping[str, Any]) -> None:
    """Pool defaults may leave out required variables (a deployment or run gives them),
    but what they do set must be valid."""
    try:
        job_cls.model_validate(defaults)
    except ValidationError as exc:
        problems = [
            describe(job_cls, ".".join(str(p) for p in e["loc"]), e["msg"])
            for e in exc.errors()
            if e["type"] != "missing"
        ]
        if problems:
            raise InvalidInputError("invalid pool defaults: " + "; ".join(problems), problems) from None


def describe(job_cls: type[BaseModel], variable: str, message: str) -> str:
    name = variable.split(".")[0]
    known = sorted(job_cls.model_fields)
    if name and name not in known:
        import difflib  # only for this message: the server never loads it otherwise (~0.15 MiB)

        close = difflib.get_close_matches(name, known, n=1)
        if close:
            return f"unknown job variable `{name}`; did you mean `{close[0]}`?"
        return f"unknown job variable `{name}`; this pool type takes: {', '.join(known)}"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"`{variable}`: {message}"
