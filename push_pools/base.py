"""The adapter protocol and the typed records passed across it.

Adapters are stateless; everything needed to reach a run is in its `InfraRef`. An adapter
keeps no file, thread or cache that another control-plane process would need: the id and
`locator` it returns from `submit` are persisted by the control plane (one row per attempt),
and any process -- a fresh Lambda invocation, a second replica, a restarted server with an
empty home -- builds a new adapter and passes that ref back to `status`, `cancel`, `logs`
and `release`.

    PushPool[J]         kind, Job, submit, status, cancel, logs, release
    BatchedStatus       optional: statuses(refs), up to `max_batch` per provider call
    Provisioning        optional: provision(defaults, report) for `pushflow pool provision`
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from push_pools.errors import JobConfigError


class JobVariables(BaseModel):
    """Base of each pool type's job template: fields with defaults, validated before submit."""

    model_config = ConfigDict(extra="forbid")

    env: dict[str, str] = {}
    command: list[str] | None = None


J = TypeVar("J", bound=JobVariables)
J_contra = TypeVar("J_contra", bound=JobVariables, contravariant=True)


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What to start: the run's id, how to call back, and its labels."""

    run_id: str
    env: Mapping[str, str]
    # Secrets (the run token): handed to the provider as secrets where it can; never logged.
    secret_env: Mapping[str, str] = dataclasses.field(repr=False, default_factory=dict)
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Submission attempt (a flow or infrastructure retry is a new attempt on new
    # infrastructure); submitting the same attempt again must not start a second one.
    attempt: int = 1

    @property
    def idempotency_token(self) -> str:
        """Run id and attempt: one piece of infrastructure per token, ever."""
        return f"pushflow-{self.run_id}" if self.attempt <= 1 else f"pushflow-{self.run_id}-{self.attempt}"


@dataclasses.dataclass(frozen=True)
class InfraRef:
    """Where an attempt went: the provider's id, and in `locator` whatever else status,
    cancel, logs and release need to reach it (endpoint override, region, cluster,
    credential kind, per-run resources to delete). Persisted by the control plane."""

    provider: str
    id: str
    locator: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
    console_url: str | None = None


class InfraPhase(str, enum.Enum):
    PENDING = "pending"  # accepted, not started (pulling, provisioning)
    RUNNING = "running"
    EXITED = "exited"  # ended: see exit_code and reason
    MISSING = "missing"  # the provider has no record of it


@dataclasses.dataclass(frozen=True)
class InfraStatus:
    phase: InfraPhase
    exit_code: int | None = None
    reason: str | None = None
    # True when the infrastructure failed in a way worth another try (capacity, spot).
    retryable: bool = False

    @property
    def ended(self) -> bool:
        return self.phase in (InfraPhase.EXITED, InfraPhase.MISSING)


@dataclasses.dataclass(frozen=True)
class Released:
    """What `release` saw before it deleted an attempt's resources."""

    last_status: InfraStatus
    log_tail: Sequence[str] = ()


class PushPool(Protocol[J_contra]):
    """One provider. Adapters are stateless; everything needed to reach a run is in its
    `InfraRef`. Adapters report facts; the control plane decides run states."""

    kind: ClassVar[str]

    @property
    def Job(self) -> type[JobVariables]:  # noqa: N802 - a class attribute in every adapter
        """The pool's job template (pydantic model of its job variables)."""
        ...

    def submit(self, run: RunSpec, job: J_contra, *, timeout: float) -> InfraRef:
        """Start `run` at most once per `run.idempotency_token` (run id and attempt), and
        return as soon as the provider accepted it -- never wait for provisioning. A
        repeated call, from any process, returns the same infrastructure."""
        ...

    def status(self, ref: InfraRef) -> InfraStatus:
        """A pure read: never deletes, stops or caches."""
        ...

    def cancel(self, ref: InfraRef, *, grace: float) -> None:
        """Ask the infrastructure to stop (SIGTERM, then SIGKILL after `grace` seconds
        where the provider lets us choose)."""
        ...

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]: ...

    def release(self, ref: InfraRef) -> Released:
        """Delete every per-run resource of an ended attempt (stopping it first if it is
        still alive); idempotent: releasing twice, or what is already gone, is fine."""
        ...


@runtime_checkable
class BatchedStatus(Protocol):
    """An adapter that reads many refs in one provider call (ECS describe_tasks: 100)."""

    max_batch: ClassVar[int]

    def statuses(self, refs: Sequence[InfraRef]) -> dict[str, InfraStatus]:
        """Status of each ref, by `ref.id`; pure reads, like `status`."""
        ...


@runtime_checkable
class Provisioning(Protocol):
    """An adapter that can create the cloud side a pool needs (`pushflow pool provision`)."""

    def provision(self, defaults: Mapping[str, Any], report: Callable[[str], Any] = print) -> dict[str, Any]: ...


def parse_job(job_cls: type[J], *layers: Mapping[str, Any]) -> J:
    """Merge job variables (later layers win; `env` merges key by key) and validate them."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key == "env" and isinstance(value, Mapping):
                merged["env"] = {**merged.get("env", {}), **value}
            else:
                merged[key] = value
    try:
        return job_cls.model_validate(merged)
    except ValidationError as exc:
        errors = [{"variable": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        text = "; ".join(f"{e['variable']}: {e['message']}" for e in errors)
        raise JobConfigError(f"invalid job variables: {text}", errors) from None
