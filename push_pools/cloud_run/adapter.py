"""The `cloud-run` pool: each run attempt is one execution of its own Cloud Run job.

submit   create job `pushflow-<run id>[-attempt]` (a long-running operation, polled), then
         run it, unless the job already has an execution (a retried submit, from any
         process): then that is the attempt's. A create whose answer was lost answers 409
         (`Conflict` over REST) when repeated: the job is there, so it is used.
status   the execution's counts and conditions and the task's exit code: a pure read.
cancel   cancel the execution. logs: Cloud Logging, or the conditions and a console link.
release  delete the job (also one whose create operation failed: it still exists).

The ref's id is the execution's name (or the job's, when it never ran); its locator holds
the job name and the connection (endpoint, credential kind, CA bundle, logging endpoint).
"""

from __future__ import annotations

import concurrent.futures
from typing import Any, ClassVar

from push_pools.base import InfraPhase, InfraRef, InfraStatus, Released, RunSpec
from push_pools.cloud_run.client import (
    LOGGING_ENDPOINT,
    Clients,
    CloudRunApi,
    CloudRunNotFoundError,
    Connection,
    google_errors,
    sdk,
)
from push_pools.cloud_run.job import CloudRunJob
from push_pools.cloud_run.names import RunAddress, job_id
from push_pools.cloud_run.spec import build_job
from push_pools.cloud_run.status import condition_lines, execution_status
from push_pools.errors import ProviderUnavailableError, PushPoolError, SubmissionError

_CONDITION_FAILED = 3  # Condition.State.CONDITION_FAILED
_LOG_TAIL = 200


