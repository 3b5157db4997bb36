from __future__ import annotations

from pathlib import Path

import typer

from pushflow_cli.console import api_errors, client, console, fail, parse_pairs
from pushflow_cli.sources import SourceConfigError, default_kind, resolve_source


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
    source: str = typer.Option(
        None, "--source", help="Where runs get the code: bundle, git, image or local (default: per pool type)"
    ),
    project_dir: Path = typer.Option(None, "--project-dir", help="The folder a bundle packs (default: here)"),
    git_url: str = typer.Option(None, "--git-url", help="Repository runs clone (default: the origin remote)"),
    git_ref: str = typer.Option(None, "--git-ref", help="Branch or tag, resolved to a commit now (default: HEAD's)"),
    git_credentials: str = typer.Option(None, "--git-credentials", help="Token reference, env:NAME, in the container"),
) -> None:
    """Deploy a flow so it can be triggered over the API, the CLI or a schedule."""
    from runtime.errors import FlowLoadError
    from runtime.loading import load_entrypoint

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
    with api_errors():
        api = client()
        pool_type = api.read_pool(pool)["type"]
        kind = source or default_kind(pool_type, image)
        try:
            resolved = resolve_source(
                kind,
                entrypoint,
                api,
                project_dir=project_dir,
                git_url=git_url,
                git_ref=git_ref,
                git_credentials=git_credentials,
            )
        except SourceConfigError as exc:
            raise fail(str(exc)) from None
    body = {
        "name": name,
        "flow_name": flow.name,
        "entrypoint": resolved.entrypoint,
        "working_dir": resolved.working_dir,
        "source": resolved.source,
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
        deployment = api.upsert_deployment(body)
    if resolved.note:
        console.print(f"Code: {resolved.note}")
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
