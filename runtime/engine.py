"""The engine: how a flow run goes, start to finish (task runs: `runtime.task_engine`).

A sync flow runs in the caller's thread; an async flow is awaited on the caller's event
loop (calling it returns a coroutine, as in Prefect). Both share one beginning and one
end (context, logs, hooks, the child run of a subflow); only the attempts differ. A
deployment runs an async flow on a new event loop (`run_flow`), so its body really runs.
"""

from __future__ import annotations

import functools
import os
import traceback
from typing import Any

from runtime.attempts import run_attempts, run_attempts_async
from runtime.context import FlowRunContext, flow_run_var, task_run_var
from runtime.errors import FlowRunFailed
from runtime.futures import resolve
from runtime.loggers import flow_logger, flush_console, print_capture
from runtime.states import Crashed, Running, State, now

__all__ = ["FlowRunFailed", "call_flow", "call_flow_async", "run_flow", "run_flow_async", "run_hooks", "unwrap"]


def new_id() -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` writes one: Python 3.11's
    uuid module imports `platform`, ~3% of the CPU `pushflow execute` spends starting."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def unwrap(state: State) -> Any:
    return state.result()


def call_flow(flow: Any, args: tuple, kwargs: dict[str, Any], *, return_state: bool) -> Any:
    state = run_flow(flow, flow.call_parameters(args, kwargs))
    return state if return_state else unwrap(state)


async def call_flow_async(flow: Any, args: tuple, kwargs: dict[str, Any], *, return_state: bool) -> Any:
    state = await run_flow_async(flow, flow.call_parameters(args, kwargs))
    return state if return_state else unwrap(state)


def run_flow(flow: Any, parameters: dict[str, Any], **run: Any) -> State:
    """Run `flow` with `parameters` in this process and return its final state. `run`
    carries what a deployment knows: flow_run_id, flow_run_name, reporter, run_count,
    scheduled_start_time, deployment_id."""
    if getattr(flow, "isasync", False):
        import asyncio

        return asyncio.run(run_flow_async(flow, parameters, **run))
    opened = _FlowRun(flow, parameters, run)
    try:
        state, _ = run_attempts(functools.partial(_flow_body, opened, parameters), **opened.options())
        opened.finish(state)
    except (KeyboardInterrupt, SystemExit) as exc:
        opened.crash(exc)
        raise
    finally:
        opened.close()
    opened.report_child(state)
    return state


async def run_flow_async(flow: Any, parameters: dict[str, Any], **run: Any) -> State:
    opened = _FlowRun(flow, parameters, run)
    try:
        body = functools.partial(_flow_body_async, opened, parameters)
        state, _ = await run_attempts_async(body, **opened.options())
        opened.finish(state)
    except (KeyboardInterrupt, SystemExit) as exc:
        opened.crash(exc)
        raise
    finally:
        opened.close()
    opened.report_child(state)
    return state


class _FlowRun:
    """The beginning and the end of one flow run, shared by sync and async flows."""

    def __init__(self, flow: Any, parameters: dict[str, Any], run: dict[str, Any]) -> None:
        parent = flow_run_var.get()
        self.child = None
        flow_run_id, flow_run_name, reporter = run.get("flow_run_id"), run.get("flow_run_name"), run.get("reporter")
        if parent is not None and parent.reporter is not None and reporter is None:
            # A subflow of a reported run becomes a child run on the control plane.
            from runtime.subflows import open_child_run

            self.child = open_child_run(parent, flow, parameters, task_run_var.get())
            flow_run_id, flow_run_name, reporter = self.child.id, self.child.name, self.child.reporter
        self.flow = flow
        self.ctx = FlowRunContext(
            flow=flow,
            flow_run_id=flow_run_id or new_id(),
            flow_run_name=flow_run_name or "",
            parameters=parameters,
            reporter=reporter,
            log_prints=flow.log_prints,
            parent=parent,
            task_runner=getattr(flow, "task_runner", None),
            result_storage=getattr(flow, "result_storage", None),
            run_count=run.get("run_count") or 1,
            scheduled_start_time=run.get("scheduled_start_time") or now(),  # a call starts now
            deployment_id=run.get("deployment_id"),
            record=run.get("record"),
        )
        self.attempts = 0
        self.token = flow_run_var.set(self.ctx)
        self.task_token = task_run_var.set(None)
        if not self.ctx.flow_run_name:
            try:  # a callable name may read pushflow.runtime.flow_run, so the context is set
                self.ctx.flow_run_name = _run_name(flow, parameters)
            except BaseException:
                self.close()
                raise
        self.logger = flow_logger(self.ctx)
        self.logger.info("Beginning flow run '%s' for flow '%s'", self.ctx.flow_run_name, flow.name)
        on_running = getattr(flow, "on_running", ())
        if on_running:
            run_hooks(on_running, flow, self.ctx, Running(), self.logger)

    def attempt(self) -> None:
        """Count an attempt: `pushflow.runtime.flow_run.run_count` goes up on a retry."""
        if self.attempts:
            self.ctx.run_count += 1
        self.attempts += 1

    def options(self) -> dict[str, Any]:
        flow, ctx = self.flow, self.ctx
        condition = getattr(flow, "retry_condition_fn", None)
        return {
            "retries": flow.retries,
            "delay": flow.retry_delay_seconds,
            "timeout": flow.timeout_seconds,
            "label": f"Flow run '{ctx.flow_run_name}'",
            "logger": self.logger,
            "should_retry": (lambda s: condition(flow, ctx, s)) if condition else None,
            "jitter": getattr(flow, "retry_jitter_factor", None),
        }

    def finish(self, state: State) -> None:
        if state.is_completed() and getattr(self.flow, "persist_result", None):
            from runtime.flow_results import persist_flow_result

            persist_flow_result(self.flow, self.ctx, state)
        if state.is_failed():
            self.logger.error("Flow run failed: %s", failure_text(state))
        hooks = getattr(self.flow, "on_completion" if state.is_completed() else "on_failure", ())
        run_hooks(hooks, self.flow, self.ctx, state, self.logger)
        self.logger.info("Finished in state %s", state)

    def crash(self, exc: BaseException) -> None:
        state = Crashed(message=f"the flow run was interrupted by {type(exc).__name__}")
        self.logger.error("Crashed: %s", state.message)
        run_hooks(getattr(self.flow, "on_crashed", ()), self.flow, self.ctx, state, self.logger)

    def close(self) -> None:
        task_run_var.reset(self.task_token)
        flow_run_var.reset(self.token)
        flush_console()

    def report_child(self, state: State) -> None:
        if self.child is not None:
            self.child.finish(state)


def _run_name(flow: Any, parameters: dict[str, Any]) -> str:
    spec = getattr(flow, "flow_run_name", None)
    if spec is None:
        from runtime.names import generate_name

        return generate_name()
    from runtime.names import render_run_name

    return render_run_name(spec, parameters, "flow_run_name")


def _flow_body(opened: _FlowRun, parameters: dict[str, Any]) -> Any:
    flow, ctx = opened.flow, opened.ctx
    opened.attempt()
    try:
        with print_capture(flow.log_prints):
            value = flow.fn(**parameters)
        return resolve(value)
    finally:
        # Every submitted task run ends before its flow run does.
        _end_task_runner(ctx)


async def _flow_body_async(opened: _FlowRun, parameters: dict[str, Any]) -> Any:
    flow, ctx = opened.flow, opened.ctx
    opened.attempt()
    try:
        with print_capture(flow.log_prints):
            value = await flow.fn(**parameters)
        for future in ctx.futures:  # wait without blocking the loop
            await future
        return resolve(value)
    finally:
        _end_task_runner(ctx)


def _end_task_runner(ctx: FlowRunContext) -> None:
    for future in ctx.futures:
        future.wait()
    ctx.futures.clear()
    if ctx.started_runner is not None:
        ctx.started_runner.shutdown()
        ctx.started_runner = None


# Hooks ---------------------------------------------------------------------------------


def run_hooks(hooks: Any, subject: Any, run: Any, state: State, logger: Any) -> None:
    """Call each hook with (task or flow, run context, state). A failing hook is logged
    and does not change the run's state."""
    for hook in hooks or ():
        try:
            hook(subject, run, state)
        except Exception:
            logger.error(
                "Hook %r failed:\n%s",
                getattr(hook, "__name__", hook),
                traceback.format_exc().rstrip(),
            )


def failure_text(state: State) -> str:
    exc = state.data
    if isinstance(exc, BaseException) and exc.__traceback__ is not None:
        return "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return state.message or state.name
