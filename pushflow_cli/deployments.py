"""`pushflow deployment ...`: list, inspect, pause, resume and delete deployments."""

from __future__ import annotations

from typing import Any

import typer

from pushflow_cli import schedules
from pushflow_cli.console import (
    OutputOption,
    api_errors,
    check_output,
    client,
    console,
    print_json,
    usage,
)

app = typer.Typer(help="List, inspect, pause, resume and delete deployments.", no_args_is_help=True)
app.add_typer(schedules.app, name="schedule")

DeploymentArg = typer.Argument(..., help="FLOW/NAME (e.g. etl/nightly) or the deployment's id")


def resolve(api: Any, ref: str) -> dict:
    """A deployment named FLOW/NAME, or by id."""
    flow_name, sep, name = ref.partition("/")
    if sep and not (flow_name and name):
        raise usage(f"name the deployment as FLOW/NAME or give its id, got {ref!r}")
    with api_errors():
        if sep:
            return api.read_deployment_by_name(flow_name, name)  # type: ignore[no-any-return]
        return api.read_deployment(ref)  # type: ignore[no-any-return]


def label(deployment: dict) -> str:
    return f"{deployment['flow_name']}/{deployment['name']}"


def schedule_text(schedule: dict) -> str:
    if schedule.get("cron"):
        what = f"cron '{schedule['cron']}'"
    elif schedule.get("interval_seconds"):
        what = f"every {schedule['interval_seconds']:g}s"
    else:
        what = f"rrule '{schedule['rrule']}'"
    if schedule.get("timezone") and schedule["timezone"] != "UTC" and not schedule.get("interval_seconds"):
        what += f" ({schedule['timezone']})"
    return what if schedule.get("active", True) else f"{what} [paused]"


@app.command("ls")
def list_deployments(
    flow: str = typer.Option(None, "--flow", help="Only this flow's deployments"),
    pool: str = typer.Option(None, "--pool", help="Only deployments on this pool"),
    output: str = OutputOption,
) -> None:
    """List deployments."""
    check_output(output)
    with api_errors():
        found = client().request(
            "GET", "/deployments", params={k: v for k, v in {"flow_name": flow, "pool": pool}.items() if v}
        )
    if output == "json":
        return print_json(found)
    from rich.table import Table

    table = Table("deployment", "pool", "paused", "schedules")
    table.add_column("id", no_wrap=True, min_width=36)
    for d in found:
        table.add_row(
            label(d),
            d["pool"],
            "yes" if d["paused"] else "",
            "; ".join(schedule_text(s) for s in d["schedules"]),
            d["id"],
        )
    console.print(table)


@app.command("inspect")
def inspect(deployment: str = DeploymentArg) -> None:
    """Show a deployment: entrypoint, pool, parameters, job variables, schedules."""
    print_json(resolve(client(), deployment))


@app.command("pause")
def pause(deployment: str = DeploymentArg) -> None:
    """Pause a deployment: its schedules make no runs and none of its runs is dispatched."""
    _set_paused(deployment, True)


@app.command("resume")
def resume(deployment: str = DeploymentArg) -> None:
    """Resume a paused deployment."""
    _set_paused(deployment, False)


def _set_paused(ref: str, paused: bool) -> None:
    api = client()
    found = resolve(api, ref)
    with api_errors():
        api.request("PATCH", f"/deployments/{found['id']}", json={"paused": paused})
    console.print(f"Deployment [bold]{label(found)}[/bold] {'paused' if paused else 'resumed'}")


@app.command("delete")
def delete(
    deployment: str = DeploymentArg,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation"),
) -> None:
    """Delete a deployment, its schedules and its runs that have not started (finished
    runs are kept)."""
    api = client()
    found = resolve(api, deployment)
    if not yes and not typer.confirm(f"Delete deployment {label(found)}?", err=True):
        raise typer.Exit(1)
    with api_errors():
        api.request("DELETE", f"/deployments/{found['id']}")
    console.print(f"Deleted deployment [bold]{label(found)}[/bold]")
