"""The adapter protocol and the typed records passed across it."""

from __future__ import annotations

import builtins
import dataclasses
import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from push_pools.errors import JobConfigError


class JobVariables(BaseModel):
    """Base of each pool type's job template: fields with defaults, validated before submit."""

    model_config = ConfigDict(extra="forbid")

    env: dict[str, str] = {}
    command: list[str] | None = None


J = TypeVar("J", bound=JobVariables)


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
        return f"pushflow-{self.run_id}" if self.attempt <= 1 else f"pushflow-{self.run_id}-{self.attempt}"


@dataclasses.dataclass(frozen=True)
class InfraRef:
    """Where a run went: enough to find it again after a restart."""

    provider: str
    id: str
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
class PoolContext:
    """What the control plane lends every adapter."""

    state_dir: Path


class PushPool(Protocol):
    type: ClassVar[str]
    Job: ClassVar[builtins.type[JobVariables]]

    def submit(self, run: RunSpec, job: Any) -> InfraRef:
        """Start `run`; calling it again for the same run must not start a second one."""

    def status(self, ref: InfraRef) -> InfraStatus: ...

    def cancel(self, ref: InfraRef, *, grace_seconds: float = 10.0) -> None: ...

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]: ...


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
