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
        raise ParameterError("invalid parameters: " + "; ".join(e["message"] for e in errors), errors) from None
    values = {name: getattr(instance, name) for name in model.model_fields}
    values.update(instance.model_extra or {})
    return values


def _describe(err: Any) -> dict[str, Any]:
    loc = ".".join(str(p) for p in err["loc"]) or "parameters"
    if err["type"] == "missing":
        message = f"parameter '{loc}' is required"
    elif err["type"] == "extra_forbidden":
        message = f"parameter '{loc}' is not accepted by the flow"
    else:
        message = f"parameter '{loc}': {err['msg']} (got {err.get('input')!r})"
    return {"parameter": loc, "message": message, "type": err["type"]}
