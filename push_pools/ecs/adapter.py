"""The `ecs` pool: each run is one ECS task (Fargate by default), started with boto3."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from push_pools.base import InfraPhase, InfraRef, InfraStatus, PoolContext, RunSpec
from push_pools.ecs.aws import AwsApi, Backoff, Endpoint, error_code
from push_pools.ecs.job import EcsJob
from push_pools.ecs.status import CONTAINER_NAME, describe_failures, task_status
from push_pools.ecs.taskdef import TaskDefinitions
from push_pools.errors import CapacityError, JobConfigError, PushPoolError, SubmissionError

DEADLINE_TAG = "pushflow.deadline"
_ARN = re.compile(r"^arn:[\w-]+:ecs:(?P<region>[\w-]+):\d+:task/(?:(?P<cluster>[^/]+)/)?(?P<id>[\w-]+)$")
_TAG_UNSAFE = re.compile(r"[^\w\s+=.:/@-]")


class EcsPool:
    Job: ClassVar[type[EcsJob]] = EcsJob  # (before `type`, which shadows the builtin below it)
    type: ClassVar[str] = "ecs"

    def __init__(self, context: PoolContext, *, backoff: Backoff | None = None) -> None:
        self._api = AwsApi(backoff)
        self._task_definitions = TaskDefinitions(self._api)
        self._endpoints = _Endpoints(context.state_dir / "ecs")

    @staticmethod
    def provision(defaults: Mapping[str, Any], report: Any = print) -> dict[str, Any]:
        """Create the cloud side a pool needs; see push_pools.ecs.provision."""
        from push_pools.ecs.provision import provision_pool

        return provision_pool(defaults, report=report)

    # submit ---------------------------------------------------------------------------

    def submit(self, run: RunSpec, job: EcsJob) -> InfraRef:
        _check_submittable(job)
        where = Endpoint(job.region, job.endpoint_url)
        started_by = _started_by(run.run_id)
        existing = self._find_started(where, job.cluster, started_by)
        if existing:  # submitted before (perhaps before a restart): never twice
            return self._ref(where, existing)
        env = {**job.env, **run.env}
        secret_revision = None
        if job.run_token_secret_prefix and run.secret_env:
            secret_arn = self._store_secrets(where, job.run_token_secret_prefix + run.run_id, run)
            secret_revision = self._task_definitions.register_with_secrets(
                where, job, {name: f"{secret_arn}:{name}::" for name in run.secret_env}
            )
            task_definition = secret_revision
        else:
            env.update(run.secret_env)
            task_definition = self._task_definitions.ensure(where, job)
        try:
            started = self._api.call(
                where,
                "ecs",
                "run_task",
                refused=SubmissionError,
                cluster=job.cluster,
                taskDefinition=task_definition,
                count=1,
                startedBy=started_by,
                clientToken=_client_token(run),
                overrides={
                    "containerOverrides": [
                        {
                            "name": CONTAINER_NAME,
                            "command": job.command,
                            "environment": [{"name": k, "value": v} for k, v in env.items()],
                        }
                    ]
                },
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": job.subnets,
                        "securityGroups": job.security_groups,
                        "assignPublicIp": "ENABLED" if job.assign_public_ip else "DISABLED",
                    }
                },
                tags=_tags(run, job),
                **_placement(job),
            )
        finally:
            if secret_revision:  # a started task keeps running on an inactive revision
                self._task_definitions.deregister(where, secret_revision)
        tasks = started.get("tasks") or []
        if not tasks:
            message, capacity = describe_failures(started.get("failures") or [])
            error = CapacityError if capacity else SubmissionError
            raise error(f"ECS started no task on cluster {job.cluster!r}: {message}")
        return self._ref(where, tasks[0]["taskArn"])

    def _find_started(self, where: Endpoint, cluster: str, started_by: str) -> str | None:
        for desired in ("RUNNING", "STOPPED"):
            found = self._api.call(
                where,
                "ecs",
                "list_tasks",
                refused=SubmissionError,
                cluster=cluster,
                startedBy=started_by,
                desiredStatus=desired,
            )
            if found.get("taskArns"):
                return str(found["taskArns"][0])
        return None

    def _store_secrets(self, where: Endpoint, name: str, run: RunSpec) -> str:
        value = json.dumps(dict(run.secret_env))
        try:
            created = self._api.call(
                where,
                "secretsmanager",
                "create_secret",
                refused=SubmissionError,
                Name=name,
                SecretString=value,
                Tags=[{"Key": "pushflow.flow-run", "Value": run.run_id}],
            )
            return str(created["ARN"])
        except PushPoolError as exc:
            if error_code(exc) != "ResourceExistsException":
                raise
        updated = self._api.call(
            where,
            "secretsmanager",
            "put_secret_value",
            refused=SubmissionError,
            SecretId=name,
            SecretString=value,
        )
        return str(updated["ARN"])

    # status, cancel, logs -------------------------------------------------------------

    def status(self, ref: InfraRef) -> InfraStatus:
        task = self._describe(ref)
        if task is None:
            return InfraStatus(
                InfraPhase.MISSING,
                reason=f"ECS has no record of task {ref.id} (stopped tasks are kept for about an hour)",
            )
        status = task_status(task)
        deadline = _deadline(task)
        if not status.ended and deadline is not None and time.time() > deadline:
            timeout = next(
                (t["value"] for t in task.get("tags", []) if t["key"] == "pushflow.run-timeout"),
                "?",
            )
            reason = f"run timeout of {timeout}s exceeded"
            self._stop(ref, f"pushflow: {reason}")
            return InfraStatus(InfraPhase.EXITED, reason=f"{reason}; the task was stopped")
        return status

    def cancel(self, ref: InfraRef, *, grace_seconds: float = 10.0) -> None:
        # ECS sends SIGTERM, then SIGKILL after the container's stopTimeout (30 s by default).
        self._stop(ref, "cancelled through pushflow")

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        """The container's CloudWatch stream, then why ECS stopped the task (when it has)."""
        task = self._describe(ref)
        if task is None:
            return []
        lines = self._stream(ref, task, limit)
        status = task_status(task)
        if status.ended and status.reason:
            lines.append(f"[ecs] {status.reason}")
        return lines[-limit:]

    def _stream(self, ref: InfraRef, task: Mapping[str, Any], limit: int) -> list[str]:
        where, _, task_id = self._locate(ref)
        found = self._api.call(where, "ecs", "describe_task_definition", taskDefinition=task["taskDefinitionArn"])
        container = found["taskDefinition"]["containerDefinitions"][0]
        options = (container.get("logConfiguration") or {}).get("options") or {}
        if "awslogs-group" not in options:
            return []
        stream = f"{options.get('awslogs-stream-prefix', 'pushflow')}/{container['name']}/{task_id}"
        try:
            events = self._api.call(
                where,
                "logs",
                "get_log_events",
                logGroupName=options["awslogs-group"],
                logStreamName=stream,
                limit=limit,
                startFromHead=False,
            )
        except PushPoolError as exc:
            if error_code(exc) == "ResourceNotFoundException":  # the container never wrote
                return []
            raise
        return [str(e["message"]).rstrip("\n") for e in events.get("events", [])]

    def _describe(self, ref: InfraRef) -> dict[str, Any] | None:
        where, cluster, _ = self._locate(ref)
        try:
            found = self._api.call(where, "ecs", "describe_tasks", cluster=cluster, tasks=[ref.id], include=["TAGS"])
        except PushPoolError as exc:
            if error_code(exc) == "ClusterNotFoundException":
                return None
            raise
        tasks = found.get("tasks") or []
        return tasks[0] if tasks else None

    def _stop(self, ref: InfraRef, reason: str) -> None:
        where, cluster, _ = self._locate(ref)
        try:
            self._api.call(where, "ecs", "stop_task", cluster=cluster, task=ref.id, reason=reason)
        except PushPoolError as exc:
            if error_code(exc) not in ("InvalidParameterException", "ClusterNotFoundException"):
                raise  # those say the task is gone already

    def _locate(self, ref: InfraRef) -> tuple[Endpoint, str, str]:
        match = _ARN.match(ref.id)
        if match is None:
            raise PushPoolError(f"{ref.id!r} is not an ECS task ARN")
        where = Endpoint(match["region"], self._endpoints.get(match["id"]))
        return where, match["cluster"] or "default", match["id"]

    def _ref(self, where: Endpoint, arn: str) -> InfraRef:
        match = _ARN.match(arn)
        if match is None:
            raise SubmissionError(f"ECS answered with an unexpected task ARN {arn!r}")
        self._endpoints.remember(match["id"], where.endpoint_url)
        console = (
            f"https://{match['region']}.console.aws.amazon.com/ecs/v2/clusters/"
            f"{match['cluster'] or 'default'}/tasks/{match['id']}"
        )
        return InfraRef(provider=self.type, id=arn, console_url=console)


