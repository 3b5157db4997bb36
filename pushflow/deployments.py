"""Deployments made from Python (Prefect's `prefect.deployments`): what
`flow.to_deployment()` returns, and `deploy(...)` to register several at once."""

from __future__ import annotations

from runtime.deployed_runs import DeployedRun, run_deployment
from runtime.deploying import DeployError, RunnerDeployment
from runtime.flow_results import read_flow_run_result


def deploy(*deployments: RunnerDeployment, pool: str | None = None) -> list[str]:
    """Register each deployment (on `pool` when it names none); returns their ids."""
    ids = []
    for deployment in deployments:
        deployment.pool = deployment.pool or pool
        ids.append(deployment.apply())
    return ids


__all__ = ["DeployError", "DeployedRun", "RunnerDeployment", "deploy", "read_flow_run_result", "run_deployment"]
