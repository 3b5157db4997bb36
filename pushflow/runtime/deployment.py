"""The deployment the current flow run came from (None when it was called directly):
id, name, flow_run_id, parameters."""

from __future__ import annotations

from typing import Any

from runtime.context import flow_run_var


def __getattr__(name: str) -> Any:
    ctx = flow_run_var.get()
    while ctx is not None and ctx.deployment_id is None and ctx.parent is not None:
        ctx = ctx.parent  # a subflow's deployment is its parent's
    deployed = ctx is not None and ctx.deployment_id is not None
    if name == "parameters":
        return dict(ctx.parameters) if deployed and ctx is not None else {}
    if name not in ("id", "flow_run_id", "name"):
        raise AttributeError(f"pushflow.runtime.deployment has no attribute {name!r}; it has {sorted(ATTRIBUTES)}")
    if not deployed or ctx is None:
        return None
    if name == "id":
        return ctx.deployment_id
    if name == "flow_run_id":
        return ctx.flow_run_id
    return (ctx.record or {}).get("deployment_name")


ATTRIBUTES = [  # read through __getattr__
    "flow_run_id",
    "id",
    "name",
    "parameters",
]


def __dir__() -> list[str]:
    return sorted(ATTRIBUTES)
