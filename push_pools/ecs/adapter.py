"""The `ecs` pool: each run attempt is one ECS task (Fargate by default), started with boto3.

The ref's id is the task ARN (it names region and cluster); its locator adds the endpoint
override, and the per-run secret and task-definition revision that `release` deletes.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from push_pools.base import InfraPhase, InfraRef, InfraStatus, Released, RunSpec
from push_pools.ecs.aws import AwsApi, Backoff, Endpoint, error_code
from push_pools.ecs.job import EcsJob
from push_pools.ecs.status import CONTAINER_NAME, describe_failures, task_status
from push_pools.ecs.taskdef import TaskDefinitions
from push_pools.errors import CapacityError, JobConfigError, PushPoolError, SubmissionError

DEADLINE_TAG = "pushflow.deadline"
_ARN = re.compile(r"^arn:[\w-]+:ecs:(?P<region>[\w-]+):\d+:task/(?:(?P<cluster>[^/]+)/)?(?P<id>[\w-]+)$")
_TAG_UNSAFE = re.compile(r"[^\w\s+=.:/@-]")
_DESCRIBE_BATCH = 100  # DescribeTasks takes up to 100 tasks per call
_LOG_TAIL = 200


class EcsPool:
    kind: ClassVar[str] = "ecs"
    Job: ClassVar[type[EcsJob]] = EcsJob
    max_batch: ClassVar[int] = _DESCRIBE_BATCH

    def __init__(self, *, backoff: Backoff | None = None) -> None:
        self._api = AwsApi(backoff)
        self._task_definitions = TaskDefinitions(self._api)

    def provision(self, defaults: Mapping[str, Any], report: Callable[[str], Any] = print) -> dict[str, Any]:
        """Create the cloud side a pool needs; see push_pools.ecs.provision."""
        from push_pools.ecs.provision import provision_pool

        return provision_pool(defaults, report=report, api=self._api)

    # submit ---------------------------------------------------------------------------

    def submit(self, run: RunSpec, job: EcsJob, *, timeout: float = 30.0) -> InfraRef:
        _check_submittable(job)
        where = Endpoint(job.region, job.endpoint_url)
        started_by = _started_by(run)
        locator = _locator(where, job.cluster)
        secret_name = None
        if job.run_token_secret_prefix and run.secret_env:
            secret_name = job.run_token_secret_prefix + run.idempotency_token.removeprefix("pushflow-")
            locator["secret"] = secret_name
        existing = self._find_started(where, job.cluster, started_by)
        if existing:  # this attempt was submitted before (perhaps by another process)
            task_definition = existing.get("taskDefinitionArn", "")
            if secret_name and task_definition:
                locator["task_definition"] = task_definition
            return self._ref(existing["taskArn"], locator)
        env = {**job.env, **run.env}
        if secret_name:
            secret_arn = self._store_secrets(where, secret_name, run)
            task_definition = self._task_definitions.register_with_secrets(
                where, job, {name: f"{secret_arn}:{name}::" for name in run.secret_env}
            )
            locator["task_definition"] = task_definition  # per run: deregistered on release
        else:
            env.update(run.secret_env)
            task_definition = self._task_definitions.ensure(where, job)
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
        tasks = started.get("tasks") or []
        if not tasks:
            message, capacity = describe_failures(started.get("failures") or [])
            error = CapacityError if capacity else SubmissionError
            raise error(f"ECS started no task on cluster {job.cluster!r}: {message}")
        return self._ref(tasks[0]["taskArn"], locator)

    def _find_started(self, where: Endpoint, cluster: str, started_by: str) -> dict[str, Any] | None:
        """The task this attempt started before, if any: `startedBy` is derived from the run
        id *and* the attempt, so attempt 2 never finds attempt 1's stopped task."""
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
            arns = found.get("taskArns") or []
            if arns:
                described = self._api.call(where, "ecs", "describe_tasks", cluster=cluster, tasks=arns[:1])
                tasks = described.get("tasks") or [{"taskArn": arns[0]}]
                return dict(tasks[0])
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
            where, "secretsmanager", "put_secret_value", refused=SubmissionError, SecretId=name, SecretString=value
        )
        return str(updated["ARN"])

    # status, cancel, logs, release ------------------------------------------------------

    def status(self, ref: InfraRef) -> InfraStatus:
        return self.statuses([ref])[ref.id]

    def statuses(self, refs: Sequence[InfraRef]) -> dict[str, InfraStatus]:
        """One DescribeTasks call per 100 tasks of one cluster and endpoint."""
        groups: dict[tuple[Endpoint, str], list[InfraRef]] = {}
        for ref in refs:
            where, cluster, _ = _locate(ref)
            groups.setdefault((where, cluster), []).append(ref)
        out: dict[str, InfraStatus] = {}
        for (where, cluster), members in groups.items():
            for start in range(0, len(members), _DESCRIBE_BATCH):
                chunk = members[start : start + _DESCRIBE_BATCH]
                tasks = self._describe(where, cluster, [r.id for r in chunk])
                for ref in chunk:
                    out[ref.id] = _status_of(ref, tasks.get(ref.id))
        return out

    def cancel(self, ref: InfraRef, *, grace: float = 30.0) -> None:
        # ECS sends SIGTERM, then SIGKILL after the container's stopTimeout (30 s by default).
        self._stop(ref, "cancelled through pushflow")

    def logs(self, ref: InfraRef, *, limit: int = 200) -> list[str]:
        """The container's CloudWatch stream, then why ECS stopped the task (when it has)."""
        where, cluster, _ = _locate(ref)
        task = self._describe(where, cluster, [ref.id]).get(ref.id)
        if task is None:
            return []
        lines = self._stream(ref, task, limit)
        status = task_status(task)
        if status.ended and status.reason:
            lines.append(f"[ecs] {status.reason}")
        return lines[-limit:]

    def release(self, ref: InfraRef) -> Released:
        """Stop the task if it still runs (e.g. past its deadline), keep its log tail, then
        delete the per-run secret and deregister the per-run task-definition revision."""
        where, _, _ = _locate(ref)
        status = self.status(ref)
        if not status.ended or (status.reason or "").startswith("run timeout"):
            self._stop(ref, f"pushflow: released ({status.reason or 'attempt over'})")
        tail = self.logs(ref, limit=_LOG_TAIL) if status.phase is not InfraPhase.MISSING else []
        if ref.locator.get("secret"):
            try:
                self._api.call(
                    where,
                    "secretsmanager",
                    "delete_secret",
                    SecretId=ref.locator["secret"],
                    ForceDeleteWithoutRecovery=True,
                )
            except PushPoolError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
        if ref.locator.get("task_definition"):
            try:
                self._task_definitions.deregister(where, ref.locator["task_definition"])
            except PushPoolError as exc:  # deregistered already
                if error_code(exc) not in ("ClientException", "InvalidParameterException"):
                    raise
        return Released(status, tail)

    # helpers -----------------------------------------------------------------------------

    def _stream(self, ref: InfraRef, task: Mapping[str, Any], limit: int) -> list[str]:
        where, _, task_id = _locate(ref)
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

    def _describe(self, where: Endpoint, cluster: str, arns: list[str]) -> dict[str, dict[str, Any]]:
        try:
            found = self._api.call(where, "ecs", "describe_tasks", cluster=cluster, tasks=arns, include=["TAGS"])
        except PushPoolError as exc:
            if error_code(exc) == "ClusterNotFoundException":
                return {}
            raise
        return {t["taskArn"]: t for t in found.get("tasks") or []}

    def _stop(self, ref: InfraRef, reason: str) -> None:
        where, cluster, _ = _locate(ref)
        try:
            self._api.call(where, "ecs", "stop_task", cluster=cluster, task=ref.id, reason=reason[:255])
        except PushPoolError as exc:
            if error_code(exc) not in ("InvalidParameterException", "ClusterNotFoundException"):
                raise  # those say the task is gone already

    def _ref(self, arn: str, locator: dict[str, str]) -> InfraRef:
        match = _ARN.match(arn)
        if match is None:
            raise SubmissionError(f"ECS answered with an unexpected task ARN {arn!r}")
        console = (
            f"https://{match['region']}.console.aws.amazon.com/ecs/v2/clusters/"
            f"{match['cluster'] or 'default'}/tasks/{match['id']}"
        )
        return InfraRef(provider=self.kind, id=arn, locator=locator, console_url=console)


