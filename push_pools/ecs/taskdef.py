"""Task definitions, registered once per distinct content and reused.

The family is named after a hash of the content (`pushflow-<hash>`), so every run with the
same image, size, roles and logging reuses one revision; what differs per run (command,
environment) travels as `run_task` overrides. Registering a revision per run is what makes
busy accounts hit "Too many concurrent attempts" on RegisterTaskDefinition.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from push_pools.ecs.aws import AwsApi, Endpoint, error_code
from push_pools.ecs.job import EcsJob, EfsCache
from push_pools.ecs.status import CONTAINER_NAME
from push_pools.errors import PushPoolError, SubmissionError

DEPS_VOLUME = "pushflow-deps-cache"


def definition(job: EcsJob, region: str | None) -> dict[str, Any]:
    """The RegisterTaskDefinition body for `job`, without its family."""
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": job.image,
        "essential": True,
        "memory": job.memory,
    }
    volumes = []
    if job.deps_cache is not None:
        volumes.append(_efs_volume(job.deps_cache))
        container["mountPoints"] = [{"sourceVolume": DEPS_VOLUME, "containerPath": job.deps_cache.mount_path}]
        container["environment"] = [{"name": k, "value": v} for k, v in job.deps_cache.env().items()]
    if job.log_group:
        options = {"awslogs-group": job.log_group, "awslogs-stream-prefix": job.log_stream_prefix}
        if region:
            options["awslogs-region"] = region
        container["logConfiguration"] = {"logDriver": "awslogs", "options": options}
    body: dict[str, Any] = {
        "containerDefinitions": [container],
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE" if job.on_fargate else "EC2"],
        "cpu": str(job.cpu),
        "memory": str(job.memory),
    }
    if volumes:
        body["volumes"] = volumes
    if job.execution_role_arn:
        body["executionRoleArn"] = job.execution_role_arn
    if job.task_role_arn:
        body["taskRoleArn"] = job.task_role_arn
    return body


def _efs_volume(cache: EfsCache) -> dict[str, Any]:
    config: dict[str, Any] = {
        "fileSystemId": cache.file_system_id,
        "rootDirectory": cache.root_directory,
        "transitEncryption": "ENABLED" if cache.transit_encryption else "DISABLED",
    }
    if cache.access_point_id or cache.iam:
        authorization: dict[str, str] = {"iam": "ENABLED" if cache.iam else "DISABLED"}
        if cache.access_point_id:
            authorization["accessPointId"] = cache.access_point_id
        config["authorizationConfig"] = authorization
    return {"name": DEPS_VOLUME, "efsVolumeConfiguration": config}


def family_of(body: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"pushflow-{digest[:20]}"


class TaskDefinitions:
    def __init__(self, api: AwsApi) -> None:
        self._api = api
        self._known: dict[tuple[Endpoint, str], str] = {}
        self._lock = threading.Lock()

    def ensure(self, where: Endpoint, job: EcsJob) -> str:
        """The ARN of an active revision with `job`'s content; registers one only if none exists."""
        body = definition(job, where.region)
        family = family_of(body)
        with self._lock:  # one registration per family, however many runs start at once
            arn = self._known.get((where, family))
            if arn is None:
                arn = self._find(where, family) or self._register(where, family, body)
                self._known[(where, family)] = arn
            return arn

    def register_with_secrets(self, where: Endpoint, job: EcsJob, secrets: Mapping[str, str]) -> str:
        """A revision (of the job's family) whose container reads each variable in `secrets`
        (name -> valueFrom). Per run by nature: deregister it once the task has started."""
        body = definition(job, where.region)
        family = family_of(body)
        body["containerDefinitions"][0]["secrets"] = [
            {"name": name, "valueFrom": value_from} for name, value_from in secrets.items()
        ]
        return self._register(where, family, body)

    def deregister(self, where: Endpoint, arn: str) -> None:
        self._api.call(where, "ecs", "deregister_task_definition", taskDefinition=arn)

    def _find(self, where: Endpoint, family: str) -> str | None:
        try:
            found = self._api.call(where, "ecs", "describe_task_definition", taskDefinition=family)
        except PushPoolError as exc:
            if error_code(exc) == "ClientException":  # ECS's "Unable to describe task definition"
                return None
            raise
        task_def = found["taskDefinition"]
        if task_def.get("status") != "ACTIVE" or task_def["containerDefinitions"][0].get("secrets"):
            return None
        return str(task_def["taskDefinitionArn"])

    def _register(self, where: Endpoint, family: str, body: dict[str, Any]) -> str:
        registered = self._api.call(
            where,
            "ecs",
            "register_task_definition",
            refused=SubmissionError,
            family=family,
            tags=[{"key": "pushflow.managed", "value": "true"}],
            **body,
        )
        return str(registered["taskDefinition"]["taskDefinitionArn"])
