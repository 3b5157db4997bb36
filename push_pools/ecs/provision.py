"""`pushflow pool provision` for ecs pools: the cloud side a pool needs, created if
missing (so it is safe to re-run): a cluster, a task execution role, a log group, and
the default VPC's subnets when none are set. Returns the pool defaults with them filled in."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from push_pools.ecs.aws import AwsApi, Endpoint, error_code
from push_pools.errors import PushPoolError

DEFAULT_CLUSTER = "pushflow"
DEFAULT_LOG_GROUP = "/pushflow/runs"
EXECUTION_ROLE = "pushflow-ecs-execution"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def provision_pool(
    defaults: Mapping[str, Any],
    *,
    report: Callable[[str], Any] = print,
    api: AwsApi | None = None,
) -> dict[str, Any]:
    api = api or AwsApi()
    where = Endpoint(defaults.get("region"), defaults.get("endpoint_url"))
    result = dict(defaults)
    cluster = defaults.get("cluster") if defaults.get("cluster") not in (None, "default") else None
    result["cluster"] = ensure_cluster(api, where, cluster or DEFAULT_CLUSTER, report)
    if not defaults.get("execution_role_arn"):
        secrets = defaults.get("run_token_secret_prefix")
        result["execution_role_arn"] = ensure_execution_role(api, where, secrets, report)
    result["log_group"] = ensure_log_group(api, where, defaults.get("log_group") or DEFAULT_LOG_GROUP, report)
    if not defaults.get("subnets"):
        subnets = default_subnets(api, where)
        if subnets:
            result["subnets"] = subnets
            report(f"subnets: the default VPC's {', '.join(subnets)}")
        else:
            report("subnets: no default VPC here; set them with PATCH or `--set subnets=[...]`")
    return result


def ensure_cluster(api: AwsApi, where: Endpoint, name: str, report: Callable[[str], Any]) -> str:
    found = api.call(where, "ecs", "describe_clusters", clusters=[name])
    if any(c.get("status") == "ACTIVE" for c in found.get("clusters", [])):
        report(f"cluster {name}: exists")
    else:
        api.call(
            where,
            "ecs",
            "create_cluster",
            clusterName=name,
            capacityProviders=["FARGATE", "FARGATE_SPOT"],
        )
        report(f"cluster {name}: created")
    return name


def ensure_execution_role(api: AwsApi, where: Endpoint, secret_prefix: str | None, report: Callable[[str], Any]) -> str:
    try:
        arn = str(api.call(where, "iam", "get_role", RoleName=EXECUTION_ROLE)["Role"]["Arn"])
        report(f"execution role {EXECUTION_ROLE}: exists")
    except PushPoolError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        created = api.call(
            where,
            "iam",
            "create_role",
            RoleName=EXECUTION_ROLE,
            AssumeRolePolicyDocument=json.dumps(TRUST),
            Description="Lets ECS pull pushflow images and write their logs",
        )
        arn = str(created["Role"]["Arn"])
        report(f"execution role {EXECUTION_ROLE}: created")
    api.call(where, "iam", "attach_role_policy", RoleName=EXECUTION_ROLE, PolicyArn=EXECUTION_POLICY)
    if secret_prefix:  # the run token as an ECS secret: the role must read those secrets
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": f"arn:aws:secretsmanager:*:*:secret:{secret_prefix}*",
                }
            ],
        }
        api.call(
            where,
            "iam",
            "put_role_policy",
            RoleName=EXECUTION_ROLE,
            PolicyName="pushflow-run-tokens",
            PolicyDocument=json.dumps(policy),
        )
    return arn


def ensure_log_group(api: AwsApi, where: Endpoint, name: str, report: Callable[[str], Any]) -> str:
    try:
        api.call(where, "logs", "create_log_group", logGroupName=name)
        report(f"log group {name}: created")
    except PushPoolError as exc:
        if error_code(exc) != "ResourceAlreadyExistsException":
            raise
        report(f"log group {name}: exists")
    return name


def default_subnets(api: AwsApi, where: Endpoint) -> list[str]:
    vpcs = api.call(where, "ec2", "describe_vpcs", Filters=[{"Name": "isDefault", "Values": ["true"]}])
    if not vpcs.get("Vpcs"):
        return []
    vpc_id = vpcs["Vpcs"][0]["VpcId"]
    subnets = api.call(
        where,
        "ec2",
        "describe_subnets",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "default-for-az", "Values": ["true"]},
        ],
    )
    return sorted(s["SubnetId"] for s in subnets.get("Subnets", []))
