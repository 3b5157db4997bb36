"""`pushflow deployment schedule ...`: a deployment's schedules, one by one."""

from __future__ import annotations

from typing import Any

import typer

from pushflow_cli.console import OutputOption, api_errors, check_output, client, console, fail, print_json, usage

app = typer.Typer(help="List, add, pause, resume and delete a deployment's schedules.", no_args_is_help=True)

DeploymentArg = typer.Argument(..., help="FLOW/NAME (e.g. etl/nightly) or the deployment's id")
ScheduleArg = typer.Argument(..., help="The schedule's id, or a unique prefix of it (see `schedule ls`)")


def _deployment(api: Any, ref: str) -> dict:
    from pushflow_cli.deployments import resolve

    return resolve(api, ref)


def _schedule(api: Any, deployment: dict, ref: str) -> dict:
    matches = [s for s in deployment["schedules"] if s["id"].startswith(ref.lower())]
    name = f"{deployment['flow_name']}/{deployment['name']}"
    if not matches:
        raise fail(
            f"deployment {name} has no schedule {ref!r}; list them with `pushflow deployment schedule ls {name}`"
        )
    if len(matches) > 1:
        raise fail(f"{ref!r} starts {len(matches)} schedule ids of {name}; give more of the id")
    return matches[0]


@app.command("ls")
def list_schedules(deployment: str = DeploymentArg, output: str = OutputOption) -> None:
    """List a deployment's schedules."""
    from pushflow_cli.deployments import schedule_text

    check_output(output)
    found = _deployment(client(), deployment)
    if output == "json":
        return print_json(found["schedules"])
    from rich.table import Table

    table = Table("schedule", "catch-up", "active")
    table.add_column("id", no_wrap=True, min_width=36)
    for s in found["schedules"]:
        table.add_row(schedule_text({**s, "active": True}), s["catchup"], "yes" if s["active"] else "paused", s["id"])
    console.print(table)


@app.command("add")
def add(
    deployment: str = DeploymentArg,
    cron: str = typer.Option(None, "--cron", help="A cron expression, e.g. '0 9 * * 1-5'"),
    interval: float = typer.Option(None, "--interval", help="Run every SECONDS"),
    rrule: str = typer.Option(None, "--rrule", help="An RFC 5545 rule, e.g. 'FREQ=DAILY;BYHOUR=9'"),
    timezone: str = typer.Option("UTC", "--timezone", help="IANA time zone the cron/rrule is read in"),
    catchup: str = typer.Option(None, "--catchup", help="After downtime: skip-missed or run-latest"),
) -> None:
    """Add a schedule to a deployment (keeping its other schedules)."""
    body: dict[str, Any] = {"timezone": timezone, **schedule_body(cron, interval, rrule)}
    if not len(body) > 1:
        raise usage("give one of --cron, --interval or --rrule")
    if catchup:
        body["catchup"] = catchup
    api = client()
    found = _deployment(api, deployment)
    with api_errors():
        made = api.request("POST", f"/deployments/{found['id']}/schedules", json=body)
    console.print(f"Added schedule {made['id']} to {found['flow_name']}/{found['name']}")


def schedule_body(cron: str | None, interval: float | None, rrule: str | None) -> dict[str, Any]:
    """The one schedule kind given (none: {}); two or more is a usage error."""
    kinds = {"--cron": ("cron", cron), "--interval": ("interval_seconds", interval), "--rrule": ("rrule", rrule)}
    given = [option for option, (_, value) in kinds.items() if value is not None]
    if len(given) > 1:
        raise usage(f"give one schedule option, not {' and '.join(given)}")
    return {kinds[given[0]][0]: kinds[given[0]][1]} if given else {}


@app.command("pause")
def pause(deployment: str = DeploymentArg, schedule: str = ScheduleArg) -> None:
    """Pause a schedule; the runs it made ahead that have not started are removed."""
    _set_active(deployment, schedule, False)


@app.command("resume")
def resume(deployment: str = DeploymentArg, schedule: str = ScheduleArg) -> None:
    """Resume a paused schedule."""
    _set_active(deployment, schedule, True)


def _set_active(deployment: str, ref: str, active: bool) -> None:
    api = client()
    found = _deployment(api, deployment)
    schedule = _schedule(api, found, ref)
    with api_errors():
        api.request("PATCH", f"/deployments/{found['id']}/schedules/{schedule['id']}", json={"active": active})
    what = "resumed" if active else "paused; its runs made ahead were removed"
    console.print(f"Schedule {schedule['id']} of {found['flow_name']}/{found['name']} {what}")


@app.command("delete")
def delete(deployment: str = DeploymentArg, schedule: str = ScheduleArg) -> None:
    """Delete a schedule and the runs it made ahead that have not started."""
    api = client()
    found = _deployment(api, deployment)
    chosen = _schedule(api, found, schedule)
    with api_errors():
        api.request("DELETE", f"/deployments/{found['id']}/schedules/{chosen['id']}")
    console.print(f"Deleted schedule {chosen['id']} of {found['flow_name']}/{found['name']}")
