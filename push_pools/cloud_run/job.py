"""The `cloud-run` job template: what a run's Cloud Run job looks like."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from push_pools.base import JobVariables
from push_pools.deps_cache import CacheVolume

MAX_TIMEOUT_SECONDS = 168 * 3600  # Cloud Run jobs: a task may run for up to 7 days
_MEMORY = re.compile(r"^\d+(\.\d+)?(Mi|Gi|M|G)$")
_SECRET = re.compile(r"^(projects/[^/]+/secrets/)?[A-Za-z0-9_-]+(/versions/[A-Za-z0-9_-]+|:[A-Za-z0-9_-]+)?$")
DEFAULT_COMMAND = ["pushflow", "execute"]


class CloudRunCache(CacheVolume):
    """A volume mounted into every run's job as the requirements cache: a Cloud Storage
    bucket through Cloud Storage FUSE, or an NFS share such as Filestore (Cloud Run Admin
    API v2, TaskTemplate `volumes[]` with `gcs` or `nfs`, and the container's
    `volumeMounts[]`; "Configure Cloud Storage volume mounts for jobs", "Configure NFS
    volume mounts for jobs"). NFS suits pip's many small files better than FUSE, which
    stages each write and offers no file locking."""

    bucket: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", description="Cloud Storage bucket (FUSE)"
    )
    mount_options: list[str] = Field(
        default_factory=list, description="Cloud Storage FUSE mount options, e.g. implicit-dirs"
    )
    nfs_server: str | None = Field(default=None, description="NFS server address, e.g. a Filestore IP")
    nfs_path: str = Field(default="/", description="The exported folder on the NFS server")

    @model_validator(mode="after")
    def _one_source(self) -> CloudRunCache:
        if (self.bucket is None) == (self.nfs_server is None):
            raise ValueError("set either bucket (Cloud Storage FUSE) or nfs_server (NFS), not both")
        if self.mount_options and self.bucket is None:
            raise ValueError("mount_options are Cloud Storage FUSE options; they need bucket")
        if not self.nfs_path.startswith("/"):
            raise ValueError(f"nfs_path {self.nfs_path!r} must be absolute, e.g. /pushflow")
        return self


class CloudRunJob(JobVariables):
    project: str = Field(description="Google Cloud project id the jobs are created in")
    region: str = Field(description="Cloud Run region, e.g. europe-west1")
    image: str = Field(
        description="Container image with pushflow installed, e.g. europe-docker.pkg.dev/PROJECT/REPO/flows:1"
    )
    command: list[str] | None = Field(
        default=None, description=f"Container command; default {' '.join(DEFAULT_COMMAND)}"
    )
    cpu: str = Field(default="1", description="CPU limit: 1, 2, 4, 8 or a fraction like 0.5")
    memory: str = Field(default="512Mi", description="Memory limit, e.g. 512Mi or 2Gi")
    timeout: int = Field(
        default=3600,
        ge=1,
        le=MAX_TIMEOUT_SECONDS,
        description="Seconds a run may take before Cloud Run stops it (up to 168 h)",
    )
    max_retries: int = Field(
        default=0,
        ge=0,
        le=10,
        description="Times Cloud Run restarts a failed task (flow retries are separate)",
    )
    service_account: str | None = Field(default=None, description="Service account the run acts as")
    vpc_connector: str | None = Field(default=None, description="Serverless VPC Access connector name")
    network: str | None = Field(default=None, description="VPC network for direct VPC egress")
    subnetwork: str | None = Field(default=None, description="Subnetwork for direct VPC egress")
    vpc_egress: Literal["all-traffic", "private-ranges-only"] = Field(
        default="private-ranges-only", description="Which traffic goes through the VPC"
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables")
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables from Secret Manager: NAME -> SECRET[:VERSION] or "
        "projects/P/secrets/SECRET/versions/V (version defaults to latest)",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Labels on each run's job")
    deps_cache: CloudRunCache | None = Field(
        default=None, description="A Cloud Storage or NFS volume for the runtime's requirements cache"
    )
    api_endpoint: str | None = Field(
        default=None,
        description="Cloud Run API endpoint override: a regional or private https endpoint, "
        "or http://host:port for an emulator (then credentials must be anonymous)",
    )
    credentials: str = Field(
        default="default",
        description="'default' (Application Default Credentials), 'anonymous' (no token: "
        "emulators), or the path of a service-account key file",
    )
    ca_bundle: str | None = Field(
        default=None,
        description="PEM file of CAs to trust for api_endpoint and logging_endpoint "
        "(TLS-intercepting proxies, private endpoints)",
    )
    logging_endpoint: str | None = Field(
        default=None,
        description="Cloud Logging endpoint for `runs logs`; default https://logging.googleapis.com "
        "(never derived from api_endpoint)",
    )

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(value):
            raise ValueError(f"{value!r} is not a memory size; use a number with Mi or Gi, e.g. 512Mi")
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [ref for ref in value.values() if not _SECRET.match(ref)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a secret reference; use SECRET, SECRET:VERSION or "
                "projects/P/secrets/SECRET/versions/V"
            )
        return value

    @field_validator("api_endpoint", "logging_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} needs a scheme: https://host for Google, http://host:port for an emulator")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _no_token_over_plain_http(self) -> CloudRunJob:
        plain = [e for e in (self.api_endpoint, self.logging_endpoint) if e and e.startswith("http://")]
        if plain and self.credentials != "anonymous":
            raise ValueError(
                f"{plain[0]} is plain http: Google credentials are never sent there; "
                "set credentials=anonymous (emulators) or use an https endpoint"
            )
        return self

    @model_validator(mode="after")
    def _one_kind_of_vpc(self) -> CloudRunJob:
        if self.vpc_connector and (self.network or self.subnetwork):
            raise ValueError("set either vpc_connector or network/subnetwork (direct VPC egress), not both")
        return self

    @model_validator(mode="after")
    def _nfs_needs_a_vpc(self) -> CloudRunJob:
        # An NFS server (Filestore) has a private address: the job reaches it only through
        # a VPC connector or direct VPC egress ("Configure NFS volume mounts for jobs").
        if self.deps_cache and self.deps_cache.nfs_server and not (self.vpc_connector or self.network):
            raise ValueError("an NFS deps_cache needs vpc_connector or network (direct VPC egress) to reach the server")
        return self
