"""A test pool type that counts submissions at the adapter: each submit appends the run
id to a file (O_APPEND, so several dispatcher processes can share it). Infrastructure
"runs" until cancelled, or exits at once with `exits`; a job variable makes submit fail
like a provider would. With `release_file`, each release appends the infra id to it (as
submit does), so releases can be counted across processes: everything the other calls
need travels in the ref's locator, as a stateless adapter's must."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal

from push_pools import registry
from push_pools.base import InfraPhase, InfraRef, InfraStatus, JobVariables, Released, RunSpec
from push_pools.errors import CapacityError, SubmissionError

POOL_TYPE = "counting"


class CountingJob(JobVariables):
    count_file: str
    fail: Literal["capacity", "fatal"] | None = None
    exits: bool = False  # the infrastructure ends at once (exit 0, no final state reported)
    release_file: str | None = None


class CountingPool:
    kind: ClassVar[str] = POOL_TYPE
    Job: ClassVar[type[CountingJob]] = CountingJob
    ended: ClassVar[dict[str, InfraStatus]] = {}  # infra id -> how it ended (tests set this)
    cancelled: ClassVar[list[str]] = []  # infra ids, once per cancel call
    released: ClassVar[list[str]] = []  # infra ids, in release order

    def submit(self, run: RunSpec, job: CountingJob, *, timeout: float = 30.0) -> InfraRef:
        if job.fail == "capacity":
            raise CapacityError("no Fargate capacity in eu-west-1a (simulated)")
        if job.fail == "fatal":
            raise SubmissionError("image 'nope:latest' not found (simulated)")
        _append(
            job.count_file,
            f"{run.run_id} {run.idempotency_token} {os.getpid()} {run.secret_env.get('PUSHFLOW_RUN_TOKEN', '')}",
        )
        locator = {"exits": "1" if job.exits else "", "release_file": job.release_file or ""}
        return InfraRef(provider=POOL_TYPE, id=run.idempotency_token, locator=locator)

    def status(self, ref: InfraRef) -> InfraStatus:
        if ref.locator.get("exits"):
            return InfraStatus(InfraPhase.EXITED, exit_code=0, reason="exited (simulated)")
        return self.ended.get(ref.id, InfraStatus(InfraPhase.RUNNING))

    def cancel(self, ref: InfraRef, *, grace: float = 10.0) -> None:
        self.cancelled.append(ref.id)
        self.ended[ref.id] = InfraStatus(InfraPhase.EXITED, exit_code=143, reason="stopped on request")

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        return []

    def release(self, ref: InfraRef) -> Released:
        self.released.append(ref.id)
        if ref.locator.get("release_file"):
            _append(ref.locator["release_file"], f"{ref.id} {os.getpid()}")
        return Released(self.status(ref))


def _append(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def register() -> None:
    registry.register(POOL_TYPE, CountingPool)


def submissions(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split(" ") for line in path.read_text().splitlines()]
