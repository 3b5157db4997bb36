"""pushflow's runtime: the SDK flow authors use, and what runs their flows in a container.

from runtime import flow, task, get_run_logger

Each name's module loads when the name is first used (runtime/exports.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runtime.exports import lazy_exports

if TYPE_CHECKING:
    from runtime.attempts import RunTimeoutError, exponential_backoff
    from runtime.flows import FlowFunction, flow
    from runtime.futures import PushflowFuture, wait
    from runtime.graph import Edge, Flow, Parameter
    from runtime.loggers import get_run_logger
    from runtime.mapping import unmapped
    from runtime.states import State, StateType
    from runtime.task_runners import DaskTaskRunner, ThreadPoolTaskRunner
    from runtime.tasks import FunctionTask, Task, task

_WHERE = {
    "RunTimeoutError": "runtime.attempts",
    "exponential_backoff": "runtime.attempts",
    "FlowFunction": "runtime.flows",
    "flow": "runtime.flows",
    "PushflowFuture": "runtime.futures",
    "wait": "runtime.futures",
    "Edge": "runtime.graph",
    "Flow": "runtime.graph",
    "Parameter": "runtime.graph",
    "get_run_logger": "runtime.loggers",
    "unmapped": "runtime.mapping",
    "State": "runtime.states",
    "StateType": "runtime.states",
    "DaskTaskRunner": "runtime.task_runners",
    "ThreadPoolTaskRunner": "runtime.task_runners",
    "FunctionTask": "runtime.tasks",
    "Task": "runtime.tasks",
    "task": "runtime.tasks",
}
__getattr__, __dir__ = lazy_exports(globals(), _WHERE)

__all__ = [
    "DaskTaskRunner",
    "Edge",
    "Flow",
    "FlowFunction",
    "FunctionTask",
    "Parameter",
    "PushflowFuture",
    "RunTimeoutError",
    "State",
    "StateType",
    "Task",
    "ThreadPoolTaskRunner",
    "exponential_backoff",
    "flow",
    "get_run_logger",
    "task",
    "unmapped",
    "wait",
]
