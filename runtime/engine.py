"""The engine: how a flow run and a task run go, start to finish, in one place each.

Kept lean on purpose: a plain task call costs a context switch, two timestamps and, when
a reporter is attached, one queued record. Caching, persistence, timeouts and hooks cost
nothing unless a task asks for them.
"""

from __future__ import annotations

import concurrent.futures
import functools
import traceback
import uuid
from typing import Any

from runtime.attempts import run_attempts
from runtime.context import FlowRunContext, TaskRunContext, flow_run_var, task_run_var
from runtime.futures import PushflowFuture, PushflowFutureList, resolve
from runtime.loggers import flow_logger, print_capture, task_logger
from runtime.states import Completed, Failed, State, StateType, now


class FlowRunFailed(Exception):
    """Raised by calling a flow (or reading a future) whose run did not complete and left
    no exception of its own."""


def new_id() -> str:
    return str(uuid.uuid4())


def unwrap(state: State) -> Any:
    if state.is_completed():
        return state.data
    if isinstance(state.data, BaseException):
        raise state.data
    raise FlowRunFailed(state.message or f"run finished in state {state.name}")


# Flows ---------------------------------------------------------------------------------


def call_flow(flow: Any, args: tuple, kwargs: dict[str, Any], *, return_state: bool) -> Any:
    parameters = flow.bind_parameters(args, kwargs)
    state = run_flow(flow, parameters)
    return state if return_state else unwrap(state)


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
    child = None
    if parent is not None and parent.reporter is not None and reporter is None:
        # A subflow of a reported run becomes a child run on the control plane.
        from runtime.subflows import open_child_run

        child = open_child_run(parent, flow, parameters, task_run_var.get())
        flow_run_id, flow_run_name, reporter = child.id, child.name, child.reporter
    ctx = FlowRunContext(
        flow=flow,
        flow_run_id=flow_run_id or new_id(),
        flow_run_name=flow_run_name or flow.name,
        parameters=parameters,
        reporter=reporter,
        log_prints=flow.log_prints,
        parent=parent,
        task_runner=getattr(flow, "task_runner", None),
        result_storage=getattr(flow, "result_storage", None),
    )
    token = flow_run_var.set(ctx)
    task_token = task_run_var.set(None)
    logger = flow_logger(ctx)
    try:
        logger.info("Beginning flow run '%s' for flow '%s'", ctx.flow_run_name, flow.name)
        condition = getattr(flow, "retry_condition_fn", None)
        state, attempts = run_attempts(
            functools.partial(_flow_body, flow, ctx, parameters),
            retries=flow.retries,
            delay=flow.retry_delay_seconds,
            timeout=flow.timeout_seconds,
            label=f"Flow run '{ctx.flow_run_name}'",
            logger=logger,
            should_retry=(lambda s: condition(flow, ctx, s)) if condition else None,
        )
        if state.is_failed():
            logger.error("Flow run failed: %s", _failure_text(state))
        hooks = getattr(flow, "on_completion" if state.is_completed() else "on_failure", ())
        run_hooks(hooks, flow, ctx, state, logger)
        logger.info("Finished in state %s%s", state.name, f": {state.message}" if state.message else "")
    finally:
        task_run_var.reset(task_token)
        flow_run_var.reset(token)
    if child is not None:
        child.finish(state)
    return state


def _flow_body(flow: Any, ctx: FlowRunContext, parameters: dict[str, Any]) -> Any:
    try:
        with print_capture(flow.log_prints):
            value = flow.fn(**parameters)
        return resolve(value)
    finally:
        # Every submitted task run ends before its flow run does.
        for future in ctx.futures:
            future.wait()
        ctx.futures.clear()
        if ctx.started_runner is not None:
            ctx.started_runner.shutdown()
            ctx.started_runner = None


# Tasks ---------------------------------------------------------------------------------


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


def submit_task(task: Any, args: tuple, kwargs: dict[str, Any], wait_for: Any = None) -> PushflowFuture:
    ctx = flow_run_var.get()
    if ctx is None:
        # Outside a flow there is nothing to run concurrently with: run it now.
        done: concurrent.futures.Future[State] = concurrent.futures.Future()
        done.set_result(call_task(task, args, kwargs, return_state=True))
        return PushflowFuture(done, task.name)
    run = new_task_run(task, ctx)
    runner = ctx.runner()
    call = functools.partial(orchestrate_task, task, run, args, kwargs, ctx, wait_for, runner)
    future = PushflowFuture(runner.submit(call), run.task_run_name)
    ctx.futures.append(future)
    return future


def map_task(task: Any, args: tuple, kwargs: dict[str, Any], wait_for: Any = None) -> PushflowFutureList:
    from runtime.mapping import expand

    return PushflowFutureList(submit_task(task, a, k, wait_for) for a, k in expand(task.name, args, kwargs))


def run_task(task: Any, args: tuple, kwargs: dict[str, Any], ctx: FlowRunContext) -> State:
    """Run one task call inside flow run `ctx`, in this thread, and return its final state."""
    return orchestrate_task(task, new_task_run(task, ctx), args, kwargs, ctx, None, None)


