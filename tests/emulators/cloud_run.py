"""A protocol-faithful fake of the Cloud Run Admin API v2 (REST) and of the one Cloud
Logging call the pool makes, for the real `google.cloud.run_v2` clients on 127.0.0.1.

Faithful where the adapter depends on it: create/run/delete/cancel are long-running
operations that answer `done=false` first, executions progress (pending -> running ->
succeeded/failed/cancelled) with counts, conditions and tasks carrying exit codes, and
errors are Google-shaped (`{"error": {"code", "message", "status", "details"}}`).
Each execution's container (command + args + env, secrets resolved) is handed to the
`ContainerSimulator`, whose exit code decides the outcome.

Faithful to the cases the adapter must survive (each from the provider's documentation):
- A duplicate create answers HTTP 409 with status ALREADY_EXISTS. Over REST the client
  builds its error from the HTTP status alone, so callers see `Conflict` ("HTTP 409
  Conflict -- ALREADY_EXISTS", https://cloud.google.com/apis/design/errors#handling_errors;
  google-api-core `exceptions.from_http_status`), not `AlreadyExists`.
- A create whose image is missing, or whose secret is missing, is accepted, then its
  operation fails ("Image '...' not found", code 5 NOT_FOUND; a secret, code 9
  FAILED_PRECONDITION) -- and the job still exists, with a failed terminal condition
  (https://cloud.google.com/run/docs/troubleshooting#container-failed-to-start and the
  Job resource's `terminalCondition`, https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs).
  It must be deleted like any other job; running it answers 400 FAILED_PRECONDITION.
- Unknown fields in a request body are rejected with 400 INVALID_ARGUMENT ("Invalid JSON
  payload received. Unknown name ..."), as Google's JSON transcoding does
  (https://cloud.google.com/apis/design/errors#error_payloads), so a misspelt field fails here.

- Volumes (TaskTemplate `volumes[]`, the container's `volumeMounts[]`): each volume has a
  name and one source, a `gcs` bucket or an `nfs` server; a mount must name a declared
  volume ("This must match the Name of a Volume", VolumeMount in the v2 REST reference)
  and may not be on /dev, /proc or /sys ("Disallowed paths", Cloud Run volume mounts).
  At execution start a volume is a host folder -- `buckets[bucket]` or
  `nfs_exports["server:path"]` -- given to the container simulator at the mount path; a
  bucket or export that does not exist fails the execution's ResourcesAvailable
  condition, as a mount failure does.

Test hooks: `inject(status, times=, method=, path_contains=)` for transient errors,
`lose_answer(method=, path_contains=)` (carry the request out, answer 503), `stall()`
(executions wait for resources while inside), `missing_images`, `denied_service_accounts`,
`secrets`, and `jobs` / `executions` to read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from google.cloud import run_v2

from tests.emulators.tls import make_certificate
from tests.simulator import ContainerSimulator, SimulatedContainer

_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_RPC_CODE = {
    "INVALID_ARGUMENT": 3,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "FAILED_PRECONDITION": 9,
}
_JOB_ID = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_MAX_TIMEOUT_S = 168 * 3600
Cond = run_v2.Condition


class GoogleError(Exception):
    def __init__(self, http: int, message: str, field: str | None = None, status: str | None = None) -> None:
        super().__init__(message)
        self.http, self.message, self.field = http, message, field
        self.status = status or _STATUS[http]

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.http,
            "message": self.message,
            "status": self.status,
        }
        if self.field:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": self.field, "description": self.message}],
                }
            ]
        return {"error": error}


@dataclasses.dataclass
class FakeExecution:
    message: run_v2.Execution
    job_name: str
    started: float | None = None
    container: SimulatedContainer | None = None
    exit_code: int | None = None
    outcome: str | None = None  # succeeded | failed | cancelled
    cancel_requested: bool = False


@dataclasses.dataclass
class FakeOperation:
    name: str
    metadata: Any  # a proto-plus message
    polls: int = 0
    response: Any = None
    error: GoogleError | None = None
    ready: Any = None  # callable -> bool, for operations that finish with their execution


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _to_any(message: Any) -> dict[str, Any]:
    body = json.loads(type(message).to_json(message, use_integers_for_enums=True))
    return {"@type": f"type.googleapis.com/{type(message).pb().DESCRIPTOR.full_name}", **body}


class FakeCloudRun:
    def __init__(self, simulator: ContainerSimulator, *, tls_dir: Path | None = None) -> None:
        """`tls_dir`: serve https with a self-signed certificate made there (`ca_bundle`)."""
        self.simulator = simulator
        self.jobs: dict[str, run_v2.Job] = {}
        self.executions: dict[str, FakeExecution] = {}
        self.operations: dict[str, FakeOperation] = {}
        self.missing_images: set[str] = set()
        self.denied_service_accounts: set[str] = set()
        self.secrets: dict[str, str] = {}  # "projects/P/secrets/NAME" -> value (latest)
        self.buckets: dict[str, Path] = {}  # Cloud Storage bucket -> the host folder it stands for
        self.nfs_exports: dict[str, Path] = {}  # "server:path" -> the host folder it stands for
        self.requests: list[tuple[str, str]] = []
        self._faults: list[dict[str, Any]] = []
        self._lost: list[dict[str, Any]] = []
        self.stalled = False
        self.bearers: set[str] = set()  # the bearer tokens requests arrived with
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.ca_bundle: str | None = None
        scheme = "http"
        if tls_dir is not None:
            certificate = make_certificate(tls_dir)
            self._server.socket = certificate.server_context().wrap_socket(self._server.socket, server_side=True)
            self.ca_bundle, scheme = str(certificate.cert_path), "https"
        self.endpoint = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    # lifecycle -----------------------------------------------------------------
    def start(self) -> FakeCloudRun:
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="fake-cloud-run",
            daemon=True,
        ).start()
        threading.Thread(target=self._tick_forever, name="fake-cloud-run-ticker", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self.simulator.stop_all()

    def inject(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with a Google-shaped `status` error."""
        with self._lock:
            self._faults.append({"status": status, "times": times, "method": method, "path": path_contains})

    @contextlib.contextmanager
    def lose_answer(self, *, method: str | None = None, path_contains: str | None = None) -> Iterator[None]:
        """While inside, the next matching request is carried out, then answered 503 (the
        real answer was lost on the way back)."""
        fault = {"times": 1, "method": method, "path": path_contains}
        with self._lock:
            self._lost.append(fault)
        try:
            yield
        finally:
            with self._lock:
                fault["times"] = 0

    @contextlib.contextmanager
    def stall(self) -> Iterator[None]:
        """While inside, executions wait for resources (ResourcesAvailable pending)."""
        self.stalled = True
        try:
            yield
        finally:
            self.stalled = False
        self.bearers: set[str] = set()  # the bearer tokens requests arrived with

    def answer_lost(self, method: str, path: str) -> bool:
        with self._lock:
            for fault in self._lost:
                if fault["times"] > 0 and fault["method"] in (None, method) and (fault["path"] or "") in path:
                    fault["times"] -= 1
                    return True
        return False

    # routing ---------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        with self._lock:
            self.requests.append((method, path))
            self._raise_injected(method, path)
            parts = path.removeprefix("/v2/")
            if method == "POST" and parts == "entries:list":
                return self._list_entries(body)
            if method == "GET" and "/operations/" in parts:
                return self._poll(parts)
            if method == "POST" and parts.endswith("/jobs"):
                return self._create_job(parts.removesuffix("/jobs"), query.get("jobId", [""])[0], body)
            if method == "GET" and parts.endswith("/jobs"):
                jobs = [_to_any(j) for n, j in self.jobs.items() if n.startswith(parts + "/")]
                for job in jobs:
                    job.pop("@type")
                return {"jobs": jobs}
            if method == "POST" and parts.endswith(":run"):
                return self._run_job(parts.removesuffix(":run"))
            if method == "POST" and parts.endswith(":cancel"):
                return self._cancel(parts.removesuffix(":cancel"))
            if method == "GET" and parts.endswith("/tasks"):
                return {"tasks": [_to_any(self._task(self._execution(parts.removesuffix("/tasks"))))]}
            if "/executions/" in parts and method == "GET":
                return _to_any(self._execution(parts).message)
            if "/jobs/" in parts and method == "GET":
                return _to_any(self._job(parts))
            if "/jobs/" in parts and method == "DELETE":
                return self._delete_job(parts)
            raise GoogleError(404, f"Method not found: {method} {path}")

    def _raise_injected(self, method: str, path: str) -> None:
        for fault in self._faults:
            if fault["times"] > 0 and fault["method"] in (None, method) and (fault["path"] or "") in path:
                fault["times"] -= 1
                status = fault["status"]
                raise GoogleError(
                    status,
                    "The service is currently unavailable."
                    if status >= 500
                    else "Quota exceeded for quota metric 'Job run requests'.",
                )

    # jobs ---------------------------------------------------------------------------
    def _create_job(self, parent: str, job_id: str, body: dict[str, Any]) -> Any:
        if not _JOB_ID.match(job_id):
            raise GoogleError(
                400,
                f"Invalid job id {job_id!r}: must be 1-63 lowercase letters, digits or "
                "hyphens, start with a letter and not end with a hyphen",
                "job_id",
            )
        try:
            job = run_v2.Job.from_json(json.dumps(body), ignore_unknown_fields=False)
        except Exception as exc:  # json_format.ParseError names the unknown field
            raise GoogleError(400, f"Invalid JSON payload received. {exc}", "job") from None
        name = f"{parent}/jobs/{job_id}"
        self._validate(job)
        if name in self.jobs:
            raise GoogleError(409, f"Resource '{job_id}' already exists.", status="ALREADY_EXISTS")
        template = job.template.template
        if template.service_account in self.denied_service_accounts:
            raise GoogleError(
                403,
                f"Permission 'iam.serviceaccounts.actAs' denied on service account "
                f"{template.service_account} (or it may not exist).",
            )
        job.name, job.uid, job.generation, job.create_time = name, str(uuid.uuid4()), 1, _now()
        job.etag = uuid.uuid4().hex
        op = self._operation(parent, job)
        image = template.containers[0].image
        # Cloud Run resolves the image and the secrets while it creates the job: the
        # operation fails, but the job stays, with a failed terminal condition.
        failure = None
        if image in self.missing_images:
            failure = GoogleError(404, f"Image '{image}' not found.")
        else:
            missing = self._missing_secret(name, template.containers[0])
            if missing:
                failure = GoogleError(400, f"Secret {missing} was not found", status="FAILED_PRECONDITION")
        self.jobs[name] = job
        if failure is not None:
            job.terminal_condition = Cond(type_="Ready", state=Cond.State.CONDITION_FAILED, message=failure.message)
            op.error = failure
        else:
            job.terminal_condition = Cond(type_="Ready", state=Cond.State.CONDITION_SUCCEEDED)
            op.response = job
        return _operation_json(op)

    def _missing_secret(self, name: str, container: Any) -> str | None:
        for var in container.env:
            ref = var.value_source.secret_key_ref.secret
            if ref:
                key = ref if ref.startswith("projects/") else f"projects/{name.split('/')[1]}/secrets/{ref}"
                if key not in self.secrets:
                    return f"{key}/versions/{var.value_source.secret_key_ref.version or 'latest'}"
        return None

    def _validate(self, job: run_v2.Job) -> None:
        containers = job.template.template.containers
        if len(containers) != 1:
            raise GoogleError(400, "Jobs must have exactly one container", "job.template.template.containers")
        if not containers[0].image:
            raise GoogleError(400, "Container image is required", "job.template.template.containers[0].image")
        timeout = job.template.template.timeout
        if timeout and timeout.total_seconds() > _MAX_TIMEOUT_S:
            raise GoogleError(400, "Task timeout must be at most 168h", "job.template.template.timeout")
        self._validate_volumes(job.template.template)
        for key, value in job.labels.items():
            if not _LABEL.match(key) or len(value) > 63 or not re.match(r"^[a-z0-9_-]*$", value):
                raise GoogleError(
                    400,
                    f"Invalid label {key}={value!r}: keys and values may contain only "
                    "lowercase letters, digits, '_' and '-'",
                    "job.labels",
                )

    def _validate_volumes(self, template: run_v2.TaskTemplate) -> None:
        where = "job.template.template.volumes"
        names = set()
        for i, volume in enumerate(template.volumes):
            if not volume.name or volume.name in names:
                raise GoogleError(400, f"Volume names must be set and unique: {volume.name!r}", f"{where}[{i}].name")
            names.add(volume.name)
            kinds = [k for k in ("secret", "cloud_sql_instance", "empty_dir", "nfs", "gcs") if k in volume]
            if len(kinds) != 1:
                raise GoogleError(400, f"Volume {volume.name!r} must have exactly one source", f"{where}[{i}]")
            if kinds == ["gcs"] and not volume.gcs.bucket:
                raise GoogleError(400, f"Volume {volume.name!r}: gcs.bucket is required", f"{where}[{i}].gcs.bucket")
            if kinds == ["nfs"] and not volume.nfs.server:
                raise GoogleError(400, f"Volume {volume.name!r}: nfs.server is required", f"{where}[{i}].nfs.server")
        mounts = "job.template.template.containers[0].volume_mounts"
        for i, mount in enumerate(template.containers[0].volume_mounts):
            if mount.name not in names:
                raise GoogleError(
                    400, f"Volume mount {mount.name!r} names no volume of the task", f"{mounts}[{i}].name"
                )
            path = mount.mount_path
            if not path.startswith("/") or any(
                path == p or path.startswith(p + "/") for p in ("/dev", "/proc", "/sys")
            ):
                raise GoogleError(400, f"Invalid mount path {path!r}", f"{mounts}[{i}].mount_path")

    def _mounts(self, template: run_v2.TaskTemplate) -> dict[str, Path]:
        volumes = {v.name: v for v in template.volumes}
        mounts = {}
        for mount in template.containers[0].volume_mounts:
            volume = volumes[mount.name]
            if "gcs" in volume:
                folder = self.buckets.get(volume.gcs.bucket)
                what = f"bucket {volume.gcs.bucket}"
            elif "nfs" in volume:
                what = f"{volume.nfs.server}:{volume.nfs.path or '/'}"
                folder = self.nfs_exports.get(what)
            else:
                continue  # secrets, Cloud SQL, in-memory: nothing shared between runs here
            if folder is None:
                raise GoogleError(400, f"Failed to mount volume {mount.name!r}: {what} not found")
            mounts[mount.mount_path] = folder
        return mounts

    def _job(self, name: str) -> run_v2.Job:
        job = self.jobs.get(name)
        if job is None:
            raise GoogleError(
                404,
                f"Resource '{name.rsplit('/', 1)[-1]}' of kind 'JOB' in region "
                f"'{name.split('/')[3]}' in project '{name.split('/')[1]}' does not exist.",
            )
        return job

    def _run_job(self, name: str) -> Any:
        job = self._job(name)
        if job.terminal_condition.state == Cond.State.CONDITION_FAILED:
            raise GoogleError(
                400,
                f"Job '{name.rsplit('/', 1)[-1]}' is not ready: {job.terminal_condition.message}",
                status="FAILED_PRECONDITION",
            )
        short = f"{name.rsplit('/', 1)[-1]}-{uuid.uuid4().hex[:5]}"
        execution = run_v2.Execution(
            name=f"{name}/executions/{short}",
            uid=str(uuid.uuid4()),
            job=name.rsplit("/", 1)[-1],
            labels=dict(job.labels),
            task_count=1,
            parallelism=1,
            template=job.template.template,
            create_time=_now(),
            log_uri=f"https://console.cloud.google.com/logs/viewer?execution={short}",
            conditions=[
                Cond(type_="ResourcesAvailable", state=Cond.State.CONDITION_PENDING),
                Cond(type_="Completed", state=Cond.State.CONDITION_PENDING),
            ],
        )
        fake = FakeExecution(execution, job_name=name)
        self.executions[execution.name] = fake
        job.latest_created_execution = run_v2.ExecutionReference(name=execution.name, create_time=_now())
        job.execution_count += 1
        op = self._operation(name.rsplit("/jobs/", 1)[0], execution)
        op.ready = lambda: fake.outcome is not None
        return _operation_json(op)

    def _delete_job(self, name: str) -> Any:
        job = self._job(name)
        for fake in [e for e in self.executions.values() if e.job_name == name]:
            if fake.container is not None:
                fake.container.stop()
            del self.executions[fake.message.name]
        del self.jobs[name]
        op = self._operation(name.rsplit("/jobs/", 1)[0], job)
        op.response = job
        return _operation_json(op)

    # executions -------------------------------------------------------------------------
    def _execution(self, name: str) -> FakeExecution:
        fake = self.executions.get(name)
        if fake is None:
            raise GoogleError(404, f"Resource '{name.rsplit('/', 1)[-1]}' of kind 'EXECUTION' does not exist.")
        return fake

    def _cancel(self, name: str) -> Any:
        fake = self._execution(name)
        if fake.outcome is None:
            fake.cancel_requested = True
        op = self._operation(name.rsplit("/jobs/", 1)[0], fake.message)
        op.ready = lambda: fake.outcome is not None
        return _operation_json(op)

    def _task(self, fake: FakeExecution) -> run_v2.Task:
        task = run_v2.Task(
            name=f"{fake.message.name}/tasks/{fake.message.name.rsplit('/', 1)[-1]}-task0",
            execution=fake.message.name,
            index=0,
        )
        if fake.outcome is not None and fake.container is not None:
            task.last_attempt_result = run_v2.TaskAttemptResult(
                exit_code=fake.exit_code or 0,
                status={
                    "code": 0 if fake.outcome == "succeeded" else 2,
                    "message": _condition(fake, "Completed").message,
                },
            )
        return task

    def _tick_forever(self) -> None:
        while not self._stop.wait(0.05):
            with self._lock:
                for fake in list(self.executions.values()):
                    if fake.outcome is None:
                        self._advance(fake)

    def _advance(self, fake: FakeExecution) -> None:
        message = fake.message
        if fake.cancel_requested:
            if fake.container is not None:
                fake.container.stop()
                fake.exit_code = fake.container.exit_code
            return self._finish(fake, "cancelled", "The execution was cancelled.", Cond.ExecutionReason.CANCELLED)
        if fake.container is None:
            if self.stalled:
                return None
            try:
                env = self._container_env(message)
                mounts = self._mounts(message.template)
            except GoogleError as exc:
                _condition(fake, "ResourcesAvailable").state = Cond.State.CONDITION_FAILED
                return self._finish(fake, "failed", exc.message, Cond.ExecutionReason.EXECUTION_REASON_UNDEFINED)
            container = message.template.containers[0]
            fake.container = self.simulator.start(message.name, [*container.command, *container.args], env, mounts)
            fake.started = time.monotonic()
            message.start_time, message.running_count = _now(), 1
            _condition(fake, "ResourcesAvailable").state = Cond.State.CONDITION_SUCCEEDED
            return None
        code = fake.container.exit_code
        timeout = message.template.timeout.total_seconds() if message.template.timeout else 600
        if code is None and time.monotonic() - (fake.started or 0) > timeout:
            fake.container.stop()
            fake.exit_code = fake.container.exit_code
            task = f"{message.name.rsplit('/', 1)[-1]}-task0"
            return self._finish(
                fake,
                "failed",
                f"Task {task} failed with message: The configured timeout was reached.",
                Cond.ExecutionReason.NON_ZERO_EXIT_CODE,
            )
        if code is not None:
            fake.exit_code = code
            if code == 0:
                return self._finish(fake, "succeeded", "Execution completed successfully in 0 seconds.")
            task = f"{message.name.rsplit('/', 1)[-1]}-task0"
            return self._finish(
                fake,
                "failed",
                f"Task {task} failed with message: The container exited with an error.",
                Cond.ExecutionReason.NON_ZERO_EXIT_CODE,
            )
        return None

    def _container_env(self, message: run_v2.Execution) -> dict[str, str]:
        env = {
            "CLOUD_RUN_JOB": message.job,
            "CLOUD_RUN_EXECUTION": message.name.rsplit("/", 1)[-1],
            "CLOUD_RUN_TASK_INDEX": "0",
            "CLOUD_RUN_TASK_COUNT": "1",
        }
        for var in message.template.containers[0].env:
            if var.value_source.secret_key_ref.secret:
                ref = var.value_source.secret_key_ref.secret
                key = ref if ref.startswith("projects/") else f"projects/{message.name.split('/')[1]}/secrets/{ref}"
                if key not in self.secrets:
                    raise GoogleError(
                        404,
                        f"Secret {key}/versions/{var.value_source.secret_key_ref.version}"
                        " was not found or the service account may not access it.",
                    )
                env[var.name] = self.secrets[key]
            else:
                env[var.name] = var.value
        return env

    def _finish(
        self,
        fake: FakeExecution,
        outcome: str,
        message: str,
        reason: Any = Cond.ExecutionReason.EXECUTION_REASON_UNDEFINED,
    ) -> None:
        fake.outcome = outcome
        execution = fake.message
        execution.running_count = 0
        setattr(execution, f"{outcome}_count", 1)
        execution.completion_time = _now()
        completed = _condition(fake, "Completed")
        completed.state = Cond.State.CONDITION_SUCCEEDED if outcome == "succeeded" else Cond.State.CONDITION_FAILED
        completed.message, completed.execution_reason = message, reason
        if outcome != "succeeded":
            resources = _condition(fake, "ResourcesAvailable")
            if resources.state == Cond.State.CONDITION_FAILED:
                resources.message = message
        job = self.jobs.get(fake.job_name)
        if job is not None and job.latest_created_execution.name == execution.name:
            job.latest_created_execution.completion_time = execution.completion_time

    # operations and logs ----------------------------------------------------------------------
    def _operation(self, parent: str, metadata: Any) -> FakeOperation:
        op = FakeOperation(name=f"{parent}/operations/{uuid.uuid4()}", metadata=metadata)
        self.operations[op.name] = op
        return op

    def _poll(self, name: str) -> Any:
        op = self.operations.get(name)
        if op is None:
            raise GoogleError(404, f"Operation '{name}' does not exist.")
        op.polls += 1
        if op.ready is not None and op.ready():
            op.response = op.metadata
        return _operation_json(op)

    def _list_entries(self, body: dict[str, Any]) -> Any:
        match = re.search(r'labels\."run\.googleapis\.com/execution_name"="([^"]+)"', body.get("filter", ""))
        if not match:
            raise GoogleError(400, "Unparseable filter", "filter")
        container = next((c for k, c in self.simulator.containers.items() if k.endswith("/" + match[1])), None)
        lines = container.output.splitlines() if container is not None and container.log_path.exists() else []
        entries = [{"textPayload": line, "logName": "run.googleapis.com%2Fstdout"} for line in lines]
        if body.get("orderBy", "").endswith("desc"):
            entries.reverse()
        return {"entries": entries[: int(body.get("pageSize", 1000))]}


