"""The current flow run: id, name, flow_name, parameters, scheduled_start_time,
run_count, tags, parent_flow_run_id, job_variables, deployment_id."""

from __future__ import annotations

from typing import Any

from runtime.context import flow_run_var


def _record(key: str) -> Any:
    ctx = flow_run_var.get()
    record = ctx.record if ctx is not None else None
    return record.get(key) if record else None


def __getattr__(name: str) -> Any:
    ctx = flow_run_var.get()
    if name == "parameters":
        return dict(ctx.parameters) if ctx is not None else {}
    if name == "job_variables":
        return _record("job_variables") or {}
    if name == "parent_flow_run_id":
        if ctx is not None and ctx.parent is not None:
            return ctx.parent.flow_run_id
        return _record("parent_flow_run_id")
    if name == "tags":
        return [] if ctx is None else list(_record("tags") or [])
    if name not in _FROM_CONTEXT:
        raise AttributeError(f"pushflow.runtime.flow_run has no attribute {name!r}; it has {sorted(ATTRIBUTES)}")
    if ctx is None:
        return None
    return _FROM_CONTEXT[name](ctx)


_FROM_CONTEXT = {
    "id": lambda c: c.flow_run_id,
    "name": lambda c: c.flow_run_name,
    "flow_name": lambda c: c.flow.name,
    "run_count": lambda c: c.run_count,
    "scheduled_start_time": lambda c: c.scheduled_start_time,
    "deployment_id": lambda c: c.deployment_id,
}

ATTRIBUTES = [  # read through __getattr__
    *_FROM_CONTEXT,
    "job_variables",
    "parameters",
    "parent_flow_run_id",
    "tags",
]


def __dir__() -> list[str]:
    return sorted(ATTRIBUTES)
