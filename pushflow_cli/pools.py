from __future__ import annotations

import json

import typer
from rich.table import Table

from pushflow_cli.console import api_errors, client, console, fail, parse_pairs

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


@app.command("provision")
def provision(name: str) -> None:
    """Create the cloud side of a pool (cluster, roles, log group) where its provider
    allows, and write what was made into the pool's defaults. Safe to re-run."""
    from push_pools import registry
    from push_pools.errors import PushPoolError

    api = client()
    with api_errors():
        pool = api.read_pool(name)
    try:
        provisioner = getattr(registry.load(pool["type"]), "provision", None)
        if provisioner is None:
            raise fail(f"pool type {pool['type']!r} has nothing to provision")
        defaults = provisioner(pool["defaults"], report=lambda line: console.print(f"  {line}"))
    except PushPoolError as exc:
        raise fail(f"provisioning pool {name!r} failed: {exc}") from None
    with api_errors():
        api.request("PATCH", f"/pools/{name}", json={"defaults": defaults})
    console.print(f"Pool [bold]{name}[/bold] provisioned; its defaults now name what was created")
