"""The `aci` pool: each run is one Azure container group, named from the run id.

submit  GET the group (a retried submit finds it), else PUT it and wait for provisioning
status  the group's instance view; when it first shows the run ended, keep its logs and
        exit status, then delete the group (or stop and keep it, `keep_after_completion`);
        a Cleaner keeps asking about groups whose runs nobody else watches
cancel  stop, then delete, the group
logs    containers.list_logs; after clean-up, the tail kept before deleting
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from pathlib import Path
from typing import Any, ClassVar

from push_pools.aci.cleanup import Cleaner
from push_pools.aci.connection import Endpoint, make_client, make_credential, sdk
from push_pools.aci.errors import arm_errors
from push_pools.aci.group import container_group_for
from push_pools.aci.job import AciJob
from push_pools.aci.resources import GroupAddress, group_name
from push_pools.aci.status import status_of
from push_pools.base import InfraPhase, InfraRef, InfraStatus, PoolContext, RunSpec
from push_pools.errors import ProviderUnavailableError, PushPoolError

log = logging.getLogger("pushflow.pools.aci")

_PROVISION_WAIT = 120.0  # then the reconciler watches the group instead of submit
_KEPT_LOG_LINES = 1000
# ARM's stop is a POST, which azure-core does not retry by default; stopping twice is harmless.
_RETRY_STOP = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"})


@dataclasses.dataclass
class GroupRecord:
    """What this adapter knows about a group it created; kept in the state dir so a
    restarted control plane reaches the group the way submit did."""

    endpoint: Endpoint
    container_name: str = "pushflow"
    keep: bool = False
    final: InfraStatus | None = None  # set once the group is cleaned up
    logs: list[str] = dataclasses.field(default_factory=list)

    def to_json(self) -> str:
        final = None
        if self.final is not None:
            final = {**dataclasses.asdict(self.final), "phase": self.final.phase.value}
        return json.dumps(
            {
                "endpoint": dataclasses.asdict(self.endpoint),
                "container_name": self.container_name,
                "keep": self.keep,
                "final": final,
                "logs": self.logs,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> GroupRecord:
        data = json.loads(text)
        final = data.get("final")
        return cls(
            endpoint=Endpoint.from_dict(data.get("endpoint") or {}),
            container_name=data.get("container_name", "pushflow"),
            keep=bool(data.get("keep")),
            final=InfraStatus(**{**final, "phase": InfraPhase(final["phase"])}) if final else None,
            logs=list(data.get("logs") or []),
        )


class AciPool:
    Job: ClassVar[type[AciJob]] = AciJob  # (before `type`, which shadows the builtin below it)
    type: ClassVar[str] = "aci"

    def __init__(
        self,
        context: PoolContext,
        *,
        credential: Any = None,
        endpoint: Endpoint | None = None,
        cleanup_interval: float = 2.0,
    ) -> None:
        sdk()  # fail early, with the install hint, when the SDK is missing
        self._dir = context.state_dir / "aci"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._credential = credential  # tests inject one; otherwise chosen by the job
        # For groups with no record here (made by another host whose state dir is gone).
        self._default_endpoint = endpoint or Endpoint()
        self._credentials: dict[str, Any] = {}
        self._clients: dict[tuple[Endpoint, str], Any] = {}
        self._records: dict[str, GroupRecord] = {}
        self._lock = threading.RLock()
        self._finish_lock = threading.Lock()
        self._cleaner = Cleaner(lambda ref: self.status(ref).ended, interval=cleanup_interval)

    def submit(self, run: RunSpec, job: AciJob) -> InfraRef:
        address = GroupAddress(job.subscription_id, job.resource_group, group_name(run.idempotency_token))
        record = GroupRecord(Endpoint.of(job), job.container_name, job.keep_after_completion)
        self._save(address, record)
        client = self._client(record.endpoint, address.subscription_id)
        ref = InfraRef(provider=self.type, id=address.id, console_url=address.portal_url)
        action = f"creating container group {address.name} in resource group {address.resource_group}"
        not_found = _not_found()
        with arm_errors(action, record.endpoint.base_url):
            try:
                client.container_groups.get(address.resource_group, address.name)
                self._cleaner.watch(ref)
                return ref  # submitted before: never start a run twice
            except not_found:
                pass
            poller = client.container_groups.begin_create_or_update(
                address.resource_group, address.name, container_group_for(run, job)
            )
        try:
            with arm_errors(action, record.endpoint.base_url):
                poller.result(timeout=_PROVISION_WAIT)
        except ProviderUnavailableError as exc:  # accepted; the reconciler will follow it
            log.warning("%s: provisioning not confirmed: %s", address.name, exc)
        except PushPoolError:
            self._clean_up(address, record, client)  # a failed group must not linger
            raise
        self._cleaner.watch(ref)
        return ref

    def status(self, ref: InfraRef) -> InfraStatus:
        try:
            address = GroupAddress.parse(ref.id)
        except ValueError as exc:
            return InfraStatus(InfraPhase.MISSING, reason=str(exc))
        record = self._record(address)
        if record.final is not None:
            return record.final
        client = self._client(record.endpoint, address.subscription_id)
        with arm_errors(f"reading container group {address.name}", record.endpoint.base_url):
            try:
                group = client.container_groups.get(address.resource_group, address.name)
            except _not_found():
                return InfraStatus(
                    InfraPhase.MISSING,
                    reason=(
                        f"container group {address.name} no longer exists in resource group "
                        f"{address.resource_group}; it was deleted outside pushflow"
                    ),
                )
        status = status_of(group, record.container_name)
        if status.ended:
            self._finish(address, record, client, status)
        return status

    def cancel(self, ref: InfraRef, *, grace_seconds: float = 10.0) -> None:
        # ACI has no stop grace period: stop kills the containers at once.
        address = GroupAddress.parse(ref.id)
        record = self._record(address)
        if record.final is not None:
            return
        client = self._client(record.endpoint, address.subscription_id)
        with arm_errors(f"stopping container group {address.name}", record.endpoint.base_url):
            try:
                client.container_groups.stop(address.resource_group, address.name, retry_on_methods=_RETRY_STOP)
                group = client.container_groups.get(address.resource_group, address.name)
            except _not_found():
                return
        seen = status_of(group, record.container_name)
        self._finish(
            address,
            record,
            client,
            InfraStatus(
                InfraPhase.EXITED,
                exit_code=seen.exit_code,
                reason=f"container group {address.name} was stopped by a cancel request",
            ),
        )

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        address = GroupAddress.parse(ref.id)
        record = self._record(address)
        if record.final is not None and not record.keep:
            return record.logs[-limit:]
        client = self._client(record.endpoint, address.subscription_id)
        with arm_errors(f"reading the logs of container group {address.name}", record.endpoint.base_url):
            try:
                found = client.containers.list_logs(
                    address.resource_group, address.name, record.container_name, tail=limit
                )
            except _not_found():
                return record.logs[-limit:]
        return (found.content or "").splitlines()[-limit:] or record.logs[-limit:]

    # -- clean-up ---------------------------------------------------------------------

    def _finish(self, address: GroupAddress, record: GroupRecord, client: Any, status: InfraStatus) -> None:
        """Keep the logs and final status, then delete (or stop and keep) the group. When
        Azure is unreachable nothing is marked final, so the next status call tries again."""
        with self._finish_lock:  # the reconciler and the cleaner may both see it end
            if record.final is None:
                self._finish_once(address, record, client, status)

    def _finish_once(self, address: GroupAddress, record: GroupRecord, client: Any, status: InfraStatus) -> None:
        try:
            with arm_errors(f"cleaning up container group {address.name}", record.endpoint.base_url):
                try:
                    found = client.containers.list_logs(
                        address.resource_group,
                        address.name,
                        record.container_name,
                        tail=_KEPT_LOG_LINES,
                    )
                    record.logs = (found.content or "").splitlines()
                except _not_found():
                    pass
            self._clean_up(address, record, client)
        except PushPoolError as exc:
            log.warning("%s ended but could not be cleaned up yet: %s", address.name, exc)
            return
        record.final = status
        self._save(address, record)

    def _clean_up(self, address: GroupAddress, record: GroupRecord, client: Any) -> None:
        groups = client.container_groups
        with arm_errors(f"cleaning up container group {address.name}", record.endpoint.base_url):
            try:
                if record.keep:
                    groups.stop(address.resource_group, address.name, retry_on_methods=_RETRY_STOP)
                else:  # the delete finishes in the poller's background thread
                    groups.begin_delete(address.resource_group, address.name)
            except _not_found():
                pass

    # -- records and clients ----------------------------------------------------------

    def _path(self, address: GroupAddress) -> Path:
        return self._dir / f"{address.subscription_id}.{address.resource_group}.{address.name}.json"

    def _save(self, address: GroupAddress, record: GroupRecord) -> None:
        with self._lock:
            self._records[address.id.lower()] = record
            self._path(address).write_text(record.to_json())

    def _record(self, address: GroupAddress) -> GroupRecord:
        with self._lock:
            record = self._records.get(address.id.lower())
            if record is None:
                path = self._path(address)
                if path.exists():
                    record = GroupRecord.from_json(path.read_text())
                else:
                    record = GroupRecord(self._default_endpoint)
                self._records[address.id.lower()] = record
            return record

    def _client(self, endpoint: Endpoint, subscription_id: str) -> Any:
        with self._lock:
            key = (endpoint, subscription_id)
            if key not in self._clients:
                credential = self._credential
                if credential is None:
                    if endpoint.credential not in self._credentials:
                        self._credentials[endpoint.credential] = make_credential(endpoint.credential)
                    credential = self._credentials[endpoint.credential]
                self._clients[key] = make_client(endpoint, subscription_id, credential)
            return self._clients[key]


def _not_found() -> type[Exception]:
    from azure.core.exceptions import ResourceNotFoundError

    return ResourceNotFoundError
