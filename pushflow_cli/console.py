"""Output, errors and `key=value` parsing shared by the commands.

Exit codes: 0 the command did what was asked; 1 the thing failed (the API refused, the
run failed, the server is unreachable); 2 the command was used wrongly (a missing or
malformed argument). Every error is one line on stderr: what was wrong, what to do.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

# Piped output is read by programs: render wide instead of truncating to 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 400)

FAILED = 1
USAGE = 2

OutputOption = typer.Option("table", "--output", "-o", help="table, or json for scripts")


def fail(message: str, code: int = FAILED) -> typer.Exit:
    """Print one line to stderr and return the exit to raise."""
    from rich.markup import escape

    err_console.print(f"[red]Error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def usage(message: str) -> typer.Exit:
    return fail(message, USAGE)


@contextmanager
def api_errors() -> Iterator[None]:
    from runtime.errors import APIError, PushflowError

    try:
        yield
    except APIError as exc:
        raise fail(explain_api_error(exc)) from None
    except PushflowError as exc:
        raise fail(str(exc)) from None


def explain_api_error(exc: Any) -> str:
    message = str(exc)
    prefix = f"{exc.status_code}: "
    if exc.status_code and message.startswith(prefix):
        message = message[len(prefix) :]
    if exc.status_code == 401:
        from runtime import config

        return f"the API at {config.api_url()} refused the key ({message}): {key_source()}"
    return message


def key_source() -> str:
    """Where the CLI found its API key, and how to give it another."""
    from runtime import config

    if os.environ.get("PUSHFLOW_API_KEY"):
        return "the key came from $PUSHFLOW_API_KEY; set it to the server's key"
    path = config.api_key_file()
    if path.exists():
        return f"the key came from {path}; set PUSHFLOW_API_KEY, or PUSHFLOW_HOME to the server's home"
    return f"no key was sent (no $PUSHFLOW_API_KEY, no {path}); set PUSHFLOW_API_KEY to the server's key"


def parse_pairs(pairs: list[str] | None, option: str) -> dict[str, Any]:
    """`k=v` options; values are JSON where they parse (n=3 is 3), else strings."""
    result: dict[str, Any] = {}
    for key, raw in split_pairs(pairs, option):
        _assign(result, key, _json_or_text(raw))
    return result


def split_pairs(pairs: list[str] | None, option: str) -> list[tuple[str, str]]:
    out = []
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise usage(f"{option} expects key=value, got {pair!r}")
        out.append((key.strip(), raw))
    return out


def parse_parameters(pairs: list[str] | None, schema: dict[str, Any] | None) -> dict[str, Any]:
    """`--param k=v` read by the flow's parameter schema: for a `str` parameter the text
    is taken as it is (name=123 is "123"); otherwise as JSON where it parses."""
    properties = (schema or {}).get("properties", {})
    result: dict[str, Any] = {}
    for key, raw in split_pairs(pairs, "--param"):
        result[key] = _coerce(raw, _json_types(properties.get(key, {})))
    return result


def _json_types(prop: dict[str, Any]) -> set[str]:
    types: set[str] = set()
    kind = prop.get("type")
    if isinstance(kind, str):
        types.add(kind)
    elif isinstance(kind, list):
        types.update(kind)
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        types |= _json_types(option)
    return types


_PY_TO_JSON = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def _coerce(raw: str, types: set[str]) -> Any:
    value = _json_or_text(raw)
    if not types or "string" not in types:
        return value
    kind = _PY_TO_JSON.get(type(value), "null")
    if kind == "string" or kind in types or (kind == "integer" and "number" in types):
        return value
    return raw  # a str parameter: 123 means "123", true means "true"


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _assign(target: dict[str, Any], dotted: str, value: Any) -> None:
    # env.FOO=bar sets target["env"]["FOO"]
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def client() -> Any:
    from runtime.client import PushflowClient

    return PushflowClient()


def print_json(data: Any) -> None:
    """JSON for programs: plain, on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def check_output(output: str) -> None:
    if output not in ("table", "json"):
        raise usage(f"--output must be table or json, got {output!r}")


STATE_COLOURS = {
    "SCHEDULED": "yellow",
    "PENDING": "bright_black",
    "RUNNING": "blue",
    "COMPLETED": "green",
    "FAILED": "red",
    "CRASHED": "bright_red",
    "CANCELLING": "magenta",
    "CANCELLED": "magenta",
    "PAUSED": "yellow",
}


def state_text(state: dict[str, Any]) -> str:
    colour = STATE_COLOURS.get(state["type"], "white")
    name = state.get("name") or state["type"]
    label = state["type"] if name.upper() == state["type"] else f"{state['type']} ({name})"
    return f"[{colour}]{label}[/{colour}]"


def when(value: str | None) -> str:
    """An API timestamp as local wall-clock time, to the second."""
    if not value:
        return ""
    from datetime import datetime

    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M:%S")
