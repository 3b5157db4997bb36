"""Task caching and result persistence.

A task caches when it has a `cache_key_fn` (or a `cache_expiration`, which means the
default policy, `task_input_hash`). Its cache record lives in result storage under
`cache/<sha256 of the key>`, so a hit works across runs, processes and containers. A hit
ends the task run COMPLETED, named "Cached", without calling its body.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from typing import Any

from runtime.results import MISSING, read_record, serializer_from, storage_from, write_record
from runtime.states import Completed, State

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


def task_input_hash(context: Any, arguments: dict[str, Any]) -> str:
    """The default cache policy: a hash of the task's source and its inputs."""
    digest = hashlib.sha256(task_source(context.task).encode())
    try:
        digest.update(json.dumps(arguments, sort_keys=True, default=_not_json).encode())
    except _NotJSON:
        import cloudpickle

        digest.update(cloudpickle.dumps(arguments))
    return digest.hexdigest()


class _NotJSON(Exception):
    pass


def _not_json(value: Any) -> Any:
    raise _NotJSON


def run_cached(task: Any, run: Any, args: tuple, kwargs: dict[str, Any], ctx: Any, attempts: Any) -> tuple[State, int]:
    storage = storage_from(task.result_storage or ctx.result_storage)
    serializer = serializer_from(task.result_serializer)
    cache_key = None
    if task.cache_key_fn is not None:
        arguments = task.bind_arguments(args, kwargs)
        key = task.cache_key_fn(run, arguments)
        if key is not None:
            cache_key = "cache/" + hashlib.sha256(str(key).encode()).hexdigest()
    if cache_key is not None and not task.refresh_cache:
        value = read_record(storage, cache_key)
        if value is not MISSING:
            return Completed(name="Cached", message="result from the cache", data=value, result_key=cache_key), 0
    state, count = attempts(task, run, args, kwargs, ctx)
    if state.is_completed():
        if cache_key is not None:
            expires = time.time() + task.cache_expiration if task.cache_expiration is not None else None
            write_record(storage, cache_key, state.data, serializer, expires)
            state.result_key = cache_key
        if task.persist_result:
            state.result_key = f"results/{run.task_run_id}"
            write_record(storage, state.result_key, state.data, serializer)
    return state, count
