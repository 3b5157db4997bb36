from __future__ import annotations

import os
from pathlib import Path

import typer

from pushflow_cli.console import api_errors, client, console, fail, parse_pairs


def deploy(
    entrypoint: str = typer.Argument(..., help="path/to/file.py:flow_function"),
    name: str = typer.Option(..., "--name", help="Deployment name"),
    pool: str = typer.Option(..., "--pool", help="Pool to run on"),
    param: list[str] = typer.Option(None, "--param", help="Default parameter, key=value (repeatable)"),
    job_var: list[str] = typer.Option(None, "--job-var", help="Job variable, key=value (repeatable)"),
    image: str = typer.Option(None, "--image", help="Container image (cloud pools)"),
    description: str = typer.Option(None, "--description"),
    cron: str = typer.Option(None, "--cron", help="Run on a cron schedule, e.g. '0 9 * * 1-5'"),
    interval: float = typer.Option(None, "--interval", help="Run every SECONDS"),
    rrule: str = typer.Option(None, "--rrule", help="Run on an RFC 5545 rule, e.g. 'FREQ=DAILY;BYHOUR=9'"),
    timezone: str = typer.Option("UTC", "--timezone", help="IANA time zone the cron/rrule is read in"),
) -> None:
    """Deploy a flow so it can be triggered over the API, the CLI or a schedule."""
    from runtime.errors import FlowLoadError
    from runtime.loading import load_entrypoint

    path_part, _, _ = entrypoint.rpartition(":")
    try:
        flow = load_entrypoint(entrypoint)
    except FlowLoadError as exc:
        raise fail(str(exc)) from None
    if not hasattr(flow, "parameter_schema"):
        raise fail(f"{entrypoint} is not a flow (got {type(flow).__name__}); decorate it with @flow")
    parameters = parse_pairs(param, "--param")
    job_variables = parse_pairs(job_var, "--job-var")
    if image:
        job_variables["image"] = image
    working_dir = os.getcwd()
    if Path(path_part).is_absolute():
        working_dir = str(Path(path_part).parent)
        entrypoint = f"{Path(path_part).name}:{entrypoint.rpartition(':')[2]}"
    body = {
        "name": name,
        "flow_name": flow.name,
        "entrypoint": entrypoint,
        "working_dir": working_dir,
        "pool": pool,
        "description": description or flow.description,
        "parameters": parameters,
        "parameter_schema": flow.parameter_schema(),
        "job_variables": job_variables,
        "retries": getattr(flow, "retries", 0) or 0,
        "retry_delay_seconds": _delay(getattr(flow, "retry_delay_seconds", 0)),
    }
    kinds = {"--cron": cron, "--interval": interval, "--rrule": rrule}
    given = [k for k, v in kinds.items() if v is not None]
    if len(given) > 1:
        raise fail(f"give one schedule option, not {' and '.join(given)}")
    if given:
        key = {"--cron": "cron", "--interval": "interval_seconds", "--rrule": "rrule"}[given[0]]
        body["schedules"] = [{key: kinds[given[0]], "timezone": timezone}]
    with api_errors():
        deployment = client().upsert_deployment(body)
    console.print(
        f"Deployed [bold]{deployment['flow_name']}/{deployment['name']}[/bold] "
        f"(id {deployment['id']}) to pool {deployment['pool']}"
    )
    console.print(f"Run it with: pushflow run {deployment['flow_name']}/{deployment['name']}")


def _delay(value: object) -> float:
    """A flow's retry delay as one number of seconds (a list of delays: the first)."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else 0
    return float(value or 0)  # type: ignore[arg-type]
