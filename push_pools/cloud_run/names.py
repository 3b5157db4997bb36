"""Names Cloud Run accepts, and the run reference that finds an execution again after a
restart (the adapter is shared by every cloud-run pool, so it must carry its endpoint)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlencode

MANAGED_LABEL = "pushflow-managed"  # on every job this pool creates; what the janitor sweeps
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


@dataclasses.dataclass(frozen=True)
class ExecutionRef:
    execution: str  # projects/P/locations/R/jobs/J/executions/E
    api_endpoint: str | None = None
    logging_endpoint: str | None = None

    @property
    def job(self) -> str:
        return self.execution.split("/executions/", 1)[0]

    @property
    def project(self) -> str:
        return self.execution.split("/")[1]

    @property
    def region(self) -> str:
        return self.execution.split("/")[3]

    @property
    def short_name(self) -> str:
        return self.execution.rsplit("/", 1)[-1]

    @property
    def console_url(self) -> str:
        return (
            f"https://console.cloud.google.com/run/jobs/executions/details/{self.region}/"
            f"{quote(self.short_name)}/tasks?project={quote(self.project)}"
        )

    def to_id(self) -> str:
        extra = {k: v for k, v in (("api", self.api_endpoint), ("logging", self.logging_endpoint)) if v}
        return f"{self.execution}?{urlencode(extra)}" if extra else self.execution

    @classmethod
    def parse(cls, infra_id: str) -> ExecutionRef:
        execution, _, query = infra_id.partition("?")
        extra = dict(parse_qsl(query))
        if not re.match(r"^projects/[^/]+/locations/[^/]+/jobs/[^/]+/executions/[^/]+$", execution):
            raise ValueError(f"{infra_id!r} is not a Cloud Run execution reference")
        return cls(execution, extra.get("api"), extra.get("logging"))
