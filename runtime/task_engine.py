"""The engine's task half: how one task run goes, start to finish, sync or async.

Kept lean on purpose: a plain task call costs a context switch, two timestamps and, when
a reporter is attached, one queued record. Caching, persistence, timeouts and hooks cost
nothing unless a task asks for them.

Calling an async task inside a flow run returns a coroutine (await it, or gather many);
it runs on the caller's event loop. Submitted tasks run in the flow's task runner; an
async one there runs on its runner thread's event loop (one per thread, reused).
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import threading
from typing import Any

from runtime.annotations import BaseAnnotation
from runtime.attempts import run_attempts, run_attempts_async
from runtime.context import FlowRunContext, TaskRunContext, flow_run_var, task_run_var
from runtime.engine import failure_text, new_id, run_hooks
from runtime.futures import PushflowFuture, PushflowFutureList
from runtime.loggers import capturing, log_line, print_capture, task_logger
from runtime.states import Completed, Failed, Running, State, StateType, iso_text, now
from runtime.tag_context import tags_var


def call_task(task: Any, args: tuple, kwargs: dict[str, Any], *, return_state: bool) -> Any:
    if task.isasync:
        return call_task_async(task, args, kwargs, return_state=return_state)
    ctx = flow_run_var.get()
    if ctx is None:
        # Outside a flow a task is a plain function call.
        if return_state:
            return _plain_state(task, args, kwargs)
        return task.run(*args, **kwargs)
    state = orchestrate_task(task, new_task_run(task, ctx, args, kwargs), args, kwargs, ctx, None, None)
    if return_state:
        return state
    return state.data if state.type is StateType.COMPLETED else state.result()


async def call_task_async(task: Any, args: tuple, kwargs: dict[str, Any], *, return_state: bool) -> Any:
    ctx = flow_run_var.get()
    if ctx is None:
        if return_state:
            try:
                return Completed(data=await task.run(*args, **kwargs))
            except Exception as exc:
                return Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
        return await task.run(*args, **kwargs)
    state = await orchestrate_task_async(task, new_task_run(task, ctx, args, kwargs), args, kwargs, ctx, None)
    return state if return_state else state.result()


def _plain_state(task: Any, args: tuple, kwargs: dict[str, Any]) -> State:
    try:
        return Completed(data=run_body(task, args, kwargs))
    except Exception as exc:
        return Failed(message=f"{type(exc).__name__}: {exc}", data=exc)


def submit_task(task: Any, args: tuple, kwargs: dict[str, Any], wait_for: Any = None) -> PushflowFuture:
    ctx = flow_run_var.get()
    if ctx is None:
        # Outside a flow there is nothing to run concurrently with: run it now.
        done: concurrent.futures.Future[State] = concurrent.futures.Future()
        done.set_result(_plain_state(task, args, kwargs))
        return PushflowFuture(done, task.name)
    run = new_task_run(task, ctx, args, kwargs)
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
    return orchestrate_task(task, new_task_run(task, ctx, args, kwargs), args, kwargs, ctx, None, None)


def record_not_run(task: Any, ctx: FlowRunContext, state: State) -> State:
    """A task run that ends without running (its upstream failed), recorded like any other."""
    run = new_task_run(task, ctx, (), {})
    task_logger(run).info("%s", state.message)
    if ctx.reporter is not None:
        ctx.reporter.task_run(_task_run_record(task, run, state, state.timestamp, 0))
    return state


def new_task_run(task: Any, ctx: FlowRunContext, args: tuple, kwargs: dict[str, Any]) -> TaskRunContext:
    key = task.task_key
    index = ctx.task_counts.get(key, 0)
    ctx.task_counts[key] = index + 1
    run = TaskRunContext(task=task, task_run_id=new_id(), task_run_name=f"{task.name}-{index}", flow_run=ctx)
    if task.task_run_name is not None:
        from runtime.names import render_run_name

        run.parameters = task.bind_arguments(args, kwargs)
        token = task_run_var.set(run)  # a callable name may read pushflow.runtime.task_run
        try:
            run.task_run_name = render_run_name(task.task_run_name, run.parameters, "task_run_name")
        finally:
            task_run_var.reset(token)
    return run


# One task run --------------------------------------------------------------------------


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
        blocked = None
        if wait_for is not None or _holds_futures(args, kwargs):
            args, kwargs, blocked = _resolve_inputs(run, args, kwargs, wait_for)
        if blocked is not None:
            state, attempts = blocked, 0
        else:
            if task.on_running:
                run_hooks(task.on_running, task, run, Running(), task_logger(run))
            cache = _cache_plan(task, run, args, kwargs, ctx)
            cached = cache.lookup() if cache is not None else None
            if cached is not None:
                state, attempts = cached, 0
            else:
                state, attempts = _attempts(task, run, args, kwargs, ctx, runner)
                if cache is not None:
                    cache.store(state)
        _finish(task, run, state)
    finally:
        task_run_var.reset(token)
    if ctx.reporter is not None:
        ctx.reporter.task_run(_task_run_record(task, run, state, start, attempts))
    return state


async def orchestrate_task_async(
    task: Any, run: TaskRunContext, args: tuple, kwargs: dict[str, Any], ctx: FlowRunContext, wait_for: Any
) -> State:
    """`orchestrate_task` for `await task(...)`: the same steps, the body awaited."""
    start = now()
    token = task_run_var.set(run)
    try:
        blocked = None
        if wait_for is not None or _holds_futures(args, kwargs):
            # Waiting on futures blocks: do it off the event loop.
            import asyncio

            args, kwargs, blocked = await asyncio.to_thread(_resolve_inputs, run, args, kwargs, wait_for)
        if blocked is not None:
            state, attempts = blocked, 0
        else:
            if task.on_running:
                run_hooks(task.on_running, task, run, Running(), task_logger(run))
            cache = _cache_plan(task, run, args, kwargs, ctx)
            cached = cache.lookup() if cache is not None else None
            if cached is not None:
                state, attempts = cached, 0
            else:
                log_prints = task.log_prints if task.log_prints is not None else ctx.log_prints
                state, attempts = await task_attempts_async(task, args, kwargs, run, log_prints)
                if cache is not None:
                    cache.store(state)
        _finish(task, run, state)
    finally:
        task_run_var.reset(token)
    if ctx.reporter is not None:
        ctx.reporter.task_run(_task_run_record(task, run, state, start, attempts))
    return state


def _resolve_inputs(run: TaskRunContext, args: tuple, kwargs: dict[str, Any], wait_for: Any) -> tuple:
    from runtime.mapping import resolve_inputs

    args, kwargs, upstream = resolve_inputs(args, kwargs, wait_for)
    if upstream is None:
        return args, kwargs, None
    state = Failed(
        name="TriggerFailed",
        message=f"not run: upstream task run {upstream.task_run_name!r} finished in state {upstream.state.name}",
    )
    task_logger(run).info("%s", state.message)
    return args, kwargs, state


def _cache_plan(task: Any, run: TaskRunContext, args: tuple, kwargs: dict[str, Any], ctx: FlowRunContext) -> Any:
    if task.cache_policy is None and task.cache_key_fn is None and not task.persist_result:
        return None
    from runtime.caching import CachePlan

    return CachePlan(task, run, args, kwargs, ctx)


def _finish(task: Any, run: TaskRunContext, state: State) -> None:
    if task.on_completion or task.on_failure:
        hooks = task.on_completion if state.is_completed() else task.on_failure
        run_hooks(hooks, task, run, state, task_logger(run))
    log_line(f"Task run '{run.task_run_name}'", logging.INFO, "Finished in state %s", state)


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


def run_body(task: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Call the task's body once; an async body runs to its end on this thread's event loop."""
    if task.isasync:
        return _run_on_thread_loop(task.run(*args, **kwargs))
    return task.run(*args, **kwargs)


