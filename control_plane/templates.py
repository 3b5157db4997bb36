"""Sandboxed Jinja templates: a webhook's request → event, an automation's triggering
event → action parameters and messages.

Jinja's `SandboxedEnvironment` refuses attribute access to Python internals
(`__class__`, `__globals__`, ...), `range` is capped by the sandbox, undefined names are
errors (StrictUndefined) and output past `max_chars` stops the render. Every failure is a
TemplateError naming what went wrong, for a 400 or a recorded failed firing.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

DEFAULT_MAX_CHARS = 64 * 1024


class TemplateError(Exception):
    """A template that does not parse or render, or renders to something unusable."""


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False}
    return env


def check(source: str) -> None:
    """Raise TemplateError if `source` does not parse (said at create time, 422)."""
    from jinja2 import TemplateSyntaxError

    try:
        _environment().parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None


def render(source: str, context: dict[str, Any], *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Render `source` with `context`; at most `max_chars` characters of output."""
    from jinja2 import TemplateError as JinjaError
    from jinja2.exceptions import SecurityError

    try:
        template = _compiled(source)
        out: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > max_chars:
                raise TemplateError(f"template output passed {max_chars} characters; render less")
            out.append(chunk)
        return "".join(out)
    except TemplateError:
        raise
    except SecurityError as exc:
        raise TemplateError(f"template refused by the sandbox: {exc}") from None
    except JinjaError as exc:
        raise TemplateError(f"template error: {exc.message or type(exc).__name__}") from None
    except Exception as exc:  # a filter given the wrong type, a division by zero, ...
        raise TemplateError(f"template failed: {type(exc).__name__}: {exc}") from None


def render_json(source: str, context: dict[str, Any], *, max_chars: int = DEFAULT_MAX_CHARS) -> Any:
    """Render `source` and parse the output as JSON."""
    text = render(source, context, max_chars=max_chars)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise TemplateError(f"template output is not JSON ({exc}): {text[:200]!r}") from None


def render_values(value: Any, context: dict[str, Any], *, max_chars: int = DEFAULT_MAX_CHARS) -> Any:
    """Render every string in a JSON-like value (an action's parameters). A string that is
    exactly one `{{ expression }}` keeps the expression's type (a number stays a number)."""
    if isinstance(value, dict):
        return {k: render_values(v, context, max_chars=max_chars) for k, v in value.items()}
    if isinstance(value, list):
        return [render_values(v, context, max_chars=max_chars) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value
    stripped = value.strip()
    if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
        return render_json("{{ (" + stripped[2:-2] + ") | tojson }}", context, max_chars=max_chars)
    return render(value, context, max_chars=max_chars)


@lru_cache(maxsize=256)
def _compiled(source: str) -> Any:
    from jinja2 import TemplateSyntaxError

    try:
        return _environment().from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
