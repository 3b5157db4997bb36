"""The `cloud-run` pool: each run is one execution of its own Cloud Run job.

submit: create job `pushflow-<run id>[-attempt]` (a long-running operation, polled), then
  run it, unless the job already has an execution (a retried submit): then that is the run's.
status: the execution's counts and conditions, the task's exit code; once it has ended
  the job is deleted (its final status is remembered for later askers).
cancel: cancel the execution. logs: Cloud Logging, or the conditions and a console link.
"""

from __future__ import annotations

import builtins
import collections
import logging
import threading
from typing import Any, ClassVar

from push_pools.base import InfraPhase, InfraRef, InfraStatus, PoolContext, RunSpec
from push_pools.cloud_run.client import (
    LOGGING_ENDPOINT,
    Clients,
    CloudRunApi,
    CloudRunNotFoundError,
    google_errors,
    is_emulator,
    sdk,
)
from push_pools.cloud_run.janitor import Janitor, ended_managed_jobs
from push_pools.cloud_run.job import CloudRunJob
from push_pools.cloud_run.names import ExecutionRef, job_id
from push_pools.cloud_run.spec import build_job
from push_pools.cloud_run.status import condition_lines, execution_status
from push_pools.errors import PushPoolError

log = logging.getLogger("pushflow.cloud_run")
_REMEMBERED = 2000  # final statuses kept for executions whose job is already deleted


