"""The requirements cache on a provider volume.

The runtime installs a run's declared requirements into an environment named by their
hash, under `PUSHFLOW_DEPS_CACHE` (runtime/requirements.py). A container's own disk
dies with it, so every run would install again; with the cache on a volume the provider
mounts into every run (EFS on ECS, Cloud Storage FUSE or NFS on Cloud Run, an Azure Files
share on ACI), the second run with the same requirements installs nothing.

Each pool type has its own volume record (`deps_cache` in its job template); this is
what they share: where the volume is mounted, and the variable that tells the runtime.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEPS_CACHE_ENV = "PUSHFLOW_DEPS_CACHE"
# The stock runtime image's PUSHFLOW_DEPS_CACHE (docker/runtime.Dockerfile).
DEFAULT_MOUNT_PATH = "/var/cache/pushflow/deps"
# Cloud Run refuses volumes on /dev, /proc, /sys and below ("Disallowed paths", Cloud Run
# volume mounts); no container runtime lets a volume replace them.
_SYSTEM_PATHS = ("/dev", "/proc", "/sys")


class CacheVolume(BaseModel):
    """Where a provider volume is mounted in the run's container."""

    model_config = ConfigDict(extra="forbid")

    mount_path: str = Field(
        default=DEFAULT_MOUNT_PATH,
        description=f"Where the volume is mounted in the container; the runtime's {DEPS_CACHE_ENV}",
    )

    @field_validator("mount_path")
    @classmethod
    def _absolute_and_not_system(cls, value: str) -> str:
        if not value.startswith("/") or value.rstrip("/") == "":
            raise ValueError(f"mount_path {value!r} must be an absolute folder other than /, e.g. {DEFAULT_MOUNT_PATH}")
        if any(value == path or value.startswith(path + "/") for path in _SYSTEM_PATHS):
            raise ValueError(f"mount_path {value!r} is a system folder; use another, e.g. {DEFAULT_MOUNT_PATH}")
        return value.rstrip("/")

    def env(self) -> dict[str, str]:
        """What the container needs to use the volume as its requirements cache."""
        return {DEPS_CACHE_ENV: self.mount_path}


def cache_env(volume: CacheVolume | None) -> dict[str, str]:
    return volume.env() if volume is not None else {}
