"""The `aci` job template: what one run's container group looks like, and how to reach ARM.

Values merge pool defaults < deployment job_variables < run job_variables (see
`push_pools.base.parse_job`) and are validated before submit.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from push_pools.base import JobVariables
from push_pools.deps_cache import CacheVolume

PUBLIC_CLOUD = "https://management.azure.com"
# Names for `credential`; anything else must be "package.module:factory".
CREDENTIAL_KINDS = ("default", "environment", "managed_identity", "workload_identity", "azure_cli", "access_token")
CREDENTIAL_ENV = "PUSHFLOW_AZURE_CREDENTIAL"  # the kind, when the pool does not set one
ACCESS_TOKEN_ENV = "PUSHFLOW_AZURE_ACCESS_TOKEN"  # the bearer token for kind access_token


def check_credential(value: str) -> str:
    if value in CREDENTIAL_KINDS or re.fullmatch(r"[\w.]+:\w+", value):
        return value
    raise ValueError(
        f"unknown credential {value!r}: use one of {', '.join(CREDENTIAL_KINDS)} or 'package.module:factory'"
    )


class RegistryCredential(BaseModel):
    """Pull access to a private registry: a managed identity (preferred) or a password."""

    model_config = ConfigDict(extra="forbid")

    server: str = Field(description="Registry host, e.g. myregistry.azurecr.io")
    username: str | None = None
    password: SecretStr | None = Field(default=None, description="Sent once at creation; never read back")
    identity: str | None = Field(default=None, description="Resource id of a user-assigned identity with AcrPull")


class DnsConfig(BaseModel):
    """The container group's DNS servers (and search domains)."""

    model_config = ConfigDict(extra="forbid")

    name_servers: list[str]
    search_domains: str | None = None
    options: str | None = None


class AzureFilesCache(CacheVolume):
    """An Azure Files share mounted into every run's container group as the requirements
    cache: the group's `volumes[].azureFile` and the container's `volumeMounts[]` (ARM
    Microsoft.ContainerInstance/containerGroups 2023-05-01, AzureFileVolume: shareName and
    storageAccountName required, storageAccountKey; "Mount an Azure file share in Azure
    Container Instances": Linux containers only, and the share must exist)."""

    storage_account_name: str = Field(pattern=r"^[a-z0-9]{3,24}$", description="The storage account holding the share")
    share_name: str = Field(description="The Azure Files share, e.g. pushflow-deps")
    storage_account_key: SecretStr = Field(
        description="The storage account key; sent once at creation, never read back"
    )

    @field_validator("share_name")
    @classmethod
    def _share_name(cls, value: str) -> str:
        # Azure Files share names: 3-63 lowercase letters, digits and single hyphens,
        # starting and ending with a letter or digit ("Naming and referencing shares").
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{1,61})[a-z0-9]", value) or "--" in value:
            raise ValueError(f"{value!r} is not a share name: 3-63 lowercase letters, digits and single hyphens")
        return value


class AciJob(JobVariables):
    subscription_id: str = Field(description="Azure subscription the container groups are created in")
    resource_group: str = Field(description="Resource group the container groups are created in")
    location: str = Field(description="Azure region, e.g. westeurope")
    image: str = Field(description="Container image with pushflow installed")
    cpu: float = Field(default=1.0, gt=0, le=4, description="vCPUs requested")
    memory_gb: float = Field(default=1.5, gt=0, le=16, description="Memory requested, in GB")
    env: dict[str, str] = Field(default_factory=dict, description="Plain environment variables")
    secure_env: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Environment variables sent as secureValue (never read back)",
    )
    command: list[str] | None = Field(default=["pushflow", "execute"], description="Container command")
    container_name: str = Field(default="pushflow", description="Name of the run's container in its group")
    identity: str | None = Field(
        default=None, description="Resource id of a user-assigned managed identity for the group"
    )
    subnet_ids: list[str] = Field(default_factory=list, description="Subnet resource ids (VNet injection)")
    dns_config: DnsConfig | None = None
    image_registry_credentials: list[RegistryCredential] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict, description="Extra ARM tags on each group")
    deps_cache: AzureFilesCache | None = Field(
        default=None, description="An Azure Files share for the runtime's requirements cache, shared by every run"
    )
    keep_after_completion: bool = Field(
        default=False,
        description="Stop and keep each group when its run ends (for its logs) instead of deleting it",
    )
    base_url: str = Field(
        default=PUBLIC_CLOUD,
        description="ARM endpoint (sovereign clouds, tests); https:// only",
        json_schema_extra={"pattern": "^https://"},  # checked below, with a message saying why
    )
    ca_bundle: str | None = Field(
        default=None,
        description="PEM file of CAs to trust for base_url (TLS-intercepting proxies, tests)",
    )
    credential: str | None = Field(
        default=None,
        description=f"How to authenticate: one of {', '.join(CREDENTIAL_KINDS)}, "
        "or 'package.module:factory' returning an azure.core TokenCredential; default: "
        f"${CREDENTIAL_ENV}, else 'default' (DefaultAzureCredential). access_token reads "
        f"the bearer token from ${ACCESS_TOKEN_ENV}",
    )
    token_scope: str | None = Field(
        default=None,
        description="OAuth scope to request tokens for (a proxy's audience); default <base_url>/.default",
    )
    polling_interval: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description="Seconds between polls of a long-running ARM operation",
    )
    request_retries: int = Field(
        default=6,
        ge=0,
        le=20,
        description="Retries of a request that failed transiently (5xx, 429, network)",
    )

    @field_validator("credential")
    @classmethod
    def _known_credential(cls, value: str | None) -> str | None:
        return value if value is None else check_credential(value)

    @field_validator("base_url")
    @classmethod
    def _https_only(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError(f"base_url {value!r} must start with https:// (ARM bearer tokens need TLS)")
        return value.rstrip("/")
