"""Output, errors and `key=value` parsing shared by the commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

# Piped output is read by programs: render wide instead of truncating to 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line to stderr and return the exit to raise."""
    err_console.print(f"[red]Error:[/red] {message}", soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def api_errors() -> Iterator[None]:
    from runtime.errors import PushflowError

    try:
        yield
    except PushflowError as exc:
        raise fail(str(exc)) from None


def parse_pairs(pairs: list[str] | None, option: str) -> dict[str, Any]:
    """`k=v` options; values are JSON where they parse (n=3 is 3), else strings."""
    result: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise fail(f"{option} expects key=value, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        _assign(result, key.strip(), value)
    return result


def _assign(target: dict[str, Any], dotted: str, value: Any) -> None:
    # env.FOO=bar sets target["env"]["FOO"]
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def client() -> Any:
    from runtime.client import PushflowClient

    return PushflowClient()


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
