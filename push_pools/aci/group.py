"""The container group for one run, built from its RunSpec and AciJob."""

from __future__ import annotations

from typing import Any

from push_pools.aci.connection import models
from push_pools.aci.job import AciJob
from push_pools.base import RunSpec
from push_pools.deps_cache import cache_env

DEPS_VOLUME = "pushflow-deps-cache"


def container_group_for(run: RunSpec, job: AciJob) -> Any:
    """One container running the run's command; secrets (the run token, `secure_env`) go
    as `secureValue`, which ARM never returns; restart policy Never: a run runs once."""
    m = models()
    secure = {**{k: v.get_secret_value() for k, v in job.secure_env.items()}, **run.secret_env}
    plain = {k: v for k, v in {**cache_env(job.deps_cache), **job.env, **run.env}.items() if k not in secure}
    env = [m.EnvironmentVariable(name=k, value=v) for k, v in plain.items()]
    env += [m.EnvironmentVariable(name=k, secure_value=v) for k, v in secure.items()]
    container = m.Container(
        name=job.container_name,
        image=job.image,
        command=job.command or None,
        environment_variables=env,
        resources=m.ResourceRequirements(requests=m.ResourceRequests(cpu=job.cpu, memory_in_gb=job.memory_gb)),
    )
    volumes = []
    if job.deps_cache is not None:
        cache = job.deps_cache
        share = m.AzureFileVolume(
            share_name=cache.share_name,
            storage_account_name=cache.storage_account_name,
            storage_account_key=cache.storage_account_key.get_secret_value(),
            read_only=False,
        )
        volumes.append(m.Volume(name=DEPS_VOLUME, azure_file=share))
        container.volume_mounts = [m.VolumeMount(name=DEPS_VOLUME, mount_path=cache.mount_path, read_only=False)]
    group: dict[str, Any] = {
        "location": job.location,
        "containers": [container],
        "os_type": "Linux",
        "restart_policy": "Never",
        "tags": {**job.tags, **run.labels},
    }
    if volumes:
        group["volumes"] = volumes
    if job.identity:
        group["identity"] = m.ContainerGroupIdentity(
            type="UserAssigned", user_assigned_identities={job.identity: m.UserAssignedIdentities()}
        )
    if job.subnet_ids:
        group["subnet_ids"] = [m.ContainerGroupSubnetId(id=s) for s in job.subnet_ids]
    if job.dns_config:
        group["dns_config"] = m.DnsConfiguration(
            name_servers=job.dns_config.name_servers,
            search_domains=job.dns_config.search_domains,
            options=job.dns_config.options,
        )
    if job.image_registry_credentials:
        group["image_registry_credentials"] = [
            m.ImageRegistryCredential(
                server=c.server,
                username=c.username,
                password=c.password.get_secret_value() if c.password else None,
                identity=c.identity,
            )
            for c in job.image_registry_credentials
        ]
    return m.ContainerGroup(**group)
