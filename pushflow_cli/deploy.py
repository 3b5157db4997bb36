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
    }
    with api_errors():
        deployment = client().upsert_deployment(body)
    console.print(
        f"Deployed [bold]{deployment['flow_name']}/{deployment['name']}[/bold] "
        f"(id {deployment['id']}) to pool {deployment['pool']}"
    )
    console.print(f"Run it with: pushflow run {deployment['flow_name']}/{deployment['name']}")
