"""`pushflow deploy`: declare a deployment, whole. What the command does not give is not
kept from an earlier deploy: redeploying without --cron/--interval/--rrule leaves the
deployment with no schedule (its runs made ahead by the old one are cancelled).
`pushflow deploy --all` declares every deployment in ./pushflow.yaml the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pushflow_cli.console import api_errors, client, console, fail, parse_pairs, parse_parameters, usage
from pushflow_cli.schedules import schedule_body
from pushflow_cli.sources import SourceConfigError, default_kind, resolve_source


def deploy(
    entrypoint: str = typer.Argument(None, help="path/to/file.py:flow_function"),
    name: str = typer.Option(None, "--name", help="Deployment name"),
    pool: str = typer.Option(None, "--pool", help="Pool to run on"),
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
    all_: bool = typer.Option(False, "--all", help="Deploy every deployment in ./pushflow.yaml"),
    file: Path = typer.Option(Path("pushflow.yaml"), "--file", help="The file --all reads"),
) -> None:
    """Deploy a flow so it can be triggered over the API, the CLI or a schedule. The
    command declares the whole deployment: a schedule not given is removed."""
    if all_:
        if entrypoint or name or pool:
            raise usage("--all reads every deployment from pushflow.yaml; give no ENTRYPOINT, --name or --pool with it")
        from pushflow_cli.deploy_file import read_deploy_file

        for spec in read_deploy_file(file):
            upsert(**spec)
        return
    missing = [label for label, value in (("ENTRYPOINT", entrypoint), ("--name", name), ("--pool", pool)) if not value]
    if missing:
        raise usage(f"missing {', '.join(missing)}: pushflow deploy path/to/file.py:flow --name NAME --pool POOL")
    job_variables = parse_pairs(job_var, "--job-var")
    if image:
        job_variables["image"] = image
    schedule = schedule_body(cron, interval, rrule)
    upsert(
        entrypoint=entrypoint,
        name=name,
        pool=pool,
        raw_parameters=param,
        job_variables=job_variables,
        description=description,
        schedules=[{**schedule, "timezone": timezone}] if schedule else [],
        base_dir=Path.cwd(),
        source_options={
            "kind": source,
            "project_dir": project_dir,
            "git_url": git_url,
            "git_ref": git_ref,
            "git_credentials": git_credentials,
        },
    )


def upsert(
    *,
    entrypoint: str,
    name: str,
    pool: str,
    base_dir: Path,
    raw_parameters: list[str] | None = None,
    parameters: dict[str, Any] | None = None,
    job_variables: dict[str, Any] | None = None,
    description: str | None = None,
    schedules: list[dict[str, Any]] | None = None,
    source_options: dict[str, Any] | None = None,
    triggers: list[dict[str, Any]] | None = None,
) -> None:
    """Declare one deployment: the flow loaded from `entrypoint` (relative to `base_dir`)
    gives its name and parameter schema; its code source is resolved (a bundle
    uploaded) before the deployment is written."""
    from runtime.errors import FlowLoadError
    from runtime.loading import load_entrypoint

    try:
        flow = load_entrypoint(entrypoint, str(base_dir))
    except FlowLoadError as exc:
        raise fail(str(exc)) from None
    if not hasattr(flow, "parameter_schema"):
        raise fail(f"{entrypoint} is not a flow (got {type(flow).__name__}); decorate it with @flow")
    schema = flow.parameter_schema()
    job_variables = job_variables or {}
    options = dict(source_options or {})
    api = client()
    with api_errors():
        pool_type = api.read_pool(pool)["type"]
        kind = options.pop("kind", None) or default_kind(pool_type, job_variables.get("image"))
        if options.get("project_dir") is None and base_dir != Path.cwd():
            options["project_dir"] = base_dir  # pushflow.yaml's folder
        path_part, _, attr = entrypoint.rpartition(":")
        try:
            resolved = resolve_source(kind, f"{base_dir / path_part}:{attr}", api, **options)
        except SourceConfigError as exc:
            raise fail(str(exc)) from None
        deployment = api.upsert_deployment(
            {
                "name": name,
                "flow_name": flow.name,
                "entrypoint": resolved.entrypoint,
                "working_dir": resolved.working_dir,
                "source": resolved.source,
                "pool": pool,
                "description": description or flow.description,
                "parameters": {**(parameters or {}), **parse_parameters(raw_parameters, schema)},
                "parameter_schema": schema,
                "job_variables": job_variables,
                "schedules": schedules or [],
            }
        )
        if triggers is not None:  # pushflow.yaml declares them (deploy_triggers.py)
            from pushflow_cli.deploy_triggers import sync_triggers

            sync_triggers(api, deployment, triggers)
    if resolved.note:
        console.print(f"Code: {resolved.note}")
    console.print(
        f"Deployed [bold]{deployment['flow_name']}/{deployment['name']}[/bold] "
        f"(id {deployment['id']}) to pool {deployment['pool']}"
    )
    console.print(f"Run it with: pushflow run {deployment['flow_name']}/{deployment['name']}")
