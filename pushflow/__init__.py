"""pushflow: write workflows as plain Python, run them anywhere without workers.

    from pushflow import flow, task

A thin public package over `runtime` (the implementation). Names follow Prefect's where
the concept is the same, so moving a Prefect flow means changing its import lines; see
docs/prefect-migration.md.
"""

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
