"""The `pushflow` command tree (Typer). Client commands need only the base install;
`server start` needs the `server` extra."""

from __future__ import annotations

import typer

from pushflow_cli import deploy as deploy_cmd
from pushflow_cli import pools, runs, server

app = typer.Typer(
    help="pushflow: run Python flows on push pools, no workers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(server.app, name="server")
app.add_typer(pools.app, name="pool")
app.add_typer(runs.app, name="runs")
app.command("deploy")(deploy_cmd.deploy)
app.command("run")(runs.run)


@app.command("execute")
def execute(flow_run_id: str = typer.Argument(None, help="Default: $PUSHFLOW_FLOW_RUN_ID")) -> None:
    """Run one flow run and report it (the container entrypoint)."""
    from runtime.execute import main as execute_main

    raise typer.Exit(execute_main(flow_run_id))