def _locator(where: Endpoint, cluster: str) -> dict[str, str]:
    locator = {"cluster": cluster}
    if where.region:
        locator["region"] = where.region
    if where.endpoint_url:
        locator["endpoint_url"] = where.endpoint_url
    return locator


def _locate(ref: InfraRef) -> tuple[Endpoint, str, str]:
    match = _ARN.match(ref.id)
    if match is None:
        raise PushPoolError(f"{ref.id!r} is not an ECS task ARN")
    where = Endpoint(ref.locator.get("region") or match["region"], ref.locator.get("endpoint_url"))
    return where, ref.locator.get("cluster") or match["cluster"] or "default", match["id"]


def _status_of(ref: InfraRef, task: Mapping[str, Any] | None) -> InfraStatus:
    if task is None:
        return InfraStatus(
            InfraPhase.MISSING,
            reason=f"ECS has no record of task {ref.id} (stopped tasks are kept for about an hour)",
        )
    status = task_status(task)
    deadline = _deadline(task)
    if not status.ended and deadline is not None and time.time() > deadline:
        timeout = next((t["value"] for t in task.get("tags", []) if t["key"] == "pushflow.run-timeout"), "?")
        # A read never stops anything: release stops the task.
        return InfraStatus(InfraPhase.EXITED, reason=f"run timeout of {timeout}s exceeded; the task is stopped")
    return status


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


def _started_by(run: RunSpec) -> str:
    """startedBy takes up to 36 letters, digits, hyphens and underscores: a hash of the
    idempotency token (run id and attempt), so each attempt finds only its own task."""
    return "pf-" + hashlib.sha256(run.idempotency_token.encode()).hexdigest()[:33]


def _client_token(run: RunSpec) -> str:
    token = run.idempotency_token
    return token if len(token) <= 64 else "pushflow-" + hashlib.sha256(token.encode()).hexdigest()[:55]


def _tags(run: RunSpec, job: EcsJob) -> list[dict[str, str]]:
    tags = {**job.tags, **run.labels, "pushflow.attempt": str(run.attempt)}
    if job.run_timeout_seconds:
        tags["pushflow.run-timeout"] = str(job.run_timeout_seconds)
        tags[DEADLINE_TAG] = str(int(time.time()) + job.run_timeout_seconds)
    return [{"key": k[:128], "value": _TAG_UNSAFE.sub("_", v)[:256]} for k, v in tags.items()][:50]


def _deadline(task: Mapping[str, Any]) -> float | None:
    for tag in task.get("tags") or []:
        if tag.get("key") == DEADLINE_TAG and str(tag.get("value", "")).isdigit():
            return float(tag["value"])
    return None
