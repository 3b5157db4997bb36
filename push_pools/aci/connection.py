"""How to reach ARM: the endpoint settings a run's group was created with, the lazily
imported SDK, credentials, and a client configured for short polls and retried 5xx."""

from __future__ import annotations

import dataclasses
import importlib
import logging
from typing import Any

from push_pools.aci.job import PUBLIC_CLOUD, AciJob
from push_pools.errors import JobConfigError, MissingDependencyError

_INSTALL_HINT = 'pip install "pushflow[azure]"'


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Everything but the subscription needed to call ARM; stored with each group so
    status, cancel and logs reach it the way submit did."""

    base_url: str = PUBLIC_CLOUD
    ca_bundle: str | None = None
    credential: str = "default"
    polling_interval: float = 1.0
    request_retries: int = 6

    @classmethod
    def of(cls, job: AciJob) -> Endpoint:
        return cls(job.base_url, job.ca_bundle, job.credential, job.polling_interval, job.request_retries)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Endpoint:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})


def sdk() -> Any:
    """The `azure.mgmt.containerinstance` package, imported on first use."""
    try:
        return importlib.import_module("azure.mgmt.containerinstance")
    except ImportError as exc:
        raise MissingDependencyError(
            f"the aci pool needs azure-mgmt-containerinstance ({exc.name} is missing): {_INSTALL_HINT}"
        ) from exc


def models() -> Any:
    return importlib.import_module("azure.mgmt.containerinstance.models")


def make_credential(kind: str) -> Any:
    """A TokenCredential for `kind` (see AciJob.credential)."""
    if ":" in kind:
        module_name, _, attr = kind.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise JobConfigError(f"credential {kind!r}: cannot import {attr} from {module_name}: {exc}") from exc
        return factory()
    try:
        identity = importlib.import_module("azure.identity")
    except ImportError as exc:
        raise MissingDependencyError(f"the aci pool needs azure-identity: {_INSTALL_HINT}") from exc
    classes = {
        "default": "DefaultAzureCredential",
        "environment": "EnvironmentCredential",
        "managed_identity": "ManagedIdentityCredential",
        "workload_identity": "WorkloadIdentityCredential",
        "azure_cli": "AzureCliCredential",
    }
    return getattr(identity, classes[kind])()


def make_client(endpoint: Endpoint, subscription_id: str, credential: Any) -> Any:
    # azure-core logs every request and response at INFO: too loud for a server log,
    # unless the operator asked for it by setting that logger's level.
    http_log = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
    if http_log.level == logging.NOTSET:
        http_log.setLevel(logging.WARNING)
    extra: dict[str, Any] = {}
    if endpoint.base_url != PUBLIC_CLOUD:  # sovereign clouds take tokens for their own audience
        extra["credential_scopes"] = [f"{endpoint.base_url}/.default"]
    return sdk().ContainerInstanceManagementClient(
        credential,
        subscription_id,
        base_url=endpoint.base_url,
        connection_verify=endpoint.ca_bundle or True,
        # The SDK polls long-running operations every 30 s by default: that would be run latency.
        polling_interval=endpoint.polling_interval,
        # Transient 5xx/429/network failures are retried with exponential backoff (0, 1, 2, 4… s):
        # one unretried 503 must never leave a run stuck.
        retry_total=endpoint.request_retries,
        retry_backoff_factor=0.5,
        retry_backoff_max=16,
        connection_timeout=15,
        read_timeout=60,
        **extra,
    )
