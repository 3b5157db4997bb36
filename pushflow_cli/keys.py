"""`pushflow key ...`: create scoped API keys (the key is printed once), list and revoke
them. Needs an admin key."""

from __future__ import annotations

import re

import typer

from pushflow_cli.console import OutputOption, api_errors, check_output, client, console, print_json, usage, when

app = typer.Typer(help="Create, list and revoke scoped API keys.", no_args_is_help=True)

SCOPES = ("read", "run", "deploy", "admin")


def parse_expires(text: str) -> int:
    """`30d` (or `30`) -> 30 days."""
    match = re.fullmatch(r"(\d+)d?", text.strip())
    if not match or int(match.group(1)) < 1:
        raise usage(f"--expires {text!r}: give a number of days, e.g. 30d")
    return int(match.group(1))


@app.command("create")
def create(
    name: str,
    scope: str = typer.Option(..., "--scope", help="read, run, deploy or admin (each can do what the one before can)"),
    expires: str = typer.Option(None, "--expires", help="Lifetime in days, e.g. 30d; default: never expires"),
    output: str = OutputOption,
) -> None:
    """Create a key and print it: it is shown this once."""
    check_output(output)
    if scope not in SCOPES:
        raise usage(f"--scope {scope!r}: choose one of {', '.join(SCOPES)}")
    body: dict[str, object] = {"name": name, "scope": scope}
    if expires:
        body["expires_in_days"] = parse_expires(expires)
    with api_errors():
        created = client().request("POST", "/keys", json=body)
    if output == "json":
        return print_json(created)
    console.print(f"Created {created['scope']} key [bold]{created['name']}[/bold]; it is shown only now:")
    typer.echo(created["key"])


@app.command("ls")
def list_keys(output: str = OutputOption) -> None:
    """List keys (never the keys themselves)."""
    check_output(output)
    with api_errors():
        keys = client().request("GET", "/keys")
    if output == "json":
        return print_json(keys)
    from rich.table import Table

    table = Table("name", "scope", "prefix", "created", "expires", "last used", "revoked")
    for key in keys:
        table.add_row(
            key["name"],
            key["scope"],
            key["prefix"] + "…",
            when(key["created"]),
            when(key["expires"]) if key["expires"] else "never",
            when(key["last_used"]) if key["last_used"] else "",
            when(key["revoked"]) if key["revoked"] else "",
        )
    console.print(table)


@app.command("revoke")
def revoke(name: str) -> None:
    """Revoke a key: from now on it gets 401."""
    with api_errors():
        client().request("DELETE", f"/keys/{name}")
    console.print(f"Revoked key [bold]{name}[/bold]")
