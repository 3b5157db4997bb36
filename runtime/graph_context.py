"""The Flow being built by `with Flow(...)`, if any. Its own tiny module so that
`runtime.tasks` can check it on every call without importing the graph code."""

from __future__ import annotations

import contextvars
from typing import Any

building_flow_var: contextvars.ContextVar[Any] = contextvars.ContextVar("pushflow_building_flow", default=None)
