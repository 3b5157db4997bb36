"""The deployment's Run form, generated from its parameter schema: one field per
parameter with its type, default and whether it is required; and the way back, from the
posted form to typed parameters, naming each field that does not parse."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

PREFIX = "param."


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | integer | number | boolean | choice | json
    required: bool
    value: str  # what the input shows
    choices: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (value, label)
    description: str = ""
    nullable: bool = False

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def input_id(self) -> str:
        return "p-" + "".join(c if c.isalnum() else "-" for c in self.name)


def _type_of(spec: dict[str, Any]) -> tuple[str | None, bool]:
    """The JSON type of a property, and whether null is also allowed (Optional[T])."""
    if "anyOf" in spec:
        types = [s.get("type") for s in spec["anyOf"]]
        others = [t for t in types if t != "null"]
        if len(others) == 1 and isinstance(others[0], str):
            return others[0], "null" in types
        return None, "null" in types
    kind = spec.get("type")
    return (kind if isinstance(kind, str) else None), False


def fields_for(schema: dict[str, Any] | None, defaults: dict[str, Any]) -> list[Field]:
    if not schema:
        return []
    required = set(schema.get("required", []))
    fields = []
    for name, spec in (schema.get("properties") or {}).items():
        json_type, nullable = _type_of(spec)
        default = defaults.get(name, spec.get("default"))
        kind, choices = _kind(spec, json_type)
        fields.append(
            Field(
                name=name,
                label=spec.get("title") or name,
                kind=kind,
                required=name in required,
                value=_shown(kind, default),
                choices=choices,
                description=spec.get("description", ""),
                nullable=nullable,
            )
        )
    return fields


def _kind(spec: dict[str, Any], json_type: str | None) -> tuple[str, list[tuple[str, str]]]:
    if "enum" in spec:
        return "choice", [(json.dumps(v), str(v)) for v in spec["enum"]]
    if json_type in ("string", "integer", "number", "boolean"):
        return ("text" if json_type == "string" else json_type), []
    return "json", []


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "choice":
        return json.dumps(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "json":
        return json.dumps(value)
    return str(value)


def parse_form(fields: list[Field], form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(parameters, errors by field name). Empty optional fields are left out, so the
    deployment's default applies."""
    parameters: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        raw = form.get(field.input_name, "").strip()
        if raw == "":
            if field.required:
                errors[field.name] = f"{field.label} is required."
            continue
        try:
            parameters[field.name] = _parse(field.kind, raw)
        except ValueError as exc:
            errors[field.name] = f"{field.label}: {exc}"
    return parameters, errors


def _parse(kind: str, raw: str) -> Any:
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a whole number") from None
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError("choose true or false")
        return raw == "true"
    if kind in ("choice", "json"):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    return raw