def _run_on_thread_loop(coroutine: Any) -> Any:
    import asyncio

    loop = _thread_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        # As asyncio.run would: what the body left running does not outlive it.
        leftovers = asyncio.all_tasks(loop)
        if leftovers:
            for leftover in leftovers:
                leftover.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))


class _Loop:
    """One event loop per task-runner thread, reused by every async task it runs (a new
    loop per task would cost more than the task); closed when the thread ends."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        self.loop.close()


_loops = threading.local()


def _thread_loop() -> Any:
    holder = getattr(_loops, "holder", None)
    if holder is None:
        holder = _loops.holder = _Loop()
    return holder.loop


def task_attempts(
    task: Any, args: tuple, kwargs: dict[str, Any], run: TaskRunContext, log_prints: bool
) -> tuple[State, int]:
    """A task's body with its retries and timeout. Runs where the task runner puts it
    (on a Dask worker it has no flow run, so it brings its own task run context)."""
    token = task_run_var.set(run) if task_run_var.get() is None else None
    try:
        logger = task_logger(run)
        calls = 0

        def body() -> Any:
            nonlocal calls
            calls += 1
            run.run_count = calls
            if not capturing(log_prints):  # the common case: no context manager to enter
                return run_body(task, args, kwargs)
            with print_capture(log_prints):
                return run_body(task, args, kwargs)

        condition = task.retry_condition_fn
        state, attempts = run_attempts(
            body,
            retries=task.retries,
            delay=task.retry_delay_seconds,
            timeout=task.timeout_seconds,
            label=f"Task run '{run.task_run_name}'",
            logger=logger,
            should_retry=(lambda s: condition(task, run, s)) if condition else None,
            jitter=task.retry_jitter_factor,
        )
        if state.is_failed():
            logger.error("Task run failed: %s", failure_text(state))
        return state, attempts
    finally:
        if token is not None:
            task_run_var.reset(token)


async def task_attempts_async(
    task: Any, args: tuple, kwargs: dict[str, Any], run: TaskRunContext, log_prints: bool
) -> tuple[State, int]:
    logger = task_logger(run)
    calls = 0

    async def body() -> Any:
        nonlocal calls
        calls += 1
        run.run_count = calls
        with print_capture(log_prints):
            return await task.run(*args, **kwargs)

    state, attempts = await run_attempts_async(body, **_attempt_options(task, run, logger))
    if state.is_failed():
        logger.error("Task run failed: %s", failure_text(state))
    return state, attempts


def _attempt_options(task: Any, run: TaskRunContext, logger: Any) -> dict[str, Any]:
    condition = task.retry_condition_fn
    return {
        "retries": task.retries,
        "delay": task.retry_delay_seconds,
        "timeout": task.timeout_seconds,
        "label": f"Task run '{run.task_run_name}'",
        "logger": logger,
        "should_retry": (lambda s: condition(task, run, s)) if condition else None,
        "jitter": task.retry_jitter_factor,
    }


_RESOLVED = (PushflowFuture, list, tuple, BaseAnnotation)


def _holds_futures(args: tuple, kwargs: dict[str, Any]) -> bool:
    for value in args:
        if isinstance(value, _RESOLVED):
            return True
    return any(isinstance(v, _RESOLVED) for v in kwargs.values()) if kwargs else False


def _task_run_record(task: Any, run: TaskRunContext, state: State, start: Any, attempts: int) -> dict[str, Any]:
    wire = state.to_wire()
    return {
        "id": run.task_run_id,
        "name": run.task_run_name,
        "task_key": task.task_key,
        "dynamic_key": run.task_run_name.rpartition("-")[2],
        "tags": sorted(task.tags | tags_var.get()),
        "state": wire,
        "start_time": iso_text(start),
        "end_time": wire["timestamp"] if state.type in _ENDED else None,  # the state's time, written once
        "run_count": attempts,
    }


_ENDED = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})
