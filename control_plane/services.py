"""What a running control plane holds: settings, the database engine, the admin key,
pool adapters and the background loops. Built once by `create_app`."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from sqlalchemy.engine import Engine

from control_plane.settings import Settings
from push_pools import registry
from push_pools.base import PoolContext


class PoolAdapters:
    """One adapter instance per pool type, created on first use."""

    def __init__(self, context: PoolContext) -> None:
        self._context = context
        self._adapters: dict[str, Any] = {}
        self._lock = threading.Lock()

    def adapter_class(self, pool_type: str) -> Any:
        return registry.load(pool_type)

    def get(self, pool_type: str) -> Any:
        with self._lock:
            adapter = self._adapters.get(pool_type)
            if adapter is None:
                adapter = self.adapter_class(pool_type)(self._context)
                self._adapters[pool_type] = adapter
            return adapter


@dataclasses.dataclass
class Services:
    settings: Settings
    engine: Engine
    api_key: str
    adapters: PoolAdapters
    bundles: Any = None  # control_plane.bundles.BundleStore
    # Set by the loops; routes call it to have new work picked up at once.
    wake: Any = lambda: None
