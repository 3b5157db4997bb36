"""moto in server mode, plus the glue that makes its ECS tasks run.

moto stores ECS tasks but never runs them. `EcsEmulator` watches moto's backend (in this
process: ThreadedMotoServer shares it) for new tasks, reads what was actually submitted
(the task definition, the container overrides' command and environment, the secrets it
references), runs that command with the container simulator, and when the process exits
writes the exit code and STOPPED into the task, and the output into the task's awslogs
stream, the way ECS and the awslogs driver would.

Faithful where moto is not:
- RunTask honours `clientToken`: "An identifier that you provide to ensure the idempotency
  of the request" (ECS API Reference, RunTask); a repeat with the same token returns the
  tasks the first call started instead of starting more.
- A new task is PROVISIONING, as RunTask answers it ("Task lifecycle": PROVISIONING ->
  PENDING -> ACTIVATING -> RUNNING), and RUNNING only once its container started.
- stop_task signals the container; the task is STOPPED once it exited (see below).

Volumes: an EFS volume (`efsVolumeConfiguration`) must name a file system that exists in
moto's EFS; the task then gets that file system's folder (one host folder per file
system, under the log dir, plus `rootDirectory`) at each mountPoint's containerPath. A
missing file system stops the task with ResourceInitializationError, as ECS reports a
volume it cannot mount; a mountPoint naming no volume stops it too.

Failures are injected the way AWS shows them: `pull_errors[image]` makes a task stop with
TaskFailedToStart; `throttle(operation, times)` answers ThrottlingException;
`lose_answer(operation)` carries the call out, then answers 500 ServerException (the
answer never arrived); `stall()` keeps new tasks PROVISIONING while inside.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.simulator import ContainerSimulator, SimulatedContainer

ACCOUNT = "123456789012"
REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


class EcsEmulator:
    def __init__(self, log_dir: Path, *, poll_seconds: float = 0.05) -> None:
        self.simulator = ContainerSimulator(log_dir)
        self.pull_errors: dict[str, str] = {}
        self.stalled = False
        self._client_tokens: dict[str, list[str]] = {}  # clientToken -> task ARNs
        self._lost: list[str] = []  # operations whose next answer is lost
        self._original_run_task: Any = None
        self.poll_seconds = poll_seconds
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._iam_config: dict[str, Any] = {}
        self.url = ""

    # lifecycle ------------------------------------------------------------------------

    def start(self) -> EcsEmulator:
        from moto.moto_api import state_manager
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        # AWS-managed IAM policies (AmazonECSTaskExecutionRolePolicy) exist in AWS; moto
        # loads them only when asked, before its IAM backend is first used.
        from moto import settings

        self._iam_config = dict(settings.default_user_config.get("iam", {}))
        settings.default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True
        # Tasks stay where the glue puts them; moto would otherwise walk them to STOPPED.
        state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
        self._patch_stop_task()
        self._patch_run_task()
        # moto's backends are per process: tasks an earlier emulator ran are not new here.
        self._seen.update(arn for tasks in self.backend.tasks.values() for arn in tasks)
        self._thread = threading.Thread(target=self._watch, name="ecs-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        from moto.moto_api import state_manager

        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.simulator.stop_all()
        state_manager.unset_transition("ecs::task")
        if self._original_run_task is not None:
            from moto.ecs.responses import EC2ContainerServiceResponse

            EC2ContainerServiceResponse.run_task = self._original_run_task
        from moto import settings

        settings.default_user_config["iam"] = self._iam_config
        if self._server is not None:
            self._server.stop()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    @property
    def backend(self) -> Any:
        from moto.ecs.models import ecs_backends

        return ecs_backends[ACCOUNT][REGION]

    def ensure_cluster_and_log_group(self, cluster: str, log_group: str) -> None:
        """Create both unless an earlier test in this process did (moto state is global)."""
        self.client("ecs").create_cluster(clusterName=cluster)
        logs = self.client("logs")
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=log_group)

    def env(self) -> dict[str, str]:
        """Environment for a process (the control plane) that should talk to this emulator."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.url}

    def default_subnet(self) -> str:
        return str(self.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"])

    def task(self, arn: str) -> Any:
        for tasks in self.backend.tasks.values():
            if arn in tasks:
                return tasks[arn]
        raise KeyError(arn)

    # failure injection ---------------------------------------------------------------

    @contextlib.contextmanager
    def throttle(self, operation: str, times: int) -> Iterator[list[int]]:
        """While inside, the first `times` calls of backend `operation` answer
        ThrottlingException; yields a list that grows by one per call."""
        from moto.core.exceptions import JsonRESTError

        backend = self.backend
        original = getattr(backend, operation)
        calls: list[int] = []

        def throttled(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) <= times:
                raise JsonRESTError("ThrottlingException", "Rate exceeded")
            return original(*args, **kwargs)

        setattr(backend, operation, throttled)
        try:
            yield calls
        finally:
            setattr(backend, operation, original)

    @contextlib.contextmanager
    def lose_answer(self, operation: str) -> Iterator[None]:
        """While inside, the next `operation` (only run_task is wired) is carried out but
        answered with a 500 ServerException, as if the answer was lost on the way back."""
        self._lost.append(operation)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):
                self._lost.remove(operation)

    @contextlib.contextmanager
    def stall(self) -> Iterator[None]:
        """While inside, new tasks stay PROVISIONING (no capacity yet)."""
        self.stalled = True
        try:
            yield
        finally:
            self.stalled = False

    def _patch_run_task(self) -> None:
        from moto.core.exceptions import JsonRESTError
        from moto.core.responses import ActionResult
        from moto.ecs.responses import EC2ContainerServiceResponse

        emulator = self
        original = self._original_run_task = EC2ContainerServiceResponse.run_task

        class ServerError(JsonRESTError):
            code = 500

        def run_task(response: Any) -> Any:
            token = response._get_param("clientToken")
            known = emulator._client_tokens.get(token) if token else None
            if known:  # the same request again: the same tasks
                tasks = response.ecs_backend.describe_tasks(response._get_param("cluster", "default"), known)
                return ActionResult({"tasks": tasks, "failures": []})
            result = original(response)
            tasks = result.result["tasks"]
            started = [t.task_arn for t in tasks]
            for task in tasks:
                task.last_status = "PROVISIONING"
            if token:
                emulator._client_tokens[token] = started
            if "run_task" in emulator._lost:
                emulator._lost.remove("run_task")
                raise ServerError("ServerException", "Service unavailable (the answer was lost)")
            return result

        EC2ContainerServiceResponse.run_task = run_task

    # the glue -------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            for tasks in list(self.backend.tasks.values()):
                for arn, task in list(tasks.items()):
                    try:
                        self._step(arn, task)
                    except Exception as exc:  # keep the glue alive; say why a task broke
                        self._stop_task(task, None, "TaskFailedToStart", f"emulator glue error: {exc!r}")

    def _step(self, arn: str, task: Any) -> None:
        if arn not in self._seen:
            if self.stalled:
                return
            self._seen.add(arn)
            self._launch(arn, task)
            return
        container = self.simulator.get(arn)
        if container is not None and container.exit_code is not None and task.last_status != "STOPPED":
            self._finish(task, container)

    def _launch(self, arn: str, task: Any) -> None:
        task_def = self.backend.describe_task_definition(task.task_definition_arn)
        definition = task_def.container_definitions[0]
        override = next(
            (o for o in task.overrides.get("containerOverrides", []) if o.get("name") == definition["name"]),
            {},
        )
        image = definition["image"]
        if image in self.pull_errors:
            self._stop_task(task, None, "TaskFailedToStart", self.pull_errors[image])
            return
        env = {e["name"]: e["value"] for e in definition.get("environment") or []}
        env.update({e["name"]: e["value"] for e in override.get("environment") or []})
        try:
            env.update(self._secrets(definition.get("secrets") or []))
            self._check_log_group(definition)
        except LookupError as exc:
            self._stop_task(task, None, "TaskFailedToStart", f"ResourceInitializationError: {exc}")
            return
        command = override.get("command") or definition.get("command")
        if not command:
            self._stop_task(task, None, "TaskFailedToStart", "CannotStartContainerError: no command")
            return
        try:
            mounts = self._mounts(task_def.volumes or [], definition.get("mountPoints") or [])
        except LookupError as exc:
            self._stop_task(task, None, "TaskFailedToStart", f"ResourceInitializationError: {exc}")
            return
        task.last_status = "RUNNING"
        self.simulator.start(arn, command, env, mounts)

    def _mounts(self, volumes: list[dict[str, Any]], mount_points: list[dict[str, Any]]) -> dict[str, Path]:
        """containerPath -> the host folder standing for what ECS mounts there."""
        from moto.efs.models import efs_backends

        by_name = {v["name"]: v for v in volumes}
        mounts = {}
        for point in mount_points:
            volume = by_name.get(point.get("sourceVolume", ""))
            if volume is None:
                raise LookupError(
                    f"mount point {point.get('containerPath')} names no volume {point.get('sourceVolume')!r}"
                )
            efs = volume.get("efsVolumeConfiguration")
            if efs is None:
                continue  # bind mounts: a scratch folder of the task, nothing shared
            file_system = efs["fileSystemId"]
            if file_system not in efs_backends[ACCOUNT][REGION].file_systems_by_id:
                raise LookupError(
                    f"failed to invoke EFS utils commands to set up EFS volumes: file system {file_system} not found"
                )
            root = efs.get("rootDirectory", "/").strip("/")
            mounts[point["containerPath"]] = self.simulator.log_dir / "efs" / file_system / root
        return mounts

    def _finish(self, task: Any, container: SimulatedContainer) -> None:
        code = container.exit_code
        assert code is not None
        if code < 0:  # killed by a signal: Docker reports 128 + the signal number
            code = 128 + signal.Signals(-code).value
        self._write_logs(task, container.output)
        if task.desired_status == "STOPPED":  # stop_task asked for it
            self._stop_task(task, code, "UserInitiated", task.stopped_reason)
        else:
            self._stop_task(task, code, "EssentialContainerExited", "Essential container in task exited")

    def _stop_task(self, task: Any, exit_code: int | None, stop_code: str, reason: str) -> None:
        container = task.containers[0]
        container.exitCode = exit_code
        container.last_status = "STOPPED"
        task.stop_code = stop_code
        task.stopped_reason = reason
        task.desired_status = "STOPPED"
        task.last_status = "STOPPED"

    def _patch_stop_task(self) -> None:
        """ECS's stop_task signals the container and the task is STOPPED only once it exits
        (moto marks it STOPPED at once, with exit code 0)."""
        backend = self.backend
        original = backend.stop_task

        def stop_task(cluster_str: str, task_str: str, reason: str) -> Any:
            task_id = task_str.split("/")[-1]
            for tasks in backend.tasks.values():
                for arn, task in tasks.items():
                    container = self.simulator.get(arn)
                    if arn.endswith(task_id) and container is not None and container.exit_code is None:
                        task.desired_status = "STOPPED"
                        task.stopped_reason = reason or "Task stopped by user"
                        task.last_status = "DEACTIVATING"
                        threading.Thread(target=container.stop, daemon=True).start()
                        return task
            return original(cluster_str, task_str, reason)

        backend.stop_task = stop_task

    def _secrets(self, secrets: list[dict[str, str]]) -> dict[str, str]:
        from moto.secretsmanager.models import secretsmanager_backends

        store = secretsmanager_backends[ACCOUNT][REGION]
        values = {}
        for secret in secrets:
            # valueFrom: <secret arn>[:<json key>:<version stage>:<version id>]
            parts = secret["valueFrom"].split(":")
            arn, key = ":".join(parts[:7]), (parts[7] if len(parts) > 7 else "")
            try:
                text = store.get_secret_value(arn, None, None)["SecretString"]
            except Exception as exc:
                raise LookupError(f"unable to pull secrets: {secret['valueFrom']}: {exc}") from exc
            values[secret["name"]] = json.loads(text)[key] if key else text
        return values

    def _log_options(self, definition: dict[str, Any]) -> dict[str, str] | None:
        config = definition.get("logConfiguration") or {}
        return config.get("options") if config.get("logDriver") == "awslogs" else None

    def _check_log_group(self, definition: dict[str, Any]) -> None:
        options = self._log_options(definition)
        if options and options.get("awslogs-create-group") != "true":
            groups = self.client("logs").describe_log_groups(logGroupNamePrefix=options["awslogs-group"])
            if not any(g["logGroupName"] == options["awslogs-group"] for g in groups["logGroups"]):
                raise LookupError(
                    f"failed to validate logger args: the log group {options['awslogs-group']} does not exist"
                )

    def _write_logs(self, task: Any, output: str) -> None:
        definition = self.backend.describe_task_definition(task.task_definition_arn).container_definitions[0]
        options = self._log_options(definition)
        if not options or not output:
            return
        logs = self.client("logs")
        group = options["awslogs-group"]
        stream = f"{options.get('awslogs-stream-prefix', '')}/{definition['name']}/{task.id}"
        if options.get("awslogs-create-group") == "true":
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line} for line in output.splitlines() if line]
        if events:
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
