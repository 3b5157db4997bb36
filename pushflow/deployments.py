"""Deployments made from Python (Prefect's `prefect.deployments`): what
`flow.to_deployment()` returns, and `deploy(...)` to register several at once."""

from __future__ import annotations

from runtime.deploying import DeployError, RunnerDeployment


def deploy(*deployments: RunnerDeployment, pool: str | None = None) -> list[str]:
    """Register each deployment (on `pool` when it names none); returns their ids."""
    ids = []
    for deployment in deployments:
        deployment.pool = deployment.pool or pool
        ids.append(deployment.apply())
    return ids


__all__ = ["DeployError", "RunnerDeployment", "deploy"]
