"""Running a deployment from Python and reading its result (Prefect's `run_deployment`):

run = run_deployment("etl/nightly", parameters={"day": "2026-12-01"})
run.state.is_completed(), run.result()
"""

from __future__ import annotations

import time
from typing import Any

from runtime.states import State

TERMINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


class DeployedRun:
    """A flow run of a deployment, as the control plane last showed it."""

    def __init__(self, record: dict[str, Any], client: Any) -> None:
        self.record = record
        self.id: str = record["id"]
        self.name: str = record["name"]
        self.state = State.from_wire(record["state"])
        self._client = client

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's return value (its flow must persist results); a failed run raises."""
        if not self.state.is_completed():
            if not raise_on_failure:
                return None
            from runtime.errors import FlowRunFailed

            raise FlowRunFailed(f"flow run {self.name!r} is {self.state.name}: {self.state.message or 'no result'}")
        from runtime.flow_results import read_flow_run_result

        return read_flow_run_result(self.id, self._client)

    def __repr__(self) -> str:
        return f"<DeployedRun {self.name} {self.state.name}>"


def run_deployment(
    name: str,
    parameters: dict[str, Any] | None = None,
    *,
    job_variables: dict[str, Any] | None = None,
    timeout: float | None = None,
    poll_interval: float = 0.5,
    client: Any = None,
) -> DeployedRun:
    """Trigger deployment `name` ("flow/deployment") and wait until the run ends (at most
    `timeout` seconds; 0 returns at once)."""
    from runtime.client import PushflowClient

    flow_name, sep, deployment_name = name.partition("/")
    if not sep or not flow_name or not deployment_name:
        raise ValueError(f"name the deployment as 'flow/deployment', got {name!r}")
    api = client or PushflowClient()
    deployment = api.read_deployment_by_name(flow_name, deployment_name)
    run = api.create_flow_run(deployment["id"], parameters=parameters or {}, job_variables=job_variables or {})
    deadline = None if timeout is None else time.monotonic() + timeout
    while run["state"]["type"] not in TERMINAL and (deadline is None or time.monotonic() < deadline):
        time.sleep(poll_interval)
        run = api.read_flow_run(run["id"])
    return DeployedRun(run, api)
