"""The `managed` pool: the operator's own pool, wrapping an inner push pool (ecs,
cloud-run or aci) that the operator configured once. Authors deploy code to it with no
image and no cloud credentials: every run uses the stock pushflow runtime image, a size
class (small, medium, large) instead of cpu/memory, and `pip_packages` the runtime
installs; the inner pool's knobs are the operator's (pool defaults), not the author's.

Quotas (enforced by the control plane, control_plane/managed.py): concurrent runs are the
pool's `concurrency_limit`; `max_run_seconds` stops and CRASHES a run that runs longer;
`cpu_hours_per_day` holds new runs once the pool's runs used that many vCPU-hours today.

The adapter is stateless, like every adapter: a run's InfraRef names the inner provider,
so status, cancel and logs go straight to the inner pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, model_validator

from push_pools import registry
from push_pools.base import InfraRef, InfraStatus, JobVariables, Provisioning, PushPool, Released, RunSpec, parse_job
from push_pools.deps_cache import CacheVolume

STOCK_IMAGE = "pushflow/runtime:0.1.0"
InnerType = Literal["ecs", "cloud-run", "aci"]
Size = Literal["small", "medium", "large"]

# size -> (vCPUs counted against the daily quota, the inner pool's job variables).
# Fargate: cpu units / MiB ("Task CPU and memory"); Cloud Run: cpu / memory limits (4 CPU
# needs at least 2 GiB); ACI: cores / GB per container group.
SIZES: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {
    "ecs": {
        "small": (0.5, {"cpu": 512, "memory": 1024}),
        "medium": (1.0, {"cpu": 1024, "memory": 2048}),
        "large": (2.0, {"cpu": 2048, "memory": 4096}),
    },
    "cloud-run": {
        "small": (1.0, {"cpu": "1", "memory": "1Gi"}),
        "medium": (2.0, {"cpu": "2", "memory": "4Gi"}),
        "large": (4.0, {"cpu": "4", "memory": "8Gi"}),
    },
    "aci": {
        "small": (1.0, {"cpu": 1.0, "memory_gb": 1.5}),
        "medium": (2.0, {"cpu": 2.0, "memory_gb": 4.0}),
        "large": (4.0, {"cpu": 4.0, "memory_gb": 8.0}),
    },
}

# What a deployment or a run may set; the rest is the operator's (the pool's defaults).
AUTHOR_VARIABLES = frozenset({"size", "pip_packages", "env"})


class ManagedJob(JobVariables):
    size: Size = Field(default="small", description="small, medium or large; cpu/memory per provider")
    pip_packages: list[str] = Field(default_factory=list, description="Installed before the flow starts")
    # The operator's (pool defaults only):
    inner: InnerType = Field(default="ecs", description="The push pool type that runs the containers")
    inner_job: dict[str, Any] = Field(
        default_factory=dict, description="The inner pool's job variables (cluster, subnets, region, ...)"
    )
    image: str = Field(default=STOCK_IMAGE, description="The stock pushflow runtime image (docker/runtime.Dockerfile)")
    max_run_seconds: int | None = Field(default=3600, gt=0, description="Stop and crash runs longer than this")
    cpu_hours_per_day: float | None = Field(default=None, gt=0, description="vCPU-hours the pool's runs may use a day")
    deps_cache: dict[str, Any] | None = Field(
        default=None,
        description="A volume for the runtime's requirements cache, in the inner pool's shape: ecs "
        "{file_system_id, ...} (EFS), cloud-run {bucket} or {nfs_server, nfs_path}, aci "
        "{storage_account_name, share_name, storage_account_key} (Azure Files)",
    )

    @model_validator(mode="after")
    def _deps_cache_fits_the_inner_pool(self) -> ManagedJob:
        if self.deps_cache is not None:
            try:
                cache_model(self.inner).model_validate(self.deps_cache)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
                raise ValueError(f"deps_cache is not a {self.inner} volume ({problems})") from None
        return self

    @property
    def vcpus(self) -> float:
        return SIZES[self.inner][self.size][0]


def cache_model(inner: str) -> type[CacheVolume]:
    """The inner pool type's requirements-cache volume (imported on use, like its adapter)."""
    if inner == "ecs":
        from push_pools.ecs.job import EfsCache

        return EfsCache
    if inner == "cloud-run":
        from push_pools.cloud_run.job import CloudRunCache

        return CloudRunCache
    from push_pools.aci.job import AzureFilesCache

    return AzureFilesCache


class ManagedPool:
    kind: ClassVar[str] = "managed"
    Job: ClassVar[type[ManagedJob]] = ManagedJob
    author_variables: ClassVar[frozenset[str]] = AUTHOR_VARIABLES

    def __init__(self) -> None:
        self._inner: dict[str, PushPool[Any]] = {}  # the inner adapters (stateless too)
        self._lock = threading.Lock()

    def provision(self, defaults: Mapping[str, Any], report: Callable[[str], Any] = print) -> dict[str, Any]:
        """Provision the inner pool's cloud side; its results land in `inner_job`."""
        job = ManagedJob.model_validate(defaults)
        inner = self._adapter(job.inner)
        if not isinstance(inner, Provisioning):
            return dict(defaults)
        inner_job = inner.provision({**job.inner_job, "image": job.image}, report=report)
        inner_job.pop("image", None)
        return {**defaults, "inner_job": inner_job}

    def inner_job(self, run: RunSpec, job: ManagedJob) -> Any:
        """The inner pool's job: the operator's settings, the stock image, the size class."""
        env = dict(job.env)
        if job.pip_packages:
            env["PUSHFLOW_PIP_PACKAGES"] = " ".join(job.pip_packages)
        operator: dict[str, Any] = {"image": job.image, "env": env, **SIZES[job.inner][job.size][1]}
        if job.deps_cache is not None:
            operator["deps_cache"] = job.deps_cache
        return parse_job(self._adapter(job.inner).Job, job.inner_job, operator)

    def submit(self, run: RunSpec, job: ManagedJob, *, timeout: float = 30.0) -> InfraRef:
        return self._adapter(job.inner).submit(run, self.inner_job(run, job), timeout=timeout)

    def status(self, ref: InfraRef) -> InfraStatus:
        return self._adapter(ref.provider).status(ref)

    def cancel(self, ref: InfraRef, *, grace: float = 10.0) -> None:
        self._adapter(ref.provider).cancel(ref, grace=grace)

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        return self._adapter(ref.provider).logs(ref, limit=limit)

    def release(self, ref: InfraRef) -> Released:
        return self._adapter(ref.provider).release(ref)

    def _adapter(self, kind: str) -> PushPool[Any]:
        with self._lock:
            adapter = self._inner.get(kind)
            if adapter is None:
                adapter = self._inner[kind] = registry.load(kind)()
            return adapter
