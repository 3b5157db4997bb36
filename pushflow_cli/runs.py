"""`pushflow run` and `pushflow runs ...`: trigger, list, inspect, follow and cancel
flow runs. A run is named by its name, its id, or a unique prefix of its id."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import typer

from pushflow_cli.console import (
    OutputOption,
    api_errors,
    check_output,
    client,
    console,
    err_console,
    fail,
    parse_pairs,
    parse_parameters,
    print_json,
    state_text,
    usage,
    when,
)

app = typer.Typer(help="List, inspect, follow and cancel flow runs.", no_args_is_help=True)

RunArg = typer.Argument(..., help="The run's name, id, or a unique prefix of its id")
STATE_TYPES = ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CRASHED", "CANCELLING", "CANCELLED", "PAUSED")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def run(
    deployment: str = typer.Argument(..., help="FLOW/DEPLOYMENT, e.g. etl/nightly"),
    param: list[str] = typer.Option(None, "--param", help="Parameter, key=value (repeatable)"),
    job_var: list[str] = typer.Option(None, "--job-var", help="Job variable, key=value (repeatable)"),
    idempotency_key: str = typer.Option(None, "--idempotency-key"),
    watch: bool = typer.Option(False, "--watch", help="Follow states and logs until the run ends"),
) -> None:
    """Trigger a deployment over the API."""
    flow_name, sep, name = deployment.partition("/")
    if not sep or not flow_name or not name:
        raise usage(f"name the deployment as FLOW/DEPLOYMENT, got {deployment!r}")
    api = client()
    with api_errors():
        dep = api.read_deployment_by_name(flow_name, name)
        flow_run = api.create_flow_run(
            dep["id"],
            parameters=parse_parameters(param, dep.get("parameter_schema")),
            job_variables=parse_pairs(job_var, "--job-var"),
            idempotency_key=idempotency_key,
        )
    console.print(f"Created flow run [bold]{flow_run['name']}[/bold] ({flow_run['id']})")
    if watch:
        raise typer.Exit(follow(api, flow_run["id"]))


def resolve(api: Any, ref: str) -> str:
    """The id of the run named `ref`, or whose id is (or starts with) `ref`."""
    if _UUID.match(ref.lower()):
        return ref.lower()
    with api_errors():
        named = api.list_flow_runs(name=ref, limit=2)["items"]
        if not named and re.fullmatch(r"[0-9a-fA-F-]+", ref):
            named = api.list_flow_runs(id_prefix=ref.lower(), limit=2)["items"]
    if len(named) == 1:
        return named[0]["id"]  # type: ignore[no-any-return]
    if not named:
        raise fail(f"flow run {ref!r} not found; give a run's name, id or id prefix (see `pushflow runs ls`)")
    raise fail(f"{ref!r} matches more than one run ({named[0]['id']}, {named[1]['id']}, ...); give the whole id")


def follow(api: Any, flow_run_id: str, *, poll: float = 0.2) -> int:
    """Print state changes and logs until the run ends; 0 if it completed."""
    from pushflow_cli.log_lines import LogPrinter

    printer = LogPrinter(api, flow_run_id)
    last_state = None
    after = None
    while True:
        with api_errors():
            flow_run = api.read_flow_run(flow_run_id)
            logs = api.read_logs(flow_run_id, after=after)
        for entry in logs:
            after = entry["id"]
            printer.print(entry)
        state = flow_run["state"]
        key = (state["type"], state["name"])
        if key != last_state:
            last_state = key
            message = f" - {state['message']}" if state.get("message") else ""
            console.print(f"State: {state_text(state)}{message}")
        # The run is read before its logs, and the runtime flushes its logs before it
        # proposes a final state: at a final state, every log has been printed above.
        if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            if state["type"] == "COMPLETED":
                return 0
            err_console.print(
                f"[red]Run {flow_run['name']} ended {state['type']}[/red]: {state.get('message') or ''}",
                markup=True,
                highlight=False,
            )
            return 1
        time.sleep(poll)


@app.command("ls")
def list_runs(
    deployment: str = typer.Option(None, "--deployment", help="FLOW/NAME or id: only this deployment's runs"),
    flow: str = typer.Option(None, "--flow", help="Only this flow's runs"),
    state: list[str] = typer.Option(None, "--state", help="State type, e.g. running (repeatable)"),
    upcoming: bool = typer.Option(False, "--upcoming", help="Runs due later (made ahead by schedules), soonest first"),
    limit: int = typer.Option(20, "--limit", min=1, max=200),
    output: str = OutputOption,
) -> None:
    """List runs due by now, latest expected start first (--upcoming: the runs to come)."""
    check_output(output)
    states = [s.upper() for s in state or []]
    unknown = [s for s in states if s not in STATE_TYPES]
    if unknown:
        raise usage(f"unknown state {unknown[0].lower()!r}; use one of: {', '.join(s.lower() for s in STATE_TYPES)}")
    api = client()
    deployment_id = None
    if deployment:
        from pushflow_cli.deployments import resolve as resolve_deployment

        deployment_id = resolve_deployment(api, deployment)["id"]
    now = datetime.now(timezone.utc)
    window = (
        {"sort": "expected_start_asc", "expected_after": now.isoformat()}
        if upcoming
        else {"sort": "expected_start_desc", "expected_before": (now + timedelta(seconds=1)).isoformat()}
    )
    with api_errors():
        page = api.list_flow_runs(
            deployment_id=deployment_id, flow_name=flow, state=states or None, limit=limit, **window
        )
    if output == "json":
        return print_json(page["items"])
    from rich.table import Table

    table = Table("name", "flow", "state", "expected start", "duration")
    # Ids stay whole (never truncated) so they can be copied or piped.
    table.add_column("id", no_wrap=True, min_width=36)
    for r in page["items"]:
        table.add_row(
            r["name"], r["flow_name"], state_text(r["state"]), when(r["expected_start_time"]), _duration(r), r["id"]
        )
    console.print(table)


def _duration(run: dict) -> str:
    if not run["start_time"] or not run["end_time"]:
        return ""
    seconds = (datetime.fromisoformat(run["end_time"]) - datetime.fromisoformat(run["start_time"])).total_seconds()
    return f"{seconds:.2f}s"


@app.command("inspect")
def inspect(flow_run: str = RunArg, output: str = OutputOption) -> None:
    """Show a flow run: state, parameters, infrastructure, and its task runs."""
    check_output(output)
    api = client()
    flow_run_id = resolve(api, flow_run)
    with api_errors():
        found = api.read_flow_run(flow_run_id)
        task_runs = api.read_task_runs(flow_run_id)
    if output == "json":
        return print_json({**found, "task_runs": task_runs})
    console.print_json(data=found)
    if task_runs:
        from rich.table import Table

        table = Table("task run", "state", "start", "end")
        for t in task_runs:
            table.add_row(
                t["name"], state_text(t["state"]), (t["start_time"] or "")[11:23], (t["end_time"] or "")[11:23]
            )
        console.print(table)


@app.command("logs")
def logs(flow_run: str = RunArg, follow_: bool = typer.Option(False, "--follow", "-f")) -> None:
    """Print a flow run's logs (with --follow, until it ends)."""
    from pushflow_cli.log_lines import LogPrinter

    api = client()
    flow_run_id = resolve(api, flow_run)
    if follow_:
        raise typer.Exit(follow(api, flow_run_id))
    with api_errors():
        entries = api.read_logs(flow_run_id)
    printer = LogPrinter(api, flow_run_id)
    for entry in entries:
        printer.print(entry)
    if not entries:
        print_infrastructure_logs(api, flow_run_id)


