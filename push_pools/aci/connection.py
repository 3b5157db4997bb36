"""How to reach ARM: the endpoint settings a run's group was created with, the lazily
imported SDK, credentials, and a client configured for short polls and retried 5xx."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from push_pools.aci.job import ACCESS_TOKEN_ENV, CREDENTIAL_ENV, PUBLIC_CLOUD, AciJob, check_credential
from push_pools.errors import JobConfigError, MissingDependencyError

_INSTALL_HINT = 'pip install "pushflow[azure]"'


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Everything but the subscription needed to call ARM; kept in each ref's locator so
    any process reaches the group the way submit did."""

    base_url: str = PUBLIC_CLOUD
    ca_bundle: str | None = None
    credential: str = "default"
    token_scope: str | None = None
    polling_interval: float = 1.0
    request_retries: int = 6

    @classmethod
    def of(cls, job: AciJob) -> Endpoint:
        credential = job.credential or os.environ.get(CREDENTIAL_ENV) or "default"
        try:
            check_credential(credential)
        except ValueError as exc:
            raise JobConfigError(f"{CREDENTIAL_ENV}: {exc}") from None
        return cls(job.base_url, job.ca_bundle, credential, job.token_scope, job.polling_interval, job.request_retries)

    def to_locator(self) -> dict[str, str]:
        out = {
            "base_url": self.base_url,
            "credential": self.credential,
            "polling_interval": f"{self.polling_interval:g}",
            "request_retries": str(self.request_retries),
        }
        if self.ca_bundle:
            out["ca_bundle"] = self.ca_bundle
        if self.token_scope:
            out["token_scope"] = self.token_scope
        return out

    @classmethod
    def from_locator(cls, locator: Mapping[str, str]) -> Endpoint:
        return cls(
            base_url=locator.get("base_url", PUBLIC_CLOUD),
            ca_bundle=locator.get("ca_bundle"),
            credential=locator.get("credential", "default"),
            token_scope=locator.get("token_scope"),
            polling_interval=float(locator.get("polling_interval", "1")),
            request_retries=int(locator.get("request_retries", "6")),
        )

    @property
    def scope(self) -> str:
        # Sovereign clouds and proxies take tokens for their own audience.
        return self.token_scope or f"{self.base_url}/.default"


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
    if kind == "access_token":
        return _EnvironmentToken()
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
    if endpoint.base_url != PUBLIC_CLOUD or endpoint.token_scope:
        extra["credential_scopes"] = [endpoint.scope]
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


class _EnvironmentToken:
    """A TokenCredential whose token is read from the environment at each use (a proxy's
    token, or `az account get-access-token`); never stored in a locator."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        token = os.environ.get(ACCESS_TOKEN_ENV)
        if not token:
            raise JobConfigError(f"credential access_token: set {ACCESS_TOKEN_ENV} on the control plane")
        return AccessToken(token, int(time.time()) + 300)
