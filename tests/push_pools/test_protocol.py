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


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """mypy's errors for each of the two sources, from one run: the modules both import are
    analysed once (a second run analysed them all again, most of a minute)."""
    tmp = tmp_path_factory.mktemp("mypy")
    sources = {"conforming": CONFORMING, "broken": BROKEN}
    for name, source in sources.items():
        (tmp / f"check_{name}.py").write_text(source)
    paths = [str(tmp / f"check_{name}.py") for name in sources]
    out, err, code = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", *paths])
    lines = (out + err).splitlines()
    assert code in (0, 1) and lines[-1].endswith("(checked 2 source files)"), out + err  # no crash
    return {name: [line for line in lines if line.startswith(paths[i] + ":")] for i, name in enumerate(sources)}


def test_every_adapter_is_a_push_pool_to_mypy(checked: dict[str, list[str]]) -> None:
    errors = [line for line in checked["conforming"] if ": error:" in line]
    assert errors == [], "\n".join(checked["conforming"])


def test_an_adapter_without_release_is_rejected(checked: dict[str, list[str]]) -> None:
    out = "\n".join(checked["broken"])
    assert "Incompatible types in assignment" in out and "release" in out, out  # so mypy exited 1


def test_optional_capabilities_are_found_with_isinstance() -> None:
    assert isinstance(EcsPool(), BatchedStatus) and isinstance(EcsPool(), Provisioning)
    assert not isinstance(ProcessPool(), BatchedStatus) and not isinstance(ProcessPool(), Provisioning)
