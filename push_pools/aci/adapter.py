"""The `aci` pool: each run attempt is one Azure container group, named from its
idempotency token (run id and attempt).

submit   GET the group (a retried submit, from any process, finds it), else PUT it and
         return once ARM accepted it (201), without waiting for provisioning. azure-core's
         own retry of that PUT is switched off: a PUT whose answer was lost, re-sent, would
         update the group and restart its containers. The GET-then-PUT loop retries instead.
status   the group's instance view: a pure read
cancel   stop the group (ACI has no grace period)
release  keep the log tail, then delete the group (or stop and keep it: `keep_after_completion`)

The ref's id is the group's ARM resource id; its locator holds how to reach ARM (endpoint,
CA bundle, credential kind, token scope, polling) and the container's name.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from push_pools.aci.connection import Endpoint, make_client, make_credential, sdk
from push_pools.aci.errors import arm_errors
from push_pools.aci.group import container_group_for
from push_pools.aci.job import AciJob
from push_pools.aci.resources import GroupAddress, group_name
from push_pools.aci.status import status_of
from push_pools.base import InfraPhase, InfraRef, InfraStatus, Released, RunSpec
from push_pools.errors import ProviderUnavailableError, PushPoolError

_LOG_TAIL = 200
# ARM's stop is a POST, which azure-core does not retry by default; stopping twice is harmless.
_RETRY_STOP = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"})


class AciPool:
    kind: ClassVar[str] = "aci"
    Job: ClassVar[type[AciJob]] = AciJob

    def __init__(self, *, credential: Any = None) -> None:
        """`credential`: a TokenCredential to use instead of the one each ref names (tests)."""
        sdk()  # fail early, with the install hint, when the SDK is missing
        self._credential = credential
        self._clients: dict[tuple[Endpoint, str], Any] = {}  # SDK clients only, no run state
        self._lock = threading.Lock()

    def submit(self, run: RunSpec, job: AciJob, *, timeout: float = 30.0) -> InfraRef:
        address = GroupAddress(job.subscription_id, job.resource_group, group_name(run.idempotency_token))
        endpoint = Endpoint.of(job)
        locator = {**endpoint.to_locator(), "container": job.container_name}
        if job.keep_after_completion:
            locator["keep"] = "true"
        ref = InfraRef(provider=self.kind, id=address.id, locator=locator, console_url=address.portal_url)
        client = self._client(endpoint, address.subscription_id)
        groups = client.container_groups
        action = f"creating container group {address.name} in resource group {address.resource_group}"
        deadline = time.monotonic() + timeout
        while True:
            with arm_errors(action, endpoint.base_url):
                try:
                    groups.get(address.resource_group, address.name)
                    return ref  # submitted before: never start a run twice
                except _not_found():
                    pass
            try:
                with arm_errors(action, endpoint.base_url):
                    # polling=False: answered once ARM accepted the PUT (201), not provisioned.
                    body = container_group_for(run, job)
                    groups.begin_create_or_update(
                        address.resource_group, address.name, body, polling=False, retry_total=0
                    ).result()
                return ref
            except ProviderUnavailableError:
                if time.monotonic() + endpoint.polling_interval > deadline:
                    raise  # the next dispatch finds the group, if this PUT made it
                time.sleep(min(endpoint.polling_interval, 1.0))

    def status(self, ref: InfraRef) -> InfraStatus:
        try:
            address = GroupAddress.parse(ref.id)
        except ValueError as exc:
            return InfraStatus(InfraPhase.MISSING, reason=str(exc))
        endpoint = Endpoint.from_locator(ref.locator)
        client = self._client(endpoint, address.subscription_id)
        with arm_errors(f"reading container group {address.name}", endpoint.base_url):
            try:
                group = client.container_groups.get(address.resource_group, address.name)
            except _not_found():
                return InfraStatus(
                    InfraPhase.MISSING,
                    reason=f"container group {address.name} does not exist in resource group {address.resource_group}",
                )
        return status_of(group, ref.locator.get("container", "pushflow"))

    def cancel(self, ref: InfraRef, *, grace: float = 0.0) -> None:
        # ACI has no stop grace period: stop kills the containers at once.
        self._stop(ref)

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        address = GroupAddress.parse(ref.id)
        endpoint = Endpoint.from_locator(ref.locator)
        client = self._client(endpoint, address.subscription_id)
        container = ref.locator.get("container", "pushflow")
        with arm_errors(f"reading the logs of container group {address.name}", endpoint.base_url):
            try:
                found = client.containers.list_logs(address.resource_group, address.name, container, tail=limit)
            except _not_found():
                return []
        return (found.content or "").splitlines()[-limit:]

    def release(self, ref: InfraRef) -> Released:
        address = GroupAddress.parse(ref.id)
        endpoint = Endpoint.from_locator(ref.locator)
        status = self.status(ref)
        if status.phase is InfraPhase.MISSING:
            return Released(status)
        try:
            tail = self.logs(ref, limit=_LOG_TAIL)
        except PushPoolError:
            tail = []
        if ref.locator.get("keep") == "true":
            self._stop(ref)
            return Released(status, tail)
        client = self._client(endpoint, address.subscription_id)
        with arm_errors(f"deleting container group {address.name}", endpoint.base_url):
            try:  # accepted (202) is enough: ARM finishes the delete on its own
                client.container_groups.begin_delete(address.resource_group, address.name, polling=False).result()
            except _not_found():
                pass
        return Released(status, tail)

    def _stop(self, ref: InfraRef) -> None:
        address = GroupAddress.parse(ref.id)
        endpoint = Endpoint.from_locator(ref.locator)
        client = self._client(endpoint, address.subscription_id)
        with arm_errors(f"stopping container group {address.name}", endpoint.base_url):
            try:
                client.container_groups.stop(address.resource_group, address.name, retry_on_methods=_RETRY_STOP)
            except _not_found():
                pass

    def _client(self, endpoint: Endpoint, subscription_id: str) -> Any:
        with self._lock:
            key = (endpoint, subscription_id)
            if key not in self._clients:
                credential = self._credential or make_credential(endpoint.credential)
                self._clients[key] = make_client(endpoint, subscription_id, credential)
            return self._clients[key]


def _not_found() -> type[Exception]:
    from azure.core.exceptions import ResourceNotFoundError

    return ResourceNotFoundError
