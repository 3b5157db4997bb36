"""Flow parameters: a JSON schema from the signature, and validation against it.

pydantic is imported here, lazily, so `import runtime` stays cheap.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from runtime.errors import ParameterError

_models: dict[Callable[..., Any], Any] = {}


def _model_for(fn: Callable[..., Any]) -> Any:
    model = _models.get(fn)
    if model is None:
        from pydantic import ConfigDict, create_model

        try:
            hints = typing.get_type_hints(fn)
        except Exception:  # unresolved forward references: validate what we can
            hints = {}
        fields: dict[str, Any] = {}
        extra = "forbid"
        for name, param in inspect.signature(fn).parameters.items():
            if param.kind is param.VAR_KEYWORD:
                extra = "allow"
                continue
            if param.kind is param.VAR_POSITIONAL:
                continue
            default = ... if param.default is param.empty else param.default
            fields[name] = (hints.get(name, Any), default)
        config = ConfigDict(arbitrary_types_allowed=True, extra=extra)  # type: ignore[typeddict-item]
        model = create_model(f"{fn.__name__}_parameters", __config__=config, **fields)
        _models[fn] = model
    return model


def schema_for(fn: Callable[..., Any]) -> dict[str, Any]:
    """The JSON schema of a flow's parameters (what the control plane validates runs with)."""
    model = _model_for(fn)
    try:
        schema: dict[str, Any] = model.model_json_schema()
    except Exception:  # a type with no JSON form: accept anything for it
        schema = {"type": "object", "properties": {n: {} for n in model.model_fields}}
    schema.pop("title", None)
    return schema


def validate(fn: Callable[..., Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Coerce and check `parameters` against `fn`'s signature; raise ParameterError
    naming each bad parameter and the type it expects."""
    if not parameters and not inspect.signature(fn).parameters:
        return {}  # nothing to check: spare the run pydantic's import
    from pydantic import ValidationError

    model = _model_for(fn)
    try:
        instance = model.model_validate(parameters)
    except ValidationError as exc:
        errors = [_describe(err) for err in exc.errors()]
        extra = [e["parameter"] for e in errors if e["type"] == "extra_forbidden"]
        messages = [e["message"] for e in errors if e["type"] != "extra_forbidden"]
        if extra:  # worded as the control plane words them, so a 422 and a call agree
            messages.append(f"parameter(s) {', '.join(repr(e) for e in extra)} not accepted by the flow")
        raise ParameterError("invalid parameters: " + "; ".join(messages), errors) from None
    values = {name: getattr(instance, name) for name in model.model_fields}
    values.update(instance.model_extra or {})
    return values


# pydantic's error types, as the JSON schema type the control plane names in a 422.
_JSON_TYPES = {
    "int": "integer",
    "float": "number",
    "string": "string",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
    "set": "array",
    "dict": "object",
    "model": "object",
}


def _describe(err: Any) -> dict[str, Any]:
    loc = ".".join(str(p) for p in err["loc"]) or "parameters"
    kind = err["type"]
    if kind == "missing":
        message = f"parameter '{loc}' is required"
    elif kind == "extra_forbidden":
        message = f"parameter '{loc}' is not accepted by the flow"
    else:
        expected = _JSON_TYPES.get(kind.split("_")[0])
        got = err.get("input")
        if expected is not None:
            message = f"parameter '{loc}': expected {expected}, got {got!r} ({got!r} is not of type '{expected}')"
        else:
            message = f"parameter '{loc}': {err['msg']} (got {got!r})"
    return {"parameter": loc, "message": message, "type": kind}
