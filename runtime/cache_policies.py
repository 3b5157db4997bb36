"""Cache policies: what a task's cache key is made of, as in Prefect 3.

    @task(cache_policy=INPUTS + TASK_SOURCE)
    @task(cache_policy=INPUTS - "debug")      # every input but `debug`

A policy's `compute_key(task_run, inputs, flow_parameters)` returns a string, or None for
"do not cache this call". Policies combine with `+` (every part must give a key) and
inputs are left out with `-`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from typing import Any

_sources: dict[Any, str] = {}


def task_source(task: Any) -> str:
    """The source of the task's body (its function, or its class's `run`)."""
    target = getattr(task, "fn", None) or type(task).run
    source = _sources.get(target)
    if source is None:
        try:
            source = inspect.getsource(target)
        except (OSError, TypeError):  # defined in a REPL: its code object is the next best
            source = repr(getattr(target, "__code__", target))
        _sources[target] = source
    return source


def hash_values(*values: Any) -> str:
    digest = hashlib.sha256()
    for value in values:
        try:
            digest.update(json.dumps(value, sort_keys=True, default=_not_json).encode())
        except _NotJSON:
            import cloudpickle

            digest.update(cloudpickle.dumps(value))
    return digest.hexdigest()


class _NotJSON(Exception):
    pass


def _not_json(value: Any) -> Any:
    raise _NotJSON


class CachePolicy:
    def compute_key(self, task_run: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any]) -> str | None:
        raise NotImplementedError

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if isinstance(other, _NoCache):
            return self
        if isinstance(self, _NoCache):
            return other
        return CompoundCachePolicy([*_parts(self), *_parts(other)])

    def __sub__(self, name: str) -> CachePolicy:
        if not isinstance(name, str):
            raise TypeError(f"cache policies subtract an input's name (a str), got {type(name).__name__}")
        return CompoundCachePolicy([p - name if isinstance(p, Inputs) else p for p in _parts(self)])


def _parts(policy: CachePolicy) -> list[CachePolicy]:
    return list(policy.policies) if isinstance(policy, CompoundCachePolicy) else [policy]


class CompoundCachePolicy(CachePolicy):
    def __init__(self, policies: list[CachePolicy]) -> None:
        self.policies = policies

    def compute_key(self, task_run: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any]) -> str | None:
        keys = [p.compute_key(task_run, inputs, flow_parameters) for p in self.policies]
        if any(k is None for k in keys):
            return None
        return hash_values(keys)

    def __repr__(self) -> str:
        return " + ".join(repr(p) for p in self.policies)


class Inputs(CachePolicy):
    """The task's arguments (JSON when they are, cloudpickle otherwise)."""

    def __init__(self, exclude: tuple[str, ...] = ()) -> None:
        self.exclude = tuple(exclude)

    def compute_key(self, task_run: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any]) -> str | None:
        kept = {k: v for k, v in inputs.items() if k not in self.exclude} if self.exclude else inputs
        return hash_values(kept)

    def __sub__(self, name: str) -> CachePolicy:
        return Inputs((*self.exclude, name))

    def __repr__(self) -> str:
        return f"INPUTS - {', '.join(map(repr, self.exclude))}" if self.exclude else "INPUTS"


class TaskSource(CachePolicy):
    """The source code of the task's body: editing the task invalidates its cache."""

    def compute_key(self, task_run: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any]) -> str | None:
        return hashlib.sha256(task_source(task_run.task).encode()).hexdigest()

    def __repr__(self) -> str:
        return "TASK_SOURCE"


class RunId(CachePolicy):
    """The flow run: a cache that lasts one flow run."""

    def compute_key(self, task_run: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any]) -> str | None:
        flow_run = task_run.flow_run
        return flow_run.flow_run_id if flow_run is not None else None

    def __repr__(self) -> str:
        return "RUN_ID"


class FlowParameters(CachePolicy):
    """The flow run's parameters."""

    def compute_key(self, task_run: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any]) -> str | None:
        return hash_values(flow_parameters)

    def __repr__(self) -> str:
        return "FLOW_PARAMETERS"


class _NoCache(CachePolicy):
    def compute_key(self, task_run: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any]) -> str | None:
        return None

    def __repr__(self) -> str:
        return "NONE"


class CacheKeyFnPolicy(CachePolicy):
    """A `cache_key_fn(task_run, arguments)` as a policy."""

    def __init__(self, fn: Callable[[Any, dict[str, Any]], str | None]) -> None:
        self.fn = fn

    def compute_key(self, task_run: Any, inputs: dict[str, Any], flow_parameters: dict[str, Any]) -> str | None:
        return self.fn(task_run, inputs)

    def __repr__(self) -> str:
        return f"cache_key_fn={getattr(self.fn, '__name__', self.fn)}"


INPUTS: CachePolicy = Inputs()
TASK_SOURCE: CachePolicy = TaskSource()
RUN_ID: CachePolicy = RunId()
FLOW_PARAMETERS: CachePolicy = FlowParameters()
NONE: CachePolicy = _NoCache()
NO_CACHE = NONE
# Prefect 3's default for a task whose results persist: same inputs, same code, same run.
DEFAULT: CachePolicy = INPUTS + TASK_SOURCE + RUN_ID

__all__ = [
    "DEFAULT",
    "FLOW_PARAMETERS",
    "INPUTS",
    "NONE",
    "NO_CACHE",
    "RUN_ID",
    "TASK_SOURCE",
    "CacheKeyFnPolicy",
    "CachePolicy",
    "CompoundCachePolicy",
    "Inputs",
]
