"""What the code of a run can ask about it (Prefect's `prefect.runtime`):

    from pushflow import runtime
    runtime.flow_run.id, runtime.flow_run.name, runtime.flow_run.parameters,
    runtime.flow_run.scheduled_start_time, runtime.flow_run.run_count,
    runtime.task_run.name, runtime.deployment.id, ...

Outside a run each attribute is None (parameters: {}).
"""

from pushflow.runtime import deployment, flow_run, task_run

__all__ = ["deployment", "flow_run", "task_run"]
