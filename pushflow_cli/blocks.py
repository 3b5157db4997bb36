"""`pushflow block ...`: create, list, inspect and delete blocks (typed configuration and
secrets; secret fields are encrypted by the server and never shown again)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pushflow_cli.console import (
    OutputOption,
    api_errors,
    check_output,
    client,
    console,
    parse_pairs,
    print_json,
    usage,
)

app = typer.Typer(help="Create, list, inspect and delete blocks (configuration and secrets).", no_args_is_help=True)


def _split(ref: str) -> tuple[str, str]:
    block_type, sep, name = ref.partition("/")
    if not sep or not block_type or not name:
        raise usage(f"{ref!r}: name a block as TYPE/NAME, e.g. aws-credentials/prod")
    return block_type, name


@app.command("create")
def create(
    ref: str = typer.Argument(..., help="TYPE/NAME, e.g. secret/db"),
    set_: list[str] = typer.Option(None, "--set", help="A field, key=value (repeatable)"),
    file: Path = typer.Option(
        None, "--file", "-f", help="The fields, a JSON object (keeps secrets off the command line)"
    ),
) -> None:
    """Create a block."""
    block_type, name = _split(ref)
    data = parse_pairs(set_, "--set")
    if file is not None:
        try:
            data.update(json.loads(file.read_text()))
        except (OSError, ValueError) as exc:
            raise usage(f"--file {file}: cannot read a JSON object from it ({exc})") from None
    with api_errors():
        block = client().request("POST", "/blocks", json={"type": block_type, "name": name, "data": data})
    console.print(f"Created block [bold]{block['type']}/{block['name']}[/bold]")


@app.command("ls")
def list_blocks(output: str = OutputOption) -> None:
    """List blocks (secret fields masked)."""
    check_output(output)
    with api_errors():
        blocks = client().request("GET", "/blocks")
    if output == "json":
        return print_json(blocks)
    from rich.table import Table

    table = Table("block", "fields", "key")
    for block in blocks:
        fields = ", ".join(sorted(block["data"]))
        table.add_row(f"{block['type']}/{block['name']}", fields, block.get("sealed_with") or "—")
    console.print(table)


@app.command("inspect")
def inspect(ref: str = typer.Argument(..., help="TYPE/NAME")) -> None:
    """Show a block (secret fields masked)."""
    block_type, name = _split(ref)
    with api_errors():
        print_json(client().request("GET", f"/blocks/{block_type}/{name}"))


@app.command("delete")
def delete(ref: str = typer.Argument(..., help="TYPE/NAME")) -> None:
    """Delete a block."""
    block_type, name = _split(ref)
    with api_errors():
        client().request("DELETE", f"/blocks/{block_type}/{name}")
    console.print(f"Deleted block [bold]{ref}[/bold]")


@app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every block's secrets with the server's current block key (after a new
    PUSHFLOW_BLOCK_KEY or PUSHFLOW_BLOCK_KMS_KEY_ID, the old key kept in
    PUSHFLOW_BLOCK_PREVIOUS_KEYS until this has run). Safe to run again."""
    with api_errors():
        result = client().request("POST", "/blocks/rotate-key")
    before = ", ".join(f"{n} from {key}" for key, n in sorted(result["by_previous_key"].items())) or "none"
    console.print(f"Re-encrypted {result['rotated']} block(s) with key [bold]{result['current_key']}[/bold] ({before})")
