"""The container entrypoint, `pushflow execute`: run one flow run and report it.

Reads PUSHFLOW_FLOW_RUN_ID, PUSHFLOW_API_URL and PUSHFLOW_RUN_TOKEN; proposes RUNNING,
answered with the run and counted as its first heartbeat; then runtime/execution.py runs
the flow and reports it. Exits 0 when the run completed.

A short run waits mostly for this process to start, so this module stays light: what runs
the flow (the engine, logging, the reporter) is imported by a thread while the RUNNING
proposal is in flight, when the interpreter would otherwise sit idle.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading

from runtime.client import PushflowClient
from runtime.errors import APIError

_FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def main(flow_run_id: str | None = None) -> int:
    run_id = flow_run_id or os.environ.get("PUSHFLOW_FLOW_RUN_ID")
    if not run_id:
        print("pushflow execute: no flow run given; set PUSHFLOW_FLOW_RUN_ID", file=sys.stderr)
        return 2
    # Enough retries to ride out a control plane restart (about a minute of backoff).
    client = PushflowClient(api_key=os.environ.get("PUSHFLOW_RUN_TOKEN"), retries=9)
    try:
        return execute(client, run_id)
    except APIError as exc:
        print(f"pushflow execute: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()


def execute(client: PushflowClient, run_id: str) -> int:
    loading = threading.Thread(target=_import_the_runner, name="pushflow-imports", daemon=True)
    loading.start()
    try:  # RUNNING, answered with the run and counted as the first heartbeat: one round trip
        answer = client.start_flow_run(run_id)
    except APIError as exc:
        if exc.status_code != 409:
            raise
        return _refused(client, run_id, exc)
    finally:
        loading.join()
    from runtime.execution import run_started

    armed = answer.get("run") is not None  # a control plane older than both options answers without it
    return run_started(client, answer["run"] if armed else client.read_flow_run(run_id), armed=armed)


def _refused(client: PushflowClient, run_id: str, refusal: APIError) -> int:
    """RUNNING was refused: 1 when the run had already ended (so nothing ran), else 0 (it
    is being cancelled, or is not this process's to run)."""
    run = client.read_flow_run(run_id)
    if run["state"]["type"] in _FINAL:
        print(
            f"pushflow execute: run {run['name']!r} already ended {run['state']['type']}; nothing to run "
            "(start a new run with `pushflow run FLOW/DEPLOYMENT`)",
            file=sys.stderr,
        )
        return 1
    print(f"pushflow execute: the control plane refused RUNNING: {refusal}", file=sys.stderr)
    return 0


def _import_the_runner() -> None:
    """What runs the flow, and what nearly every flow file imports (`flow`, `task`)."""
    for module in ("runtime.execution", "runtime.flows", "runtime.tasks"):
        importlib.import_module(module)
