"""`pushflow automation ...`: create (from a YAML or JSON file), list, inspect, pause,
resume and delete automations, and show their firings. See docs/concepts/automations.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pushflow_cli.console import OutputOption, api_errors, check_output, client, console, fail, print_json

app = typer.Typer(help="Create, list, pause, resume and delete automations.", no_args_is_help=True)


def read_spec(path: Path) -> dict[str, Any]:
    """An automation file: YAML (or JSON) with name, trigger and actions."""
    import yaml

    if not path.is_file():
        raise fail(f"{path} not found; write an automation file (see docs/concepts/automations.md)")
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise fail(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(spec, dict) or not {"name", "trigger", "actions"} <= spec.keys():
        raise fail(f"{path}: expected a mapping with name, trigger and actions")
    return spec


@app.command("create")
def create(file: Path = typer.Option(..., "--file", "-f", help="automation.yaml: name, trigger, actions")) -> None:
    """Create an automation from a file."""
    spec = read_spec(file)
    with api_errors():
        automation = client().request("POST", "/automations", json=spec)
    console.print(f"Created automation [bold]{automation['name']}[/bold] (id {automation['id']})")


@app.command("ls")
def list_automations(output: str = OutputOption) -> None:
    """List automations."""
    check_output(output)
    with api_errors():
        automations = client().request("GET", "/automations")
    if output == "json":
        return print_json(automations)
    from rich.table import Table

    table = Table("name", "enabled", "trigger", "actions")
    for a in automations:
        trigger = a["trigger"]
        what = ", ".join(trigger.get("expect") or []) or trigger.get("type", "event")
        table.add_row(a["name"], "yes" if a["enabled"] else "paused", what, ", ".join(x["type"] for x in a["actions"]))
    console.print(table)


@app.command("inspect")
def inspect(name: str) -> None:
    """Show an automation."""
    with api_errors():
        print_json(client().request("GET", f"/automations/{name}"))


@app.command("firings")
def firings(name: str, output: str = OutputOption, limit: int = typer.Option(20, "--limit")) -> None:
    """Show an automation's latest firings and how each action went."""
    check_output(output)
    with api_errors():
        found = client().request("GET", f"/automations/{name}/firings", params={"limit": limit})
    if output == "json":
        return print_json(found)
    for f in found:
        console.print(f"{f['fired']}  {f['reason']}")
        for a in f["actions"]:
            console.print(
                f"    {a['type']}: {a['status']} ({a['attempts']} attempt(s)) {a['error'] or a['result'] or ''}"
            )


def _set(name: str, verb: str) -> None:
    with api_errors():
        client().request("POST", f"/automations/{name}/{verb}")
    console.print(f"Automation [bold]{name}[/bold] {verb}d")


@app.command("pause")
def pause(name: str) -> None:
    """Pause an automation (it stops evaluating events)."""
    _set(name, "pause")


@app.command("resume")
def resume(name: str) -> None:
    """Resume an automation (from events that arrive from now on)."""
    _set(name, "resume")


@app.command("delete")
def delete(name: str) -> None:
    """Delete an automation and its firings."""
    with api_errors():
        client().request("DELETE", f"/automations/{name}")
    console.print(f"Deleted automation [bold]{name}[/bold]")
