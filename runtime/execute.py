"""The container entrypoint, `pushflow execute`: run one flow run and report it.

Reads PUSHFLOW_FLOW_RUN_ID, PUSHFLOW_API_URL and PUSHFLOW_RUN_TOKEN; loads the run's
entrypoint; validates its parameters against the flow's signature; reports RUNNING, each
task run, the logs in batches, and the terminal state. Exits 0 when the run completed.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from runtime.client import PushflowClient
from runtime.engine import run_flow
from runtime.errors import APIError, FlowLoadError, ParameterError
from runtime.loading import load_entrypoint
from runtime.reporting import Reporter
from runtime.states import Failed, Running, State


def main(flow_run_id: str | None = None) -> int:
    run_id = flow_run_id or os.environ.get("PUSHFLOW_FLOW_RUN_ID")
    if not run_id:
        print("pushflow execute: no flow run given; set PUSHFLOW_FLOW_RUN_ID", file=sys.stderr)
        return 2
    client = PushflowClient(api_key=os.environ.get("PUSHFLOW_RUN_TOKEN"))
    try:
        return execute(client, run_id)
    except APIError as exc:
        print(f"pushflow execute: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()


def execute(client: PushflowClient, run_id: str) -> int:
    run = client.read_flow_run(run_id)
    if not _propose(client, run_id, Running()):
        return 0
    reporter = Reporter(client, run_id)
    try:
        state = _run(run, reporter)
    finally:
        reporter.close()
    _propose(client, run_id, state)
    return 0 if state.is_completed() else 1


def _run(run: dict[str, Any], reporter: Reporter) -> State:
    working_dir = run.get("working_dir")
    if working_dir and os.path.isdir(working_dir):
        os.chdir(working_dir)
    else:
        working_dir = None
    try:
        flow = load_entrypoint(run["entrypoint"], working_dir)
        if not hasattr(flow, "validate_parameters"):
            raise FlowLoadError(f"{run['entrypoint']} is not a flow (got {type(flow).__name__})")
        parameters = flow.validate_parameters(run.get("parameters") or {})
    except (FlowLoadError, ParameterError) as exc:
        details = getattr(exc, "details", None)
        _log(reporter, logging.ERROR, f"{exc}\n{details}" if details else str(exc))
        return Failed(message=str(exc))
    return run_flow(
        flow, parameters, flow_run_id=run["id"], flow_run_name=run["name"], reporter=reporter
    )


def _propose(client: PushflowClient, run_id: str, state: State) -> bool:
    try:
        client.set_flow_run_state(run_id, state)
    except APIError as exc:
        if exc.status_code != 409:
            raise
        print(f"pushflow execute: the control plane refused {state.type.value}: {exc}", file=sys.stderr)
        return False
    return True


def _log(reporter: Reporter, level: int, message: str) -> None:
    print(message, file=sys.stderr)
    reporter.log({"level": level, "name": "pushflow.execute", "message": message,
                  "timestamp": time.time(), "task_run_id": None})
