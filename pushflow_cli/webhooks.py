"""`pushflow webhook ...`: create, list, inspect, rotate and delete incoming webhooks.
See docs/concepts/webhooks.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pushflow_cli.console import OutputOption, api_errors, check_output, client, console, fail, print_json

app = typer.Typer(help="Create, list, rotate and delete incoming webhooks.", no_args_is_help=True)


def _show(hook: dict[str, Any]) -> None:
    from runtime import config

    base = config.api_url().rstrip("/").removesuffix("/api")
    console.print(f"Webhook [bold]{hook['name']}[/bold]: POST {base}{hook['path']}", soft_wrap=True)
    if hook.get("secret"):
        console.print(f"Signing secret (shown once): {hook['secret']}", soft_wrap=True)


@app.command("create")
def create(
    name: str,
    template: Path = typer.Option(None, "--template", help="A file with the Jinja template rendering the event"),
    signature: str = typer.Option(None, "--signature", help="standard-webhooks, github or stripe"),
    secret: str = typer.Option(None, "--secret", help="The sender's secret (default: one is made)"),
    description: str = typer.Option("", "--description"),
) -> None:
    """Create a webhook; prints its URL (and secret, once)."""
    body: dict[str, Any] = {"name": name, "description": description}
    if template is not None:
        if not template.is_file():
            raise fail(f"{template} not found")
        body["template"] = template.read_text()
    if signature:
        body["signature"] = signature
    if secret:
        body["secret"] = secret
    with api_errors():
        _show(client().request("POST", "/webhooks", json=body))


@app.command("ls")
def list_webhooks(output: str = OutputOption) -> None:
    """List webhooks."""
    check_output(output)
    with api_errors():
        hooks = client().request("GET", "/webhooks")
    if output == "json":
        return print_json(hooks)
    from rich.table import Table

    table = Table("name", "enabled", "signature", "path")
    for h in hooks:
        table.add_row(h["name"], "yes" if h["enabled"] else "no", h["signature"] or "none", h["path"])
    console.print(table)


@app.command("inspect")
def inspect(name: str) -> None:
    """Show a webhook (never its secret)."""
    with api_errors():
        print_json(client().request("GET", f"/webhooks/{name}"))


@app.command("rotate-url")
def rotate_url(name: str) -> None:
    """Give the webhook a new URL; the old one stops answering."""
    with api_errors():
        _show(client().request("POST", f"/webhooks/{name}/rotate-url"))


@app.command("rotate-secret")
def rotate_secret(name: str) -> None:
    """A new secret; the previous one is accepted until the next rotation."""
    with api_errors():
        _show(client().request("POST", f"/webhooks/{name}/rotate-secret"))


@app.command("delete")
def delete(name: str) -> None:
    """Delete a webhook."""
    with api_errors():
        client().request("DELETE", f"/webhooks/{name}")
    console.print(f"Deleted webhook [bold]{name}[/bold]")
