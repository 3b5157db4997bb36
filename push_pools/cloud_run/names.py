"""Names Cloud Run accepts, and the address an InfraRef's id gives (execution or job)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from urllib.parse import quote

MANAGED_LABEL = "pushflow-managed"  # on every job this pool creates
_NOT_LABEL = re.compile(r"[^a-z0-9_-]")


def job_id(idempotency_token: str) -> str:
    """One job per run attempt, named from its idempotency token (`pushflow-<run id>[-N]`):
    a retried submit finds it instead of creating a twin."""
    clean = _NOT_LABEL.sub("-", idempotency_token.lower()).replace("_", "-").strip("-")
    if not clean[:1].isalpha():
        clean = f"pf-{clean}"
    return clean[:63].rstrip("-")


def labels(*layers: Mapping[str, str]) -> dict[str, str]:
    """Cloud Run labels: lowercase letters, digits, '_' and '-', keys starting with a letter."""
    out: dict[str, str] = {}
    for layer in layers:
        for key, value in layer.items():
            k = _NOT_LABEL.sub("-", key.lower())[:63]
            if not k[:1].isalpha():
                k = f"l-{k}"[:63]
            out[k] = _NOT_LABEL.sub("-", str(value).lower())[:63]
    return out


_EXECUTION = re.compile(r"^projects/[^/]+/locations/[^/]+/jobs/[^/]+/executions/[^/]+$")
_JOB = re.compile(r"^projects/[^/]+/locations/[^/]+/jobs/[^/]+$")


@dataclasses.dataclass(frozen=True)
class RunAddress:
    """A ref's id: the execution (`projects/P/locations/R/jobs/J/executions/E`), or only
    the job when it never ran (its create operation failed, and the job still exists)."""

    name: str

    @classmethod
    def parse(cls, infra_id: str) -> RunAddress:
        if not (_EXECUTION.match(infra_id) or _JOB.match(infra_id)):
            raise ValueError(f"{infra_id!r} is not a Cloud Run execution or job name")
        return cls(infra_id)

    @property
    def execution(self) -> str | None:
        return self.name if "/executions/" in self.name else None

    @property
    def job(self) -> str:
        return self.name.split("/executions/", 1)[0]

    @property
    def project(self) -> str:
        return self.name.split("/")[1]

    @property
    def region(self) -> str:
        return self.name.split("/")[3]

    @property
    def short_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def console_url(self) -> str:
        if self.execution is None:
            return (
                f"https://console.cloud.google.com/run/jobs/details/{self.region}/"
                f"{quote(self.job.rsplit('/', 1)[-1])}?project={quote(self.project)}"
            )
        return (
            f"https://console.cloud.google.com/run/jobs/executions/details/{self.region}/"
            f"{quote(self.short_name)}/tasks?project={quote(self.project)}"
        )
