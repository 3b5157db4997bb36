"""Task runners: where submitted tasks run.

A runner does two things. `submit(call)` runs `call` (the orchestration of one task run:
waiting for upstreams, the cache, reporting) concurrently and returns a
`concurrent.futures.Future`. `run_body(fn, *args)` runs the task's attempts: inline for
the thread pool, on a Dask worker for the Dask runner. The flow run makes a fresh copy of
its runner (`copy.copy`) and starts it on the first `submit()`, so a sequential flow
never pays for a pool.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import os
from collections.abc import Callable
from typing import Any


class ThreadPoolTaskRunner:
    """The default: a thread pool in the flow's process."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(self.max_workers, thread_name_prefix="pushflow-task")

    def submit(self, call: Callable[[], Any]) -> concurrent.futures.Future:  # type: ignore[type-arg]
        if self._pool is None:
            self.start()
        assert self._pool is not None
        # Each task run sees the context it was submitted from (its flow run).
        return self._pool.submit(contextvars.copy_context().run, call)

    def run_body(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __repr__(self) -> str:
        return f"ThreadPoolTaskRunner(max_workers={self.max_workers})"


class DaskTaskRunner(ThreadPoolTaskRunner):
    """Runs task bodies on a dask.distributed cluster: an existing one (`address=`) or a
    LocalCluster started for the flow run (`cluster_kwargs=`). Orchestration (waiting,
    caching, reporting) stays in the flow's process, in lightweight threads that mostly
    wait; the task's function, arguments and result travel with cloudpickle."""

    def __init__(
        self,
        address: str | None = None,
        *,
        cluster_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
        max_pending: int = 256,
    ) -> None:
        super().__init__(max_workers=max_pending)
        self.address = address
        self.cluster_kwargs = cluster_kwargs or {}
        self.client_kwargs = client_kwargs or {}
        self._cluster: Any = None
        self._client: Any = None

    def start(self) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError('DaskTaskRunner needs dask.distributed: pip install "dask[distributed]"') from exc
        if self.address:
            self._client = Client(self.address, **self.client_kwargs)
        else:
            self._cluster = LocalCluster(**self.cluster_kwargs)
            self._client = Client(self._cluster, **self.client_kwargs)
        super().start()

    def run_body(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._client.submit(fn, *args, pure=False).result()

    def shutdown(self) -> None:
        super().shutdown()
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __repr__(self) -> str:
        return f"DaskTaskRunner(address={self.address!r})"
