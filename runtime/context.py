"""The run context: which flow run and task run the current code belongs to.

Context variables (not thread-locals) so that task runner threads inherit the context
they were submitted from.
"""

from __future__ import annotations

import contextvars
import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.reporting import Reporter


@dataclasses.dataclass(slots=True, eq=False)
class FlowRunContext:
    flow: Any
    flow_run_id: str
    flow_run_name: str
    parameters: dict[str, Any]
    reporter: Reporter | None = None
    log_prints: bool = False
    parent: FlowRunContext | None = None
    # Calls per task key, so repeated calls of one task get distinct dynamic keys.
    task_counts: dict[str, int] = dataclasses.field(default_factory=dict)
    # The flow's task runner (a template, copied and started on the first submit) and
    # the futures submitted so far, which the flow run waits for before it ends.
    task_runner: Any = None
    started_runner: Any = None
    futures: list[Any] = dataclasses.field(default_factory=list)
    result_storage: Any = None
    # What `pushflow.runtime.flow_run` shows besides the above.
    run_count: int = 1
    scheduled_start_time: Any = None
    deployment_id: str | None = None
    # The control plane's record of this run, when it runs from a deployment.
    record: dict[str, Any] | None = None

    def runner(self) -> Any:
        if self.started_runner is None:
            import copy

            from runtime.task_runners import ThreadPoolTaskRunner

            template = self.task_runner if self.task_runner is not None else ThreadPoolTaskRunner()
            self.started_runner = copy.copy(template)
        return self.started_runner


@dataclasses.dataclass(slots=True, eq=False)
class TaskRunContext:
    task: Any
    task_run_id: str
    task_run_name: str
    flow_run: FlowRunContext | None
    parameters: dict[str, Any] | None = None
    run_count: int = 1


flow_run_var: contextvars.ContextVar[FlowRunContext | None] = contextvars.ContextVar("pushflow_flow_run", default=None)
task_run_var: contextvars.ContextVar[TaskRunContext | None] = contextvars.ContextVar("pushflow_task_run", default=None)


def current_flow_run() -> FlowRunContext | None:
    return flow_run_var.get()


def current_task_run() -> TaskRunContext | None:
    return task_run_var.get()
