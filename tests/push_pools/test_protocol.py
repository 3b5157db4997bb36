"""The adapter protocol is checked, not hoped for: mypy must accept every adapter assigned
to `PushPool` (and to the optional capabilities it claims), and must reject one that
lacks a method. The registry's factories are typed the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

from push_pools.base import BatchedStatus, Provisioning
from push_pools.ecs import EcsPool
from push_pools.process import ProcessPool

ROOT = Path(__file__).resolve().parents[2]

CONFORMING = """
from typing import Any
from push_pools.aci import AciJob, AciPool
from push_pools.base import BatchedStatus, Provisioning, PushPool
from push_pools.cloud_run import CloudRunJob, CloudRunPool
from push_pools.ecs import EcsJob, EcsPool
from push_pools.process import ProcessJob, ProcessPool
from push_pools.registry import PoolFactory, load

process: PushPool[ProcessJob] = ProcessPool()
ecs: PushPool[EcsJob] = EcsPool()
cloud_run: PushPool[CloudRunJob] = CloudRunPool()
aci: PushPool[AciJob] = AciPool()
batched: BatchedStatus = EcsPool()
provisioning: Provisioning = EcsPool()
factory: PoolFactory = load("ecs")
"""

BROKEN = """
from typing import ClassVar
from push_pools.base import InfraRef, InfraStatus, PushPool, RunSpec
from push_pools.process import ProcessJob

class NoRelease:
    kind: ClassVar[str] = "broken"
    Job: ClassVar[type[ProcessJob]] = ProcessJob
    def submit(self, run: RunSpec, job: ProcessJob, *, timeout: float) -> InfraRef:
        raise NotImplementedError
    def status(self, ref: InfraRef) -> InfraStatus:
        raise NotImplementedError
    def cancel(self, ref: InfraRef, *, grace: float) -> None:
        raise NotImplementedError
    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        raise NotImplementedError

pool: PushPool[ProcessJob] = NoRelease()
"""


def typecheck(tmp_path: Path, source: str) -> tuple[str, int]:
    path = tmp_path / "check_protocol.py"
    path.write_text(source)
    out, err, code = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", str(path)])
    return out + err, code


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[str, int], tuple[str, int]]:
    tmp = tmp_path_factory.mktemp("mypy")
    return typecheck(tmp, CONFORMING), typecheck(tmp, BROKEN)


def test_every_adapter_is_a_push_pool_to_mypy(checked: tuple[tuple[str, int], tuple[str, int]]) -> None:
    (out, code), _ = checked
    assert code == 0, out


def test_an_adapter_without_release_is_rejected(checked: tuple[tuple[str, int], tuple[str, int]]) -> None:
    _, (out, code) = checked
    assert code == 1 and "Incompatible types in assignment" in out and "release" in out, out


def test_optional_capabilities_are_found_with_isinstance() -> None:
    assert isinstance(EcsPool(), BatchedStatus) and isinstance(EcsPool(), Provisioning)
    assert not isinstance(ProcessPool(), BatchedStatus) and not isinstance(ProcessPool(), Provisioning)
