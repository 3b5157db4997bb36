"""The `pushflow` command tree (Typer): one module per noun, each a `typer.Typer` added
here. Client commands need only the base install; `server start` needs the `server`
extra. Exit codes: 0 ok, 1 the thing failed, 2 the command was used wrongly."""

from __future__ import annotations

import typer

from pushflow_cli import automations, blocks, db, deployments, keys, lambda_package, pools, runs, server, webhooks
from pushflow_cli import deploy as deploy_cmd

app = typer.Typer(
    help="pushflow: run Python flows on push pools, no workers. "
    "Exit codes: 0 ok, 1 the thing failed, 2 the command was used wrongly.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(server.app, name="server")
app.add_typer(db.app, name="db")
app.add_typer(pools.app, name="pool")
app.add_typer(deployments.app, name="deployment")
app.add_typer(runs.app, name="runs")
app.add_typer(lambda_package.app, name="lambda")
app.add_typer(automations.app, name="automation")
app.add_typer(webhooks.app, name="webhook")
app.add_typer(keys.app, name="key")
app.add_typer(blocks.app, name="block")
app.command("deploy")(deploy_cmd.deploy)
app.command("run")(runs.run)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"pushflow {version('pushflow')}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", help="Print pushflow's version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    """pushflow: run Python flows on push pools, no workers."""


@app.command("execute")
def execute(flow_run_id: str = typer.Argument(None, help="Default: $PUSHFLOW_FLOW_RUN_ID")) -> None:
    """Run one flow run and report it (the container entrypoint)."""
    from runtime.execute import main as execute_main

    raise typer.Exit(execute_main(flow_run_id))
