from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from pushflow_cli.console import api_errors, client, console, err_console, fail, parse_pairs, state_text

app = typer.Typer(help="List, inspect, follow and cancel flow runs.", no_args_is_help=True)

LEVELS = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}


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
        raise fail(f"name the deployment as FLOW/DEPLOYMENT, got {deployment!r}")
    api = client()
    with api_errors():
        dep = api.read_deployment_by_name(flow_name, name)
        flow_run = api.create_flow_run(
            dep["id"],
            parameters=parse_pairs(param, "--param"),
            job_variables=parse_pairs(job_var, "--job-var"),
            idempotency_key=idempotency_key,
        )
    console.print(f"Created flow run [bold]{flow_run['name']}[/bold] ({flow_run['id']})")
    if watch:
        raise typer.Exit(follow(api, flow_run["id"]))


def follow(api: Any, flow_run_id: str, *, poll: float = 0.2) -> int:
    """Print state changes and logs until the run ends; 0 if it completed."""
    last_state = None
    after = None
    while True:
        with api_errors():
            flow_run = api.read_flow_run(flow_run_id)
            logs = api.read_logs(flow_run_id, after=after)
        for entry in logs:
            after = entry["id"]
            print_log(entry)
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
            err_console.print(f"[red]Run {flow_run['name']} ended {state['type']}[/red]: {state.get('message') or ''}")
            return 1
        time.sleep(poll)


def print_log(entry: dict) -> None:
    stamp = datetime.fromisoformat(entry["timestamp"]).astimezone().strftime("%H:%M:%S.%f")[:-3]
    level = LEVELS.get(entry["level"], str(entry["level"]))
    console.print(f"{stamp} | {level:<7} | {entry['message']}", markup=False, highlight=False)


@app.command("ls")
def list_runs(
    deployment_id: str = typer.Option(None, "--deployment-id"),
    flow: str = typer.Option(None, "--flow"),
    state: list[str] = typer.Option(None, "--state", help="State type, e.g. RUNNING (repeatable)"),
    limit: int = typer.Option(20, "--limit"),
) -> None:
    """List recent flow runs, newest first."""
    with api_errors():
        page = client().list_flow_runs(deployment_id=deployment_id, flow_name=flow, state=state, limit=limit)
    table = Table("name", "flow", "state", "created", "duration")
    # Ids stay whole (never truncated) so they can be copied or piped.
    table.add_column("id", no_wrap=True, min_width=36)
    for r in page["items"]:
        table.add_row(
            r["name"],
            r["flow_name"],
            state_text(r["state"]),
            r["created"][:19].replace("T", " "),
            _duration(r),
            r["id"],
        )
    console.print(table)


def _duration(run: dict) -> str:
    if not run["start_time"] or not run["end_time"]:
        return ""
    seconds = (datetime.fromisoformat(run["end_time"]) - datetime.fromisoformat(run["start_time"])).total_seconds()
    return f"{seconds:.2f}s"


@app.command("inspect")
def inspect(flow_run_id: str) -> None:
    """Show a flow run: state, parameters, infrastructure, and its task runs."""
    api = client()
    with api_errors():
        flow_run = api.read_flow_run(flow_run_id)
        task_runs = api.read_task_runs(flow_run_id)
    console.print_json(data=flow_run)
    if task_runs:
        table = Table("task run", "state", "start", "end")
        for t in task_runs:
            table.add_row(
                t["name"], state_text(t["state"]), (t["start_time"] or "")[11:23], (t["end_time"] or "")[11:23]
            )
        console.print(table)


@app.command("logs")
def logs(flow_run_id: str, follow_: bool = typer.Option(False, "--follow", "-f")) -> None:
    """Print a flow run's logs (with --follow, until it ends)."""
    api = client()
    if follow_:
        raise typer.Exit(follow(api, flow_run_id))
    with api_errors():
        entries = api.read_logs(flow_run_id)
    for entry in entries:
        print_log(entry)
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
def cancel(flow_run_id: str) -> None:
    """Cancel a flow run and stop its infrastructure."""
    with api_errors():
        flow_run = client().cancel_flow_run(flow_run_id)
    console.print(f"Run {flow_run['name']}: {state_text(flow_run['state'])}")


@app.command("result")
def result(flow_run_id: str) -> None:
    """Print a completed run's return value (its flow must use persist_result=True) as JSON."""
    import json

    from runtime.flow_results import read_flow_run_result

    api = client()
    with api_errors():
        try:
            value = read_flow_run_result(flow_run_id, api)
        except KeyError as exc:
            raise fail(str(exc.args[0])) from None
    try:
        print(json.dumps(value, indent=2))
    except TypeError:
        print(repr(value))