def _condition(fake: FakeExecution, kind: str) -> run_v2.Condition:
    return next(c for c in fake.message.conditions if c.type_ == kind)


def _operation_json(op: FakeOperation) -> dict[str, Any]:
    body: dict[str, Any] = {"name": op.name, "metadata": _to_any(op.metadata), "done": False}
    if op.polls == 0:
        return body  # the first answer is never done: clients must really poll
    if op.error is not None:
        error = op.error.body()["error"]
        body.update(
            done=True,
            error={"code": _RPC_CODE.get(error["status"], 2), "message": error["message"]},
        )
    elif op.response is not None:
        body.update(done=True, response=_to_any(op.response))
    return body


def _handler(fake: FakeCloudRun) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _serve(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                fake.bearers.add(auth.removeprefix("Bearer "))
            if self.command == "POST" and url.path == "/token":
                # OAuth 2.0 token endpoint for service-account keys whose token_uri points here
                # (JWT-bearer grant, https://developers.google.com/identity/protocols/oauth2/service-account).
                form = parse_qs(raw.decode())
                ok = form.get("grant_type") == ["urn:ietf:params:oauth:grant-type:jwt-bearer"] and form.get("assertion")
                answer = (
                    {"access_token": "token-for-the-service-account", "expires_in": 3600, "token_type": "Bearer"}
                    if ok
                    else {"error": "invalid_grant", "error_description": "Not a JWT-bearer grant."}
                )
                data = json.dumps(answer).encode()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            try:
                body = json.loads(raw) if raw else {}
                status, answer = 200, fake.handle(self.command, url.path, parse_qs(url.query), body)
                if fake.answer_lost(self.command, url.path):
                    raise GoogleError(503, "The service is currently unavailable.")
            except GoogleError as exc:
                status, answer = exc.http, exc.body()
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

    return Handler