class CloudRunPool:
    type: ClassVar[str] = "cloud-run"
    Job: ClassVar[builtins.type[CloudRunJob]] = CloudRunJob

    def __init__(
        self,
        context: PoolContext | None = None,
        *,
        cleanup_interval: float = 2.0,
        retry_deadline: float = 60.0,
    ) -> None:
        """`retry_deadline`: how long transient errors (429, 5xx) are retried with backoff."""
        self._clients = Clients(retry_deadline=retry_deadline)
        self._janitor = Janitor(lambda ref: self._read(ref).ended, interval=cleanup_interval)
        self._final: collections.OrderedDict[str, tuple[InfraStatus, list[str]]] = collections.OrderedDict()
        self._submitting: dict[str, threading.Lock] = collections.defaultdict(threading.Lock)

    # --- the protocol -----------------------------------------------------------------------
    def submit(self, run: RunSpec, job: CloudRunJob) -> InfraRef:
        run_v2 = sdk()
        api = self._clients.get(job.api_endpoint)
        parent = f"projects/{job.project}/locations/{job.region}"
        name = f"{parent}/jobs/{job_id(run.idempotency_token)}"
        with self._submitting[run.run_id]:
            execution = self._latest_execution(api, name)
            if execution is None:
                self._create_job(api, parent, name, build_job(run_v2, run, job))
                execution = self._run_once(api, name)
        logging_endpoint = job.logging_endpoint or (job.api_endpoint if is_emulator(job.api_endpoint) else None)
        ref = ExecutionRef(execution, job.api_endpoint, logging_endpoint)
        self._janitor.watch(ref)
        if self._janitor.sweep_due(job.api_endpoint, parent):
            self._sweep(api, parent)
        return InfraRef(provider=self.type, id=ref.to_id(), console_url=ref.console_url)

    def status(self, ref: InfraRef) -> InfraStatus:
        try:
            execution = ExecutionRef.parse(ref.id)
        except ValueError as exc:
            return InfraStatus(InfraPhase.MISSING, reason=str(exc))
        return self._read(execution)

    def cancel(self, ref: InfraRef, *, grace_seconds: float = 10.0) -> None:
        # Cloud Run sends SIGTERM and, after its own grace period, SIGKILL: grace_seconds is its.
        execution = ExecutionRef.parse(ref.id)
        api = self._clients.get(execution.api_endpoint)
        try:
            with google_errors(f"cancel Cloud Run execution {execution.execution}"):
                api.executions.cancel_execution(name=execution.execution, retry=api.retry)
        except CloudRunNotFoundError:
            return  # already ended and cleaned up
        except PushPoolError as exc:
            if "FailedPrecondition" not in repr(exc.__cause__):
                raise
        self._janitor.watch(execution)  # deletes the job once the cancellation lands

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        execution = ExecutionRef.parse(ref.id)
        api = self._clients.get(execution.api_endpoint)
        problem: str | None = None
        try:
            lines = self._logged_lines(api, execution, limit)
        except PushPoolError as exc:
            lines, problem = [], f"Cloud Logging could not be read: {exc}"
        if lines:
            return lines
        if execution.execution in self._final:
            notes = self._final[execution.execution][1]
        else:
            try:
                with google_errors("read the Cloud Run execution"):
                    notes = condition_lines(api.executions.get_execution(name=execution.execution, retry=api.retry))
            except CloudRunNotFoundError:
                notes = [f"execution {execution.execution} no longer exists"]
        return [*notes, *([problem] if problem else []), f"Console: {execution.console_url}"][-limit:]

    def close(self) -> None:
        """Stop the janitor thread (not part of the protocol: for tests and shutdown)."""
        self._janitor.close()

    # --- steps -------------------------------------------------------------------------------
    def _latest_execution(self, api: CloudRunApi, name: str) -> str | None:
        """None when the job does not exist yet; its latest execution when it does."""
        try:
            with google_errors(f"read Cloud Run job {name}"):
                existing = api.jobs.get_job(name=name, retry=api.retry)
        except CloudRunNotFoundError:
            return None
        return existing.latest_created_execution.name or self._run_once(api, name)

    def _create_job(self, api: CloudRunApi, parent: str, name: str, job: Any) -> None:
        from google.api_core import exceptions

        with google_errors(f"create Cloud Run job {name}"):
            try:
                operation = api.jobs.create_job(parent=parent, job=job, job_id=name.rsplit("/", 1)[-1], retry=api.retry)
            except exceptions.AlreadyExists:
                return  # a concurrent or earlier attempt created it
            operation.result(polling=api.polling)

    def _run_once(self, api: CloudRunApi, name: str) -> str:
        """Run the job unless it already has an execution: a run_job whose answer was lost
        (a 503 after it started) is not blindly repeated."""

        def attempt() -> str:
            job = api.jobs.get_job(name=name, retry=None)
            if job.latest_created_execution.name:
                return str(job.latest_created_execution.name)
            operation = api.jobs.run_job(name=name, retry=None)
            # The operation ends when the execution does; its metadata names the execution now.
            execution = operation.metadata
            if execution is not None and execution.name:
                return str(execution.name)
            return str(api.jobs.get_job(name=name, retry=None).latest_created_execution.name)

        with google_errors(f"run Cloud Run job {name}"):
            return api.retry(attempt)()

    def _read(self, ref: ExecutionRef) -> InfraStatus:
        remembered = self._final.get(ref.execution)
        if remembered is not None:
            return remembered[0]
        api = self._clients.get(ref.api_endpoint)
        try:
            with google_errors(f"read Cloud Run execution {ref.execution}"):
                execution = api.executions.get_execution(name=ref.execution, retry=api.retry)
                ended = bool(
                    execution.completion_time
                    or execution.succeeded_count
                    or execution.failed_count
                    or execution.cancelled_count
                )
                status = execution_status(execution, self._exit_code(api, ref) if ended else None)
        except CloudRunNotFoundError:
            remembered = self._final.get(ref.execution)  # deleted by a concurrent reader
            return (
                remembered[0]
                if remembered
                else InfraStatus(
                    InfraPhase.MISSING,
                    reason=f"Cloud Run execution {ref.execution} does not exist "
                    "(never created, or its job was deleted)",
                )
            )
        if status.ended:
            self._delete_job(api, ref)
            self._final[ref.execution] = (status, condition_lines(execution))
            while len(self._final) > _REMEMBERED:
                self._final.popitem(last=False)
        return status

    def _exit_code(self, api: CloudRunApi, ref: ExecutionRef) -> int | None:
        tasks = api.tasks.list_tasks(parent=ref.execution, retry=api.retry)
        for task in tasks:
            if "last_attempt_result" in task:
                return int(task.last_attempt_result.exit_code)
        return None

    def _delete_job(self, api: CloudRunApi, ref: ExecutionRef) -> None:
        try:
            with google_errors(f"delete Cloud Run job {ref.job}"):
                api.jobs.delete_job(name=ref.job, retry=api.retry)  # no need to wait for it
        except CloudRunNotFoundError:
            pass

    def _sweep(self, api: CloudRunApi, parent: str) -> None:
        try:
            with google_errors(f"list Cloud Run jobs in {parent}"):
                for name in ended_managed_jobs(api.jobs.list_jobs(parent=parent, retry=api.retry)):
                    log.info("deleting left-over Cloud Run job %s", name)
                    api.jobs.delete_job(name=name, retry=api.retry)
        except PushPoolError as exc:  # best effort: the next sweep tries again
            log.warning("sweeping ended Cloud Run jobs in %s failed: %s", parent, exc)

    def _logged_lines(self, api: CloudRunApi, ref: ExecutionRef, limit: int) -> list[str]:
        endpoint = ref.logging_endpoint or LOGGING_ENDPOINT
        body = {
            "resourceNames": [f"projects/{ref.project}"],
            "filter": f'resource.type="cloud_run_job" AND '
            f'labels."run.googleapis.com/execution_name"="{ref.short_name}"',
            "orderBy": "timestamp desc",
            "pageSize": limit,
        }
        with google_errors("read Cloud Logging"):
            response = api.session().post(f"{endpoint}/v2/entries:list", json=body, timeout=30)
        if response.status_code != 200:
            message = response.json().get("error", {}).get("message", response.text[:200])
            raise PushPoolError(
                f"Cloud Logging answered {response.status_code}: {message}; the "
                "control plane's identity needs roles/logging.viewer"
            )
        entries = response.json().get("entries", [])
        lines = [e.get("textPayload") or (e.get("jsonPayload") or {}).get("message", "") for e in entries]
        return list(reversed(lines))
