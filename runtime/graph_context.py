"""The Flow being built by `with Flow(...)`, if any. Its own tiny module so that
`runtime.tasks` can check it on every call (and find the flow an imperative call applies
to) without importing the graph code."""

from __future__ import annotations

import contextvars
from typing import Any

building_flow_var: contextvars.ContextVar[Any] = contextvars.ContextVar("pushflow_building_flow", default=None)


def flow_for(flow: Any, what: str) -> Any:
    """The flow an imperative call applies to: the one given, else the one being built."""
    found = flow if flow is not None else building_flow_var.get()
    if found is None:
        raise ValueError(f"{what}() needs a flow: pass flow=... or call it inside 'with Flow(...)'")
    return found