def print_infrastructure_logs(api: Any, flow_run_id: str) -> None:
    """The runtime never reported: show what the infrastructure logged (pull and startup errors)."""
    from runtime.errors import APIError

    try:
        found = api.request("GET", f"/flow-runs/{flow_run_id}/infrastructure-logs")
    except APIError as exc:
        err_console.print(f"No logs from the run, and none from its infrastructure: {exc}")
        return
    where = f"{found['provider']} {found['id']}"
    err_console.print(f"No logs from the run itself; its infrastructure ({where}) logged:")
    for line in found["lines"] or ["(nothing)"]:
        console.print(line, markup=False, highlight=False)


@app.command("cancel")
def cancel(flow_run: str = RunArg) -> None:
    """Cancel a flow run and stop its infrastructure."""
    api = client()
    flow_run_id = resolve(api, flow_run)
    with api_errors():
        cancelled = api.cancel_flow_run(flow_run_id)
    console.print(f"Run {cancelled['name']}: {state_text(cancelled['state'])}")


@app.command("result")
def result(flow_run: str = RunArg) -> None:
    """Print a completed run's return value (its flow must use persist_result=True) as JSON."""
    import json

    from runtime.flow_results import read_flow_run_result

    api = client()
    flow_run_id = resolve(api, flow_run)
    with api_errors():
        try:
            value = read_flow_run_result(flow_run_id, api)
        except KeyError as exc:
            raise fail(str(exc.args[0])) from None
    try:
        print(json.dumps(value, indent=2))
    except TypeError:
        print(repr(value))
