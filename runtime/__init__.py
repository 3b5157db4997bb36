"""pushflow's runtime: the SDK flow authors use, and what runs their flows in a container.

from runtime import flow, task, get_run_logger
"""

from runtime.attempts import RunTimeoutError, exponential_backoff
from runtime.flows import FlowFunction, flow
from runtime.futures import PushflowFuture, wait
from runtime.graph import Edge, Flow, Parameter
from runtime.loggers import get_run_logger
from runtime.mapping import unmapped
from runtime.states import State, StateType
from runtime.task_runners import DaskTaskRunner, ThreadPoolTaskRunner
from runtime.tasks import FunctionTask, Task, task

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
