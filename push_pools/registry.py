"""Pool kinds, by name, each a typed factory that imports its SDK on first use.

Each factory's return type is `PushPool[Any]`, so mypy checks every adapter class against
the protocol where it is built here (tests/push_pools/test_protocol.py pins it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from push_pools.base import PushPool
from push_pools.errors import MissingDependencyError

PoolFactory = Callable[[], PushPool[Any]]


@dataclasses.dataclass(frozen=True)
class PoolKind:
    factory: PoolFactory
    extra: str | None  # the pip extra that brings its SDK


def _process() -> PushPool[Any]:
    from push_pools.process import ProcessPool

    return ProcessPool()


def _ecs() -> PushPool[Any]:
    from push_pools.ecs import EcsPool

    return EcsPool()


def _cloud_run() -> PushPool[Any]:
    from push_pools.cloud_run import CloudRunPool

    return CloudRunPool()


def _aci() -> PushPool[Any]:
    from push_pools.aci import AciPool

    return AciPool()


def _managed() -> PushPool[Any]:
    from push_pools.managed import ManagedPool

    return ManagedPool()


POOL_KINDS: dict[str, PoolKind] = {
    "process": PoolKind(_process, None),
    "ecs": PoolKind(_ecs, "aws"),
    "cloud-run": PoolKind(_cloud_run, "gcp"),
    "aci": PoolKind(_aci, "azure"),
    "managed": PoolKind(_managed, None),
}
POOL_TYPES = POOL_KINDS  # the name the API and CLI validate pool types against


def pool_types() -> list[str]:
    return sorted(POOL_KINDS)


def register(kind: str, factory: PoolFactory, extra: str | None = None) -> None:
    """Add a pool kind (tests, plugins)."""
    POOL_KINDS[kind] = PoolKind(factory, extra)


def load(kind: str) -> PoolFactory:
    """A factory of adapters for `kind`. Raises KeyError for an unknown kind; calling the
    factory raises MissingDependencyError, naming the extra to install, when its SDK is absent."""
    entry = POOL_KINDS[kind]

    def build() -> PushPool[Any]:
        try:
            return entry.factory()
        except ImportError as exc:
            hint = f'pip install "pushflow[{entry.extra}]"' if entry.extra else "reinstall pushflow"
            raise MissingDependencyError(
                f"pool type {kind!r} needs a package that is not installed ({exc.name}): {hint}"
            ) from exc

    return build
