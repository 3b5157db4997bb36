"""Running a `Flow` graph: each node, in dependency order, as a task run of the current
flow run. A node whose upstream did not succeed is not run: it ends FAILED, named
"TriggerFailed", and so does everything downstream of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runtime.context import flow_run_var
from runtime.engine import run_flow
from runtime.states import Completed, Failed, State
from runtime.task_engine import record_not_run, run_task
from runtime.tasks import Parameter

if TYPE_CHECKING:
    from runtime.graph import Flow


def run_graph(flow: Flow, parameters: dict[str, Any]) -> State:
    ctx = flow_run_var.get()
    if ctx is None:  # called as a plain function: give it a flow run
        return run_flow(flow, parameters)
    states: dict[Any, State] = {}
    upstream_edges: dict[Any, list[Any]] = {}
    for edge in flow.edges:  # indexed once: a big graph stays linear
        upstream_edges.setdefault(edge.downstream, []).append(edge)
    for task in flow.sorted_tasks():
        states[task] = _run_node(flow, task, states, upstream_edges.get(task, ()), parameters, ctx)
    return _flow_state(flow, states)


def _run_node(
    flow: Flow,
    task: Any,
    states: dict[Any, State],
    edges: Any,
    parameters: dict[str, Any],
    ctx: Any,
) -> State:
    if isinstance(task, Parameter):
        return Completed(data=parameters.get(task.name, task.default))
    kwargs = dict(flow.constants.get(task, {}))
    for edge in edges:
        upstream = states[edge.upstream]
        if not upstream.is_successful():
            trigger_failed = Failed(
                name="TriggerFailed",
                message=f"not run: upstream task {edge.upstream.name!r} finished in state {upstream.name}",
            )
            return record_not_run(task, ctx, trigger_failed)
        if edge.key is not None:
            kwargs[edge.key] = upstream.data
    return run_task(task, (), kwargs, ctx)


def _flow_state(flow: Flow, states: dict[Any, State]) -> State:
    failed = [t for t in flow.reference_tasks() if not states[t].is_successful()]
    if not failed:
        return Completed(message="All reference tasks succeeded.", data=states)
    names = ", ".join(f"{t.name} ({states[t].name})" for t in failed)
    return Failed(message=f"Some reference tasks failed: {names}", data=states)
