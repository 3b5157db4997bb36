"""pushflow: write workflows as plain Python, run them anywhere without workers.

    from pushflow import flow, task

A thin public package over `runtime` (the implementation). Names follow Prefect's where
the concept is the same, so moving a Prefect flow means changing its import lines; see
docs/prefect-migration.md. Each name's module loads when the name is first used
(runtime/exports.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runtime.exports import lazy_exports

if TYPE_CHECKING:
    from runtime.annotations import allow_failure, unmapped
    from runtime.attempts import RunTimeoutError, exponential_backoff
    from runtime.errors import FlowRunFailed, ParameterError, PushflowError
    from runtime.events import emit_event
    from runtime.flows import FlowFunction, flow
    from runtime.futures import PushflowFuture, wait
    from runtime.graph import Flow
    from runtime.loggers import get_run_logger
    from runtime.states import State, StateType
    from runtime.tag_context import tags
    from runtime.task_runners import ThreadPoolTaskRunner
    from runtime.tasks import FunctionTask, Parameter, Task, task

_WHERE = {
    "allow_failure": "runtime.annotations",
    "unmapped": "runtime.annotations",
    "RunTimeoutError": "runtime.attempts",
    "exponential_backoff": "runtime.attempts",
    "FlowRunFailed": "runtime.errors",
    "ParameterError": "runtime.errors",
    "PushflowError": "runtime.errors",
    "emit_event": "runtime.events",
    "FlowFunction": "runtime.flows",
    "flow": "runtime.flows",
    "PushflowFuture": "runtime.futures",
    "wait": "runtime.futures",
    "Flow": "runtime.graph",
    "get_run_logger": "runtime.loggers",
    "State": "runtime.states",
    "StateType": "runtime.states",
    "tags": "runtime.tag_context",
    "ThreadPoolTaskRunner": "runtime.task_runners",
    "FunctionTask": "runtime.tasks",
    "Parameter": "runtime.tasks",
    "Task": "runtime.tasks",
    "task": "runtime.tasks",
}
__getattr__, __dir__ = lazy_exports(globals(), _WHERE)

__all__ = [
    "Flow",
    "FlowFunction",
    "FlowRunFailed",
    "FunctionTask",
    "Parameter",
    "ParameterError",
    "PushflowError",
    "PushflowFuture",
    "RunTimeoutError",
    "State",
    "StateType",
    "Task",
    "ThreadPoolTaskRunner",
    "allow_failure",
    "emit_event",
    "exponential_backoff",
    "flow",
    "get_run_logger",
    "tags",
    "task",
    "unmapped",
    "wait",
]
