"""The engine: how a flow run and a task run go, start to finish, in one place each.

Kept lean on purpose: a task call costs a context switch, two timestamps and, when a
reporter is attached, one queued record.
"""

from __future__ import annotations

import time
import traceback
import uuid
from typing import Any

from runtime.context import (
    FlowRunContext,
    TaskRunContext,
    flow_run_var,
    task_run_var,
)
from runtime.loggers import flow_logger, print_capture, task_logger
from runtime.states import Completed, Failed, State, StateType, now


class FlowRunFailed(Exception):
    """Raised by calling a flow whose run did not complete and left no exception of its own."""


def new_id() -> str:
    return str(uuid.uuid4())


def call_flow(flow: Any, args: tuple, kwargs: dict[str, Any], *, return_state: bool) -> Any:
    parameters = flow.bind_parameters(args, kwargs)
    state = run_flow(flow, parameters)
    return state if return_state else unwrap(state)


def unwrap(state: State) -> Any:
    if state.is_completed():
        return state.data
    if isinstance(state.data, BaseException):
        raise state.data
    raise FlowRunFailed(state.message or f"run finished in state {state.name}")


def run_flow(
    flow: Any,
    parameters: dict[str, Any],
    *,
    flow_run_id: str | None = None,
    flow_run_name: str | None = None,
    reporter: Any = None,
) -> State:
    """Run `flow` with `parameters` in this process and return its final state."""
    parent = flow_run_var.get()
    ctx = FlowRunContext(
        flow=flow,
        flow_run_id=flow_run_id or new_id(),
        flow_run_name=flow_run_name or flow.name,
        parameters=parameters,
        reporter=reporter if reporter is not None else (parent.reporter if parent else None),
        log_prints=flow.log_prints,
        parent=parent,
    )
    token = flow_run_var.set(ctx)
    task_token = task_run_var.set(None)
    logger = flow_logger(ctx)
    logger.info("Beginning flow run '%s' for flow '%s'", ctx.flow_run_name, flow.name)
    try:
        with print_capture(flow.log_prints):
            value = flow.fn(**parameters)
        state = Completed(data=value)
    except Exception as exc:
        logger.error("Flow run failed:\n%s", traceback.format_exc().rstrip())
        state = Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
    try:
        logger.info("Finished in state %s%s", state.name, f": {state.message}" if state.message else "")
    finally:
        task_run_var.reset(task_token)
        flow_run_var.reset(token)
    return state


def call_task(task: Any, args: tuple, kwargs: dict[str, Any], *, return_state: bool) -> Any:
    ctx = flow_run_var.get()
    if ctx is None:
        # Outside a flow a task is a plain function call.
        if return_state:
            try:
                return Completed(data=task.run(*args, **kwargs))
            except Exception as exc:
                return Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
        return task.run(*args, **kwargs)
    state = run_task(task, args, kwargs, ctx)
    return state if return_state else unwrap(state)


def run_task(task: Any, args: tuple, kwargs: dict[str, Any], ctx: FlowRunContext) -> State:
    """Run one task call inside flow run `ctx` and return its final state."""
    key = task.task_key
    index = ctx.task_counts.get(key, 0)
    ctx.task_counts[key] = index + 1
    task_run = TaskRunContext(
        task=task, task_run_id=new_id(), task_run_name=f"{task.name}-{index}", flow_run=ctx
    )
    token = task_run_var.set(task_run)
    start = now()
    attempts = 0
    try:
        while True:
            attempts += 1
            try:
                with print_capture(task.log_prints if task.log_prints is not None else ctx.log_prints):
                    value = task.run(*args, **kwargs)
                state = Completed(data=value)
                break
            except Exception as exc:
                if attempts <= task.retries:
                    task_logger(task_run).warning(
                        "Attempt %d failed with %s: %s; retrying", attempts, type(exc).__name__, exc
                    )
                    time.sleep(_retry_delay(task.retry_delay_seconds, attempts))
                    continue
                task_logger(task_run).error(
                    "Task run failed:\n%s", traceback.format_exc().rstrip()
                )
                state = Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
                break
    finally:
        task_run_var.reset(token)
    if ctx.reporter is not None:
        ctx.reporter.task_run(_task_run_record(task, task_run, index, state, start, attempts))
    return state


def _retry_delay(delay: float | list[float], attempt: int) -> float:
    if isinstance(delay, (list, tuple)):
        return float(delay[min(attempt - 1, len(delay) - 1)]) if delay else 0.0
    return float(delay)


def _task_run_record(
    task: Any, run: TaskRunContext, index: int, state: State, start: Any, attempts: int
) -> dict[str, Any]:
    return {
        "id": run.task_run_id,
        "name": run.task_run_name,
        "task_key": task.task_key,
        "dynamic_key": str(index),
        "tags": sorted(task.tags),
        "state": state.to_wire(),
        "start_time": start.isoformat(),
        "end_time": state.timestamp.isoformat() if state.type in _ENDED else None,
        "run_count": attempts,
    }


_ENDED = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})
