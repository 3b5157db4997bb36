"""The current task run: id, name, task_name, parameters, run_count, tags."""

from __future__ import annotations

from typing import Any

from runtime.context import task_run_var


def __getattr__(name: str) -> Any:
    run = task_run_var.get()
    if name == "parameters":
        if run is None:
            return {}
        return dict(run.parameters) if run.parameters is not None else {}
    if name == "tags":
        if run is None:
            return []
        from runtime.tag_context import tags_var

        return sorted(run.task.tags | tags_var.get())
    if name not in _FROM_CONTEXT:
        raise AttributeError(f"pushflow.runtime.task_run has no attribute {name!r}; it has {sorted(ATTRIBUTES)}")
    return None if run is None else _FROM_CONTEXT[name](run)


_FROM_CONTEXT = {
    "id": lambda r: r.task_run_id,
    "name": lambda r: r.task_run_name,
    "task_name": lambda r: r.task.name,
    "run_count": lambda r: r.run_count,
}

ATTRIBUTES = [  # read through __getattr__
    *_FROM_CONTEXT,
    "parameters",
    "tags",
]


def __dir__() -> list[str]:
    return sorted(ATTRIBUTES)