def record_not_run(task: Any, ctx: FlowRunContext, state: State) -> State:
    """A task run that ends without running (its upstream failed), recorded like any other."""
    run = new_task_run(task, ctx)
    task_logger(run).info("%s", state.message)
    if ctx.reporter is not None:
        ctx.reporter.task_run(_task_run_record(task, run, state, state.timestamp, 0))
    return state


def new_task_run(task: Any, ctx: FlowRunContext) -> TaskRunContext:
    key = task.task_key
    index = ctx.task_counts.get(key, 0)
    ctx.task_counts[key] = index + 1
    return TaskRunContext(task=task, task_run_id=new_id(), task_run_name=f"{task.name}-{index}", flow_run=ctx)


def orchestrate_task(
    task: Any,
    run: TaskRunContext,
    args: tuple,
    kwargs: dict[str, Any],
    ctx: FlowRunContext,
    wait_for: Any,
    runner: Any,
) -> State:
    start = now()
    token = task_run_var.set(run)
    try:
        upstream = None
        if wait_for is not None or _holds_futures(args, kwargs):
            from runtime.mapping import resolve_inputs

            args, kwargs, upstream = resolve_inputs(args, kwargs, wait_for)
        if upstream is not None:
            state = Failed(
                name="TriggerFailed",
                message=f"not run: upstream task run {upstream.task_run_name!r} finished in state "
                f"{upstream.state.name}",
            )
            attempts = 0
            task_logger(run).info("%s", state.message)
        elif task.cache_key_fn is None and not task.persist_result:
            state, attempts = _attempts(task, run, args, kwargs, ctx, runner)
        else:
            from runtime.caching import run_cached

            state, attempts = run_cached(task, run, args, kwargs, ctx, functools.partial(_attempts, runner=runner))
        if task.on_completion or task.on_failure:
            hooks = task.on_completion if state.is_completed() else task.on_failure
            run_hooks(hooks, task, run, state, task_logger(run))
    finally:
        task_run_var.reset(token)
    if ctx.reporter is not None:
        ctx.reporter.task_run(_task_run_record(task, run, state, start, attempts))
    return state


def _attempts(
    task: Any,
    run: TaskRunContext,
    args: tuple,
    kwargs: dict[str, Any],
    ctx: FlowRunContext,
    runner: Any,
) -> tuple[State, int]:
    log_prints = task.log_prints if task.log_prints is not None else ctx.log_prints
    if runner is None:
        return task_attempts(task, args, kwargs, run, log_prints)
    detached = TaskRunContext(task=task, task_run_id=run.task_run_id, task_run_name=run.task_run_name, flow_run=None)
    return runner.run_body(task_attempts, task, args, kwargs, detached, log_prints)  # type: ignore[no-any-return]


def task_attempts(
    task: Any, args: tuple, kwargs: dict[str, Any], run: TaskRunContext, log_prints: bool
) -> tuple[State, int]:
    """A task's body with its retries and timeout. Runs where the task runner puts it
    (on a Dask worker it has no flow run, so it brings its own task run context)."""
    token = task_run_var.set(run) if task_run_var.get() is None else None
    try:
        logger = task_logger(run)
        condition = task.retry_condition_fn

        def body() -> Any:
            with print_capture(log_prints):
                return task.run(*args, **kwargs)

        state, attempts = run_attempts(
            body,
            retries=task.retries,
            delay=task.retry_delay_seconds,
            timeout=task.timeout_seconds,
            label=f"Task run '{run.task_run_name}'",
            logger=logger,
            should_retry=(lambda s: condition(task, run, s)) if condition else None,
        )
        if state.is_failed():
            logger.error("Task run failed: %s", _failure_text(state))
        return state, attempts
    finally:
        if token is not None:
            task_run_var.reset(token)


def _holds_futures(args: tuple, kwargs: dict[str, Any]) -> bool:
    for value in args:
        if isinstance(value, (PushflowFuture, list, tuple)):
            return True
    return any(isinstance(v, (PushflowFuture, list, tuple)) for v in kwargs.values()) if kwargs else False


# Hooks and records ---------------------------------------------------------------------


def run_hooks(hooks: Any, subject: Any, run: Any, state: State, logger: Any) -> None:
    """Call each hook with (task or flow, run context, final state). A failing hook is
    logged and does not change the run's state."""
    for hook in hooks or ():
        try:
            hook(subject, run, state)
        except Exception:
            logger.error(
                "Hook %r failed:\n%s",
                getattr(hook, "__name__", hook),
                traceback.format_exc().rstrip(),
            )


def _failure_text(state: State) -> str:
    exc = state.data
    if isinstance(exc, BaseException) and exc.__traceback__ is not None:
        return "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return state.message or state.name


def _task_run_record(task: Any, run: TaskRunContext, state: State, start: Any, attempts: int) -> dict[str, Any]:
    return {
        "id": run.task_run_id,
        "name": run.task_run_name,
        "task_key": task.task_key,
        "dynamic_key": run.task_run_name.rpartition("-")[2],
        "tags": sorted(task.tags),
        "state": state.to_wire(),
        "start_time": start.isoformat(),
        "end_time": state.timestamp.isoformat() if state.type in _ENDED else None,
        "run_count": attempts,
    }


_ENDED = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})
