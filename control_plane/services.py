"""What a running control plane holds: settings, the database engine, the admin key,
pool adapters and the background loops. Built once by `create_app`."""

from __future__ import annotations

import dataclasses
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine

from control_plane.settings import Settings
from push_pools import registry
from push_pools.base import PushPool


class PoolAdapters:
    """One adapter per pool kind, built on first use. Adapters are stateless (they keep
    SDK clients only), so sharing one per kind is just a saving of client set-up."""

    def __init__(self) -> None:
        self._adapters: dict[str, PushPool[Any]] = {}
        self._lock = threading.Lock()

    def adapter_class(self, kind: str) -> type[Any]:
        """The adapter's class (for its `Job` template)."""
        return type(self.get(kind))

    def get(self, kind: str) -> PushPool[Any]:
        with self._lock:
            adapter = self._adapters.get(kind)
            if adapter is None:
                adapter = self._adapters[kind] = registry.load(kind)()
            return adapter


@dataclasses.dataclass
class Services:
    settings: Settings
    engine: Engine
    api_key: str
    adapters: PoolAdapters
    bundles: Any = None  # control_plane.bundles.BundleStore
    # Signs run tokens (PUSHFLOW_SERVER_SECRET); never the admin key.
    server_secret: str = ""
    # Set by the loops; routes call it to have new work picked up at once. `wake()` runs
    # every pass; `wake(full=False)` (a run was created or changed state) only those that
    # react to runs and events: automations, due actions, dispatch.
    wake: Any = lambda full=True: None

    @functools.cached_property
    def read_engine(self) -> Engine:
        """`engine` for transactions that only read (control_plane.db.read_only); made
        once, not per request."""
        from control_plane.db import read_only

        return read_only(self.engine)

    @functools.cached_property
    def autocommit_engine(self) -> Engine:
        """`engine` for single statements (control_plane.db.autocommit); made once."""
        from control_plane.db import autocommit

        return autocommit(self.engine)

    @functools.cached_property
    def submit_executor(self) -> ThreadPoolExecutor:
        """Threads for a dispatch batch's submits (cloud APIs are slow, so they go in
        parallel, `submit_concurrency` at most). Made once and kept: starting the threads
        anew for each batch cost more than a process-pool submit itself. It holds no
        state between batches."""
        return ThreadPoolExecutor(max_workers=self.settings.submit_concurrency, thread_name_prefix="pushflow-submit")

    @property
    def run_token_secret(self) -> str:
        if not self.server_secret:
            raise RuntimeError("no server secret: set PUSHFLOW_SERVER_SECRET (it signs run tokens)")
        return self.server_secret
