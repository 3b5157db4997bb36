"""Tasks (Prefect's `prefect.tasks`)."""

from runtime.attempts import exponential_backoff
from runtime.caching import task_input_hash
from runtime.tasks import FunctionTask, Task, task

__all__ = ["FunctionTask", "Task", "exponential_backoff", "task", "task_input_hash"]
