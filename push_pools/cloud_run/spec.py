"""The Cloud Run job a run becomes: its job template and RunSpec as a `run_v2.Job`."""

from __future__ import annotations

import datetime
from typing import Any

from push_pools.base import RunSpec
from push_pools.cloud_run.job import DEFAULT_COMMAND, CloudRunCache, CloudRunJob
from push_pools.cloud_run.names import MANAGED_LABEL, labels
from push_pools.deps_cache import cache_env

DEPS_VOLUME = "pushflow-deps-cache"


def build_job(run_v2: Any, run: RunSpec, job: CloudRunJob) -> Any:
    # The run token is plain env on this run's own job, which is deleted when the run ends.
    plain = {**cache_env(job.deps_cache), **job.env, **run.env, **run.secret_env}
    env = [run_v2.EnvVar(name=k, value=v) for k, v in plain.items() if k not in job.secrets]
    for name, ref in job.secrets.items():
        secret, version = secret_ref(ref)
        selector = run_v2.SecretKeySelector(secret=secret, version=version)
        env.append(run_v2.EnvVar(name=name, value_source=run_v2.EnvVarSource(secret_key_ref=selector)))
    container = run_v2.Container(
        image=job.image,
        command=job.command or DEFAULT_COMMAND,
        env=env,
        resources=run_v2.ResourceRequirements(limits={"cpu": job.cpu, "memory": job.memory}),
    )
    volumes = []
    if job.deps_cache is not None:
        volumes.append(cache_volume(run_v2, job.deps_cache))
        container.volume_mounts = [run_v2.VolumeMount(name=DEPS_VOLUME, mount_path=job.deps_cache.mount_path)]
    task = run_v2.TaskTemplate(
        containers=[container],
        max_retries=job.max_retries,
        timeout=datetime.timedelta(seconds=job.timeout),
        service_account=job.service_account or "",
        volumes=volumes,
    )
    vpc = vpc_access(run_v2, job)
    if vpc is not None:
        task.vpc_access = vpc
    return run_v2.Job(
        labels=labels(job.labels, run.labels, {MANAGED_LABEL: "true"}),
        template=run_v2.ExecutionTemplate(task_count=1, parallelism=1, template=task),
    )


def cache_volume(run_v2: Any, cache: CloudRunCache) -> Any:
    if cache.bucket is not None:
        source = run_v2.GCSVolumeSource(bucket=cache.bucket, read_only=False, mount_options=cache.mount_options)
        return run_v2.Volume(name=DEPS_VOLUME, gcs=source)
    return run_v2.Volume(
        name=DEPS_VOLUME, nfs=run_v2.NFSVolumeSource(server=cache.nfs_server, path=cache.nfs_path, read_only=False)
    )


def vpc_access(run_v2: Any, job: CloudRunJob) -> Any:
    egress = run_v2.VpcAccess.VpcEgress[job.vpc_egress.upper().replace("-", "_")]
    if job.vpc_connector:
        connector = job.vpc_connector
        if "/" not in connector:
            connector = f"projects/{job.project}/locations/{job.region}/connectors/{connector}"
        return run_v2.VpcAccess(connector=connector, egress=egress)
    if job.network or job.subnetwork:
        interface = run_v2.VpcAccess.NetworkInterface(network=job.network or "", subnetwork=job.subnetwork or "")
        return run_v2.VpcAccess(network_interfaces=[interface], egress=egress)
    return None


def secret_ref(ref: str) -> tuple[str, str]:
    """`S`, `S:V` or `projects/P/secrets/S/versions/V` -> (secret, version)."""
    if "/versions/" in ref:
        secret, _, version = ref.partition("/versions/")
        return secret, version
    secret, _, version = ref.partition(":")
    return secret, version or "latest"
