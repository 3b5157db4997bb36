"""Running a flow run this process has started (`pushflow execute` after RUNNING was
accepted): loads the entrypoint, validates the parameters, runs the flow with its task
runs and logs reported in batches and a heartbeat every HEARTBEAT_SECONDS, then proposes
the final state. SIGTERM (the pool stopping the infrastructure, e.g. on cancel) runs the
flow's `on_cancellation` hooks and reports CANCELLED (CRASHED when nobody asked to cancel).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from runtime.client import PushflowClient
from runtime.engine import run_flow, run_hooks
from runtime.errors import APIError, FlowLoadError, ParameterError
from runtime.loading import load_entrypoint
from runtime.reporting import Reporter
from runtime.sources import prepare_code
from runtime.states import Cancelled, Crashed, Failed, State, StateType

# Seconds between heartbeats; the control plane marks a run CRASHED when they stop.
HEARTBEAT_SECONDS = float(os.environ.get("PUSHFLOW_HEARTBEAT_SECONDS", "15"))


class _Terminated(BaseException):
    """SIGTERM arrived: unwinds the flow (not an Exception, so flow code cannot swallow it)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the hooks finish; SIGKILL follows the grace
    raise _Terminated()


class _Heartbeat(threading.Thread):
    """Beats every HEARTBEAT_SECONDS. The first beat is the RUNNING proposal's (`armed`),
    so a short flow sends none of its own; with a control plane that did not record one
    there, the thread beats at once."""

    def __init__(self, client: PushflowClient, run_id: str, *, armed: bool) -> None:
        super().__init__(name="pushflow-heartbeat", daemon=True)
        self._client = client.with_retries(1)
        self._run_id = run_id
        self._armed = armed
        self._stopping = threading.Event()  # not `_stop`: Thread uses that name

    def run(self) -> None:
        if self._armed and self._stopping.wait(HEARTBEAT_SECONDS):
            return
        while True:
            # A missed beat is fine; the timeout is many beats long.
            with contextlib.suppress(Exception):
                self._client.request("POST", f"/flow-runs/{self._run_id}/heartbeat")
            if self._stopping.wait(HEARTBEAT_SECONDS):
                return

    def stop(self) -> None:
        """Beat no more; a beat in flight still finishes (see `finish`)."""
        self._stopping.set()

    def finish(self) -> None:
        """Wait for a beat in flight, then close."""
        self.join(timeout=5)
        self._client.close()


def run_started(client: PushflowClient, run: dict[str, Any], *, armed: bool) -> int:
    """Run `run` (RUNNING already); the exit code: 0 completed, 143 cancelled, else 1.
    `armed`: the RUNNING proposal recorded the first heartbeat."""
    run_id = run["id"]
    heartbeat = _Heartbeat(client, run_id, armed=armed)
    heartbeat.start()
    reporter = Reporter(client, run_id)
    loaded: dict[str, Any] = {}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            state = _run(client, run, reporter, loaded)
        except _Terminated:
            state = _terminated(client, run, reporter, loaded.get("flow"))
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # The last logs go out while a beat still in flight ends.
        heartbeat.stop()
        reporter.close()
        heartbeat.finish()
    if state.is_completed() and state.result_key is not None and getattr(loaded.get("flow"), "persist_result", None):
        from runtime.flow_results import report_flow_result

        report_flow_result(client, run_id, loaded["flow"], state)
    _propose(client, run_id, state)
    if state.type is StateType.CANCELLED:
        return 143
    return 0 if state.is_completed() else 1


def _terminated(client: PushflowClient, run: dict[str, Any], reporter: Reporter, flow: Any) -> State:
    """After SIGTERM: CANCELLED (after the flow's on_cancellation hooks) when the run is
    being cancelled; otherwise the infrastructure stopped it under us: CRASHED."""
    try:
        current = client.read_flow_run(run["id"])["state"]["type"]
    except APIError:
        current = None
    if current != "CANCELLING":
        state = Crashed(message="the process was stopped (SIGTERM) by its infrastructure")
        kind = "on_crashed"
    else:
        state = Cancelled(message="cancelled; the process stopped on SIGTERM")
        kind = "on_cancellation"
    hooks = getattr(flow, kind, None) or ()
    if hooks:
        run_hooks(hooks, flow, run, state, logging.getLogger("pushflow.execute"))
        _log(reporter, logging.INFO, f"ran {len(hooks)} {kind} hook(s)")
    return state


def _run(client: PushflowClient, run: dict[str, Any], reporter: Reporter, loaded: dict[str, Any]) -> State:
    try:
        working_dir = prepare_code(client, run, lambda level, message: _log(reporter, level, message))
        flow = load_entrypoint(run["entrypoint"], working_dir)
        loaded["flow"] = flow
        if not hasattr(flow, "validate_parameters"):
            raise FlowLoadError(f"{run['entrypoint']} is not a flow (got {type(flow).__name__})")
        parameters = flow.validate_parameters(run.get("parameters") or {})
    except (FlowLoadError, ParameterError) as exc:
        details = getattr(exc, "details", None)
        _log(reporter, logging.ERROR, f"{exc}\n{details}" if details else str(exc))
        return Failed(message=str(exc))
    return run_flow(
        flow,
        parameters,
        flow_run_id=run["id"],
        flow_run_name=run["name"],
        reporter=reporter,
        run_count=run.get("run_count"),
        scheduled_start_time=run.get("expected_start_time"),
        deployment_id=run.get("deployment_id"),
        record=run,
    )


def _propose(client: PushflowClient, run_id: str, state: State) -> None:
    try:
        client.set_flow_run_state(run_id, state)
    except APIError as exc:
        if exc.status_code != 409:
            raise
        print(f"pushflow execute: the control plane refused {state.type.value}: {exc}", file=sys.stderr)


def _log(reporter: Reporter, level: int, message: str) -> None:
    print(message, file=sys.stderr)
    reporter.log(
        {"level": level, "name": "pushflow.execute", "message": message, "timestamp": time.time(), "task_run_id": None}
    )
