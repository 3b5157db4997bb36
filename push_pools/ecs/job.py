"""The `ecs` job template: what a run needs to become one ECS task."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from push_pools.base import JobVariables
from push_pools.deps_cache import CacheVolume

# The CPU sizes Fargate accepts (AWS "Task CPU and memory"); checked here so a typo fails
# before anything reaches AWS. Memory ranges per size are left to AWS to check.
FARGATE_CPU = (256, 512, 1024, 2048, 4096, 8192, 16384)


class CapacityProviderItem(BaseModel):
    """One capacity provider of the task's strategy, and its weight."""

    model_config = ConfigDict(extra="forbid")

    capacity_provider: str = Field(description="e.g. FARGATE, FARGATE_SPOT or an EC2 capacity provider")
    weight: int = Field(default=1, ge=0, le=1000)
    base: int = Field(default=0, ge=0, le=100000)


class EfsCache(CacheVolume):
    """An Amazon EFS file system mounted into every task as the requirements cache: the task
    definition's `volumes[].efsVolumeConfiguration` and the container's `mountPoints`
    (ECS Developer Guide, "Specify an Amazon EFS file system in an Amazon ECS task
    definition"). Fargate needs platform version 1.4.0 or later (LATEST is) and the task's
    security group must reach the file system's mount targets on port 2049."""

    file_system_id: str = Field(pattern=r"^fs-[0-9a-f]{8,40}$", description="The EFS file system, e.g. fs-0123abcd")
    root_directory: str = Field(
        default="/", description="The folder of the file system to mount; must be / with an access point"
    )
    access_point_id: str | None = Field(
        default=None, pattern=r"^fsap-[0-9a-f]{8,40}$", description="An EFS access point (sets the folder and the user)"
    )
    iam: bool = Field(default=False, description="Mount with the task role's IAM identity (needs transit encryption)")
    transit_encryption: bool = Field(default=True, description="Encrypt traffic to EFS (TLS)")

    @model_validator(mode="after")
    def _documented_combinations(self) -> EfsCache:
        # "If an EFS access point is specified in the authorizationConfig, the root directory
        # parameter must either be omitted or set to /", and an access point or IAM
        # authorization needs transit encryption ENABLED (same page).
        if self.access_point_id and self.root_directory != "/":
            raise ValueError("with access_point_id, root_directory must be / (the access point sets the folder)")
        if (self.access_point_id or self.iam) and not self.transit_encryption:
            raise ValueError("access_point_id and iam need transit_encryption=true")
        return self


class EcsJob(JobVariables):
    image: str = Field(description="Container image holding pushflow and the flow's dependencies")
    command: list[str] = Field(
        default_factory=lambda: ["pushflow", "execute"],
        description="Container command",
        json_schema_extra={"minItems": 1},  # _command_not_empty checks it, with an example
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables")
    cpu: int = Field(default=256, gt=0, description="Task CPU units (1024 = one vCPU)")
    memory: int = Field(default=512, gt=0, description="Task memory in MiB")
    cluster: str = Field(default="default", description="ECS cluster name or ARN")
    launch_type: Literal["FARGATE", "FARGATE_SPOT", "EC2"] = Field(
        default="FARGATE",
        description="FARGATE_SPOT runs on the FARGATE_SPOT capacity provider; ignored when "
        "capacity_provider_strategy is set",
    )
    capacity_provider_strategy: list[CapacityProviderItem] | None = Field(
        default=None,
        description="Capacity providers to place the task with (instead of launch_type)",
    )
    subnets: list[str] = Field(default_factory=list, description="Subnet ids for the task (awsvpc)")
    security_groups: list[str] = Field(default_factory=list, description="Security group ids")
    assign_public_ip: bool = Field(
        default=True,
        description="Give the task a public IP (needed to pull images from public subnets)",
    )
    task_role_arn: str | None = Field(default=None, description="IAM role the flow code runs as")
    execution_role_arn: str | None = Field(
        default=None, description="IAM role ECS uses to pull the image, write logs and read secrets"
    )
    log_group: str | None = Field(
        default=None, description="CloudWatch Logs group for the container's output (awslogs)"
    )
    log_stream_prefix: str = Field(default="pushflow", description="awslogs stream prefix")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags put on each task")
    run_timeout_seconds: int | None = Field(
        default=None,
        gt=0,
        description="Stop the task when it runs longer than this (from submission)",
    )
    region: str | None = Field(
        default=None, description="AWS region; default: AWS_REGION / AWS_DEFAULT_REGION / profile"
    )
    endpoint_url: str | None = Field(
        default=None,
        description="Override the AWS endpoints (private endpoints, emulators); AWS_ENDPOINT_URL "
        "and AWS_ENDPOINT_URL_<SERVICE> work too",
    )
    deps_cache: EfsCache | None = Field(
        default=None, description="An EFS volume for the runtime's requirements cache, shared by every run"
    )
    run_token_secret_prefix: str | None = Field(
        default=None,
        description="Pass the run token as an ECS secret stored in Secrets Manager under "
        "<prefix><run id> instead of an environment override",
    )

    @field_validator("image")
    @classmethod
    def _image_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give a container image, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/flows:1")
        return value

    @field_validator("command")
    @classmethod
    def _command_not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('give at least one word, e.g. ["pushflow", "execute"]')
        return value

    @model_validator(mode="after")
    def _fargate_sizes(self) -> EcsJob:
        if self.on_fargate and self.cpu not in FARGATE_CPU:
            raise ValueError(f"cpu={self.cpu} is not a Fargate size; use one of {', '.join(map(str, FARGATE_CPU))}")
        return self

    @property
    def on_fargate(self) -> bool:
        if self.capacity_provider_strategy:
            return all(i.capacity_provider.startswith("FARGATE") for i in self.capacity_provider_strategy)
        return self.launch_type != "EC2"
