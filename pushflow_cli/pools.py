"""`pushflow pool ...`: create, list, inspect, update, pause, resume, delete and
provision push pools."""

from __future__ import annotations

import json
from typing import Any

import typer

from pushflow_cli.console import (
    OutputOption,
    api_errors,
    check_output,
    client,
    console,
    fail,
    parse_pairs,
    print_json,
    usage,
)

app = typer.Typer(help="Create, list, change and delete push pools.", no_args_is_help=True)

# The pool types a user can create today (`pool create --type`).
POOL_TYPES = "process, ecs, cloud-run, aci or managed"


@app.command("create")
def create(
    name: str,
    type: str = typer.Option(..., "--type", help=f"The pool type: {POOL_TYPES}"),
    set_: list[str] = typer.Option(None, "--set", help="Default job variable, key=value (repeatable)"),
    description: str = typer.Option(None, "--description"),
) -> None:
    """Create a pool."""
    body: dict[str, Any] = {"name": name, "type": type, "defaults": parse_pairs(set_, "--set")}
    if description:
        body["description"] = description
    with api_errors():
        pool = client().request("POST", "/pools", json=body)
    console.print(f"Created pool [bold]{pool['name']}[/bold] of type {pool['type']}")


@app.command("ls")
def list_pools(output: str = OutputOption) -> None:
    """List pools."""
    check_output(output)
    with api_errors():
        pools = client().list_pools()
    if output == "json":
        return print_json(pools)
    from rich.table import Table

    table = Table("name", "type", "paused", "limit", "defaults")
    for pool in pools:
        limit = "" if pool.get("concurrency_limit") is None else str(pool["concurrency_limit"])
        table.add_row(pool["name"], pool["type"], "yes" if pool["paused"] else "", limit, json.dumps(pool["defaults"]))
    console.print(table)


@app.command("inspect")
def inspect(name: str) -> None:
    """Show a pool, its defaults and its job template."""
    with api_errors():
        pool = client().read_pool(name)
    print_json(pool)


@app.command("update")
def update(
    name: str,
    set_: list[str] = typer.Option(None, "--set", help="Set a default job variable, key=value (repeatable)"),
    unset: list[str] = typer.Option(None, "--unset", help="Remove a default job variable (repeatable)"),
    description: str = typer.Option(None, "--description"),
    concurrency_limit: int = typer.Option(None, "--concurrency-limit", help="At most this many active runs"),
    no_limit: bool = typer.Option(False, "--no-limit", help="Lift the concurrency limit"),
) -> None:
    """Change a pool's defaults, description or concurrency limit."""
    body: dict[str, Any] = {}
    api = client()
    if set_ or unset:
        with api_errors():
            defaults = dict(api.read_pool(name)["defaults"])
        for key in unset or []:
            if defaults.pop(key, None) is None:
                raise fail(f"pool {name!r} has no default {key!r}; its defaults are: {', '.join(defaults) or 'none'}")
        body["defaults"] = {**defaults, **parse_pairs(set_, "--set")}
    if description is not None:
        body["description"] = description
    if concurrency_limit is not None and no_limit:
        raise usage("give --concurrency-limit or --no-limit, not both")
    if concurrency_limit is not None or no_limit:
        body["concurrency_limit"] = concurrency_limit
    if not body:
        raise usage("nothing to change: give --set, --unset, --description, --concurrency-limit or --no-limit")
    with api_errors():
        api.request("PATCH", f"/pools/{name}", json=body)
    console.print(f"Updated pool [bold]{name}[/bold]")


@app.command("pause")
def pause(name: str) -> None:
    """Pause a pool: its runs wait, nothing is submitted, until it is resumed."""
    with api_errors():
        client().request("PATCH", f"/pools/{name}", json={"paused": True})
    console.print(f"Pool [bold]{name}[/bold] paused")


@app.command("resume")
def resume(name: str) -> None:
    """Resume a paused pool; the runs that waited are dispatched."""
    with api_errors():
        client().request("PATCH", f"/pools/{name}", json={"paused": False})
    console.print(f"Pool [bold]{name}[/bold] resumed")


@app.command("delete")
def delete(name: str, yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation")) -> None:
    """Delete a pool that no deployment uses."""
    if not yes and not typer.confirm(f"Delete pool {name}?", err=True):
        raise typer.Exit(1)
    with api_errors():
        client().request("DELETE", f"/pools/{name}")
    console.print(f"Deleted pool [bold]{name}[/bold]")


@app.command("provision")
def provision(name: str) -> None:
    """Create the cloud side of a pool (cluster, roles, log group) where its provider
    allows, and write what was made into the pool's defaults. Safe to re-run."""
    from push_pools import registry
    from push_pools.base import Provisioning
    from push_pools.errors import PushPoolError

    api = client()
    with api_errors():
        pool = api.read_pool(name)
    kind = registry.POOL_KINDS.get(pool["type"])
    extra = kind.extra if kind else None
    try:
        adapter = registry.load(pool["type"])()
        if not isinstance(adapter, Provisioning):
            raise fail(f"pool type {pool['type']!r} has nothing to provision")
        defaults = adapter.provision(pool["defaults"], report=lambda line: console.print(f"  {line}"))
    except ImportError as exc:
        hint = f'pip install "pushflow[{extra}]"' if extra else "reinstall pushflow"
        raise fail(
            f"provisioning a {pool['type']} pool needs {exc.name or 'a package'}, which is missing: {hint}"
        ) from None
    except PushPoolError as exc:
        raise fail(f"provisioning pool {name!r} failed: {exc}") from None
    with api_errors():
        api.request("PATCH", f"/pools/{name}", json={"defaults": defaults})
    console.print(f"Pool [bold]{name}[/bold] provisioned; its defaults now name what was created")
