"""Task caching and result persistence.

A task caches when it has a cache policy (`cache_policy=`, a `cache_key_fn`, a
`cache_expiration` alone, or Prefect 3's default policy when its results persist). Its
cache record lives in result storage under `cache/<sha256 of the key>`, so a hit works
across runs, processes and containers. A hit ends the task run COMPLETED, named "Cached",
without calling its body. A persisted result is written under `results/<task run id>`.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from runtime.cache_policies import NONE, hash_values, task_source
from runtime.results import MISSING, read_record, serializer_from, storage_from, write_record
from runtime.states import Completed, State


def task_input_hash(context: Any, arguments: dict[str, Any]) -> str:
    """Prefect 2's default cache key: a hash of the task's source and its inputs."""
    return hash_values(task_source(context.task), arguments)


class CachePlan:
    """One task run's cache key (if any) and where its records go."""

    def __init__(self, task: Any, run: Any, args: tuple, kwargs: dict[str, Any], ctx: Any) -> None:
        self.task, self.run = task, run
        self.storage = storage_from(task.result_storage or ctx.result_storage)
        self.serializer = serializer_from(task.result_serializer)
        self.persist = task.persists(ctx)
        self.cache_key = None
        policy = task.effective_cache_policy()
        if policy is not None and policy is not NONE:
            key = policy.compute_key(run, task.bind_arguments(args, kwargs), ctx.parameters)
            if key is not None:
                self.cache_key = "cache/" + hashlib.sha256(str(key).encode()).hexdigest()

    def lookup(self) -> State | None:
        if self.cache_key is None or self.task.refresh_cache:
            return None
        value = read_record(self.storage, self.cache_key)
        if value is MISSING:
            return None
        return Completed(name="Cached", message="result from the cache", data=value, result_key=self.cache_key)

    def store(self, state: State) -> None:
        if not state.is_completed():
            return
        if self.cache_key is not None:
            expiration = self.task.cache_expiration
            expires = time.time() + expiration if expiration is not None else None
            write_record(self.storage, self.cache_key, state.data, self.serializer, expires)
            state.result_key = self.cache_key
        if self.persist:
            state.result_key = f"results/{self.run.task_run_id}"
            write_record(self.storage, state.result_key, state.data, self.serializer)
