"""Run parameters checked against a deployment's stored JSON schema, before anything is
submitted: each problem names the parameter and what it should be."""

from __future__ import annotations

from typing import Any

from control_plane.errors import InvalidInputError


def check_parameters(schema: dict[str, Any] | None, parameters: dict[str, Any]) -> None:
    if not schema:
        return
    from jsonschema import Draft202012Validator

    problems = [_describe(err) for err in Draft202012Validator(schema).iter_errors(parameters)]
    if problems:
        raise InvalidInputError("invalid parameters: " + "; ".join(problems), problems)


def _describe(err: Any) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"parameter '{missing}' is required"
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        return f"parameter(s) {', '.join(repr(e) for e in extra)} not accepted by the flow"
    expected = err.schema.get("type") or err.validator
    return f"parameter '{path}': expected {expected}, got {err.instance!r} ({err.message})"
