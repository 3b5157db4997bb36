from __future__ import annotations

import json

import typer
from rich.table import Table

from pushflow_cli.console import api_errors, client, console, parse_pairs

app = typer.Typer(help="Create and inspect push pools.", no_args_is_help=True)


@app.command("create")
def create(
    name: str,
    type: str = typer.Option(..., "--type", help="process, ecs, cloud-run, aci or managed"),
    set_: list[str] = typer.Option(None, "--set", help="Default job variable, key=value (repeatable)"),
) -> None:
    """Create a pool."""
    defaults = parse_pairs(set_, "--set")
    with api_errors():
        pool = client().create_pool(name, type, defaults)
    console.print(f"Created pool [bold]{pool['name']}[/bold] of type {pool['type']}")


@app.command("ls")
def list_pools() -> None:
    """List pools."""
    with api_errors():
        pools = client().list_pools()
    table = Table("name", "type", "paused", "defaults")
    for pool in pools:
        table.add_row(pool["name"], pool["type"], str(pool["paused"]), json.dumps(pool["defaults"]))
    console.print(table)


@app.command("inspect")
def inspect(name: str) -> None:
    """Show a pool, its defaults and its job template."""
    with api_errors():
        pool = client().read_pool(name)
    console.print_json(data=pool)
