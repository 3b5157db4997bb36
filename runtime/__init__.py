"""pushflow's runtime: the SDK flow authors use, and what runs their flows in a container.

    from runtime import flow, task, get_run_logger
"""

from runtime.flows import FlowFunction, flow
from runtime.loggers import get_run_logger
from runtime.states import State, StateType
from runtime.tasks import FunctionTask, Task, task

__all__ = [
    "FlowFunction",
    "FunctionTask",
    "State",
    "StateType",
    "Task",
    "flow",
    "get_run_logger",
    "task",
]