class _Endpoints:
    """Which endpoint override each task was started through, kept across restarts
    (the ARN names the region; an override is the one thing it cannot say)."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)

    def remember(self, task_id: str, endpoint_url: str | None) -> None:
        if endpoint_url:
            (self._dir / f"{task_id}.endpoint").write_text(endpoint_url)

    def get(self, task_id: str) -> str | None:
        path = self._dir / f"{task_id}.endpoint"
        return path.read_text() if path.exists() else None


def _check_submittable(job: EcsJob) -> None:
    problems = []
    if not job.subnets:
        problems.append(
            {
                "variable": "subnets",
                "message": "ECS tasks use awsvpc networking here; "
                "set `subnets` (`pushflow pool provision` fills in the default VPC's)",
            }
        )
    if job.on_fargate and not job.execution_role_arn and (job.log_group or job.run_token_secret_prefix):
        problems.append(
            {
                "variable": "execution_role_arn",
                "message": "Fargate needs an execution role "
                "to write logs and read secrets (`pushflow pool provision` creates one)",
            }
        )
    if problems:
        text = "; ".join(f"{p['variable']}: {p['message']}" for p in problems)
        raise JobConfigError(f"invalid job variables: {text}", problems)


def _placement(job: EcsJob) -> dict[str, Any]:
    if job.capacity_provider_strategy:
        return {
            "capacityProviderStrategy": [
                {"capacityProvider": i.capacity_provider, "weight": i.weight, "base": i.base}
                for i in job.capacity_provider_strategy
            ]
        }
    if job.launch_type == "FARGATE_SPOT":
        return {"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}
    return {"launchType": job.launch_type}


def _started_by(run_id: str) -> str:
    # startedBy takes up to 36 letters, digits, hyphens and underscores: a UUID fits.
    if re.fullmatch(r"[\w-]{1,36}", run_id):
        return run_id
    return "pf-" + hashlib.sha256(run_id.encode()).hexdigest()[:33]


def _client_token(run: RunSpec) -> str:
    token = run.idempotency_token
    return token if len(token) <= 64 else "pushflow-" + hashlib.sha256(token.encode()).hexdigest()[:55]


def _tags(run: RunSpec, job: EcsJob) -> list[dict[str, str]]:
    tags = {**job.tags, **run.labels}
    if job.run_timeout_seconds:
        tags["pushflow.run-timeout"] = str(job.run_timeout_seconds)
        tags[DEADLINE_TAG] = str(int(time.time()) + job.run_timeout_seconds)
    return [{"key": k[:128], "value": _TAG_UNSAFE.sub("_", v)[:256]} for k, v in tags.items()][:50]


def _deadline(task: Mapping[str, Any]) -> float | None:
    for tag in task.get("tags") or []:
        if tag.get("key") == DEADLINE_TAG and str(tag.get("value", "")).isdigit():
            return float(tag["value"])
    return None