class CloudRunPool:
    kind: ClassVar[str] = "cloud-run"
    Job: ClassVar[type[CloudRunJob]] = CloudRunJob

    def __init__(self, *, retry_deadline: float = 60.0) -> None:
        """`retry_deadline`: how long transient errors (429, 5xx) are retried with backoff."""
        self._clients = Clients(retry_deadline=retry_deadline)

    # --- the protocol -----------------------------------------------------------------------
    def submit(self, run: RunSpec, job: CloudRunJob, *, timeout: float = 30.0) -> InfraRef:
        run_v2 = sdk()
        connection = Connection(job.api_endpoint, job.credentials, job.ca_bundle)
        api = self._clients.get(connection)
        parent = f"projects/{job.project}/locations/{job.region}"
        name = f"{parent}/jobs/{job_id(run.idempotency_token)}"
        locator = {**connection.to_locator(), "job": name}
        if job.logging_endpoint:
            locator["logging_endpoint"] = job.logging_endpoint
        execution = self._latest_execution(api, name, locator)
        if execution is None:
            self._create_job(api, parent, name, build_job(run_v2, run, job), locator, timeout)
            # Read it back: a create that answered 409 may be one whose operation failed.
            execution = self._latest_execution(api, name, locator) or self._run_once(api, name)
        return self._ref(execution, locator)

    def status(self, ref: InfraRef) -> InfraStatus:
        try:
            address = RunAddress.parse(ref.id)
        except ValueError as exc:
            return InfraStatus(InfraPhase.MISSING, reason=str(exc))
        api = self._api(ref)
        if address.execution is None:
            return self._job_status(api, address.job)
        try:
            with google_errors(f"read Cloud Run execution {address.execution}"):
                execution = api.executions.get_execution(name=address.execution, retry=api.retry)
                ended = bool(
                    execution.completion_time
                    or execution.succeeded_count
                    or execution.failed_count
                    or execution.cancelled_count
                )
                return execution_status(execution, self._exit_code(api, address.execution) if ended else None)
        except CloudRunNotFoundError:
            return InfraStatus(
                InfraPhase.MISSING,
                reason=f"Cloud Run execution {address.execution} does not exist "
                "(never created, or its job was deleted)",
            )

    def cancel(self, ref: InfraRef, *, grace: float = 10.0) -> None:
        # Cloud Run sends SIGTERM and, after its own grace period, SIGKILL.
        address = RunAddress.parse(ref.id)
        if address.execution is None:
            return  # the job never ran
        api = self._api(ref)
        try:
            with google_errors(f"cancel Cloud Run execution {address.execution}"):
                api.executions.cancel_execution(name=address.execution, retry=api.retry)
        except CloudRunNotFoundError:
            return  # already ended and released
        except PushPoolError as exc:
            if "FailedPrecondition" not in repr(exc.__cause__):  # it had ended already
                raise

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        address = RunAddress.parse(ref.id)
        api = self._api(ref)
        problem: str | None = None
        lines: list[str] = []
        if address.execution is not None:
            try:
                lines = self._logged_lines(api, ref, address, limit)
            except PushPoolError as exc:
                problem = f"Cloud Logging could not be read: {exc}"
        if lines:
            return lines
        try:
            with google_errors("read the Cloud Run execution"):
                if address.execution is not None:
                    notes = condition_lines(api.executions.get_execution(name=address.execution, retry=api.retry))
                else:
                    notes = [self._job_status(api, address.job).reason or f"job {address.job} never ran"]
        except CloudRunNotFoundError:
            notes = [f"{address.name} no longer exists"]
        return [*notes, *([problem] if problem else []), f"Console: {address.console_url}"][-limit:]

    def release(self, ref: InfraRef) -> Released:
        """Delete the attempt's job (and with it its executions); fine when already gone."""
        address = RunAddress.parse(ref.id)
        status = self.status(ref)
        tail: list[str] = []
        if status.phase is not InfraPhase.MISSING:
            try:
                tail = self.logs(ref, limit=_LOG_TAIL)
            except PushPoolError:
                tail = []
        api = self._api(ref)
        job = ref.locator.get("job") or address.job
        try:
            with google_errors(f"delete Cloud Run job {job}"):
                api.jobs.delete_job(name=job, retry=api.retry)  # no need to wait for it
        except CloudRunNotFoundError:
            pass
        return Released(status, tail)

    # --- steps -------------------------------------------------------------------------------
    def _api(self, ref: InfraRef) -> CloudRunApi:
        return self._clients.get(Connection.from_locator(ref.locator))

    def _ref(self, name: str, locator: dict[str, str]) -> InfraRef:
        address = RunAddress.parse(name)
        return InfraRef(provider=self.kind, id=name, locator=locator, console_url=address.console_url)

    def _latest_execution(self, api: CloudRunApi, name: str, locator: dict[str, str]) -> str | None:
        """None when the job does not exist yet; its latest execution when it does."""
        try:
            with google_errors(f"read Cloud Run job {name}"):
                existing = api.jobs.get_job(name=name, retry=api.retry)
        except CloudRunNotFoundError:
            return None
        failed = _failed_creation(existing)
        if failed:
            raise self._create_failed(name, failed, locator)
        return existing.latest_created_execution.name or self._run_once(api, name)

    def _create_job(
        self, api: CloudRunApi, parent: str, name: str, job: Any, locator: dict[str, str], timeout: float
    ) -> None:
        from google.api_core import exceptions

        with google_errors(f"create Cloud Run job {name}"):
            try:
                operation = api.jobs.create_job(parent=parent, job=job, job_id=name.rsplit("/", 1)[-1], retry=api.retry)
            except exceptions.Conflict:
                # Over REST a duplicate is HTTP 409, raised as `Conflict` (`AlreadyExists` only
                # over gRPC): an earlier attempt whose answer was lost created it.
                return
            try:
                operation.result(polling=api.polling.with_timeout(timeout))
            except (concurrent.futures.TimeoutError, exceptions.RetryError) as exc:
                raise ProviderUnavailableError(f"Cloud Run did not finish creating job {name} in {timeout:g}s") from exc
            except exceptions.GoogleAPICallError as exc:
                # The create operation failed (image or secret missing), yet the job exists.
                raise self._create_failed(name, exc.message or str(exc), locator) from exc

    def _create_failed(self, name: str, message: str, locator: dict[str, str]) -> SubmissionError:
        error = SubmissionError(
            f"Cloud Run could not create job {name}: {message}; check `image`, `secrets` and `service_account`"
        )
        error.ref = self._ref(name, locator)  # the job is left behind: the control plane releases it
        return error

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
            return str(api.retry(attempt)())

    def _job_status(self, api: CloudRunApi, name: str) -> InfraStatus:
        try:
            with google_errors(f"read Cloud Run job {name}"):
                job = api.jobs.get_job(name=name, retry=api.retry)
        except CloudRunNotFoundError:
            return InfraStatus(InfraPhase.MISSING, reason=f"Cloud Run job {name} does not exist")
        failed = _failed_creation(job)
        return InfraStatus(InfraPhase.EXITED, reason=f"Cloud Run job {name} was never run: {failed or 'no execution'}")

    def _exit_code(self, api: CloudRunApi, execution: str) -> int | None:
        for task in api.tasks.list_tasks(parent=execution, retry=api.retry):
            if "last_attempt_result" in task:
                return int(task.last_attempt_result.exit_code)
        return None

    def _logged_lines(self, api: CloudRunApi, ref: InfraRef, address: RunAddress, limit: int) -> list[str]:
        endpoint = ref.locator.get("logging_endpoint") or LOGGING_ENDPOINT
        body = {
            "resourceNames": [f"projects/{address.project}"],
            "filter": f'resource.type="cloud_run_job" AND '
            f'labels."run.googleapis.com/execution_name"="{address.short_name}"',
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


def _failed_creation(job: Any) -> str | None:
    """The message of a job whose create operation failed (its terminal condition)."""
    condition = job.terminal_condition
    if condition.state == _CONDITION_FAILED:
        return str(condition.message or "the job's create operation failed")
    return None
