"""Pool types, by name, imported on first use."""

from __future__ import annotations

import importlib
from typing import Any

from push_pools.errors import MissingDependencyError

# type -> (module, class, pip extra that brings its SDK)
POOL_TYPES: dict[str, tuple[str, str, str | None]] = {
    "process": ("push_pools.process", "ProcessPool", None),
    "ecs": ("push_pools.ecs", "EcsPool", "aws"),
    "cloud-run": ("push_pools.cloud_run", "CloudRunPool", "gcp"),
    "aci": ("push_pools.aci", "AciPool", "azure"),
    "managed": ("push_pools.managed", "ManagedPool", None),
}


def pool_types() -> list[str]:
    return sorted(POOL_TYPES)


def load(pool_type: str) -> Any:
    """The adapter class for `pool_type`. Raises KeyError for an unknown type and
    MissingDependencyError, naming the extra to install, when its SDK is absent."""
    module_name, class_name, extra = POOL_TYPES[pool_type]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f'pip install "pushflow[{extra}]"' if extra else "reinstall pushflow"
        raise MissingDependencyError(
            f"pool type {pool_type!r} needs a package that is not installed ({exc.name}): {hint}"
        ) from exc
    return getattr(module, class_name)
