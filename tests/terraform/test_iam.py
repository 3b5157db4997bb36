"""The control plane's IAM policy grants exactly what it uses: the AWS operations its code
was seen calling (recorded against moto, tests/terraform/aws_calls.py) plus the ones AWS
services perform with its role, each listed below with the reason. A missing permission
or an extra one fails here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.terraform import aws_calls
from tests.terraform.conftest import ROOT, resources

POLICY = "aws_iam_role_policy.this"

# Granted although no boto3 call of pushflow's shows them; each says why.
WITHOUT_A_CALL = {
    "iam:PassRole": "RunTask hands the pool's execution and task roles to ECS (only those roles)",
    "ecs:TagResource": "RunTask and RegisterTaskDefinition send tags, which ECS authorizes as TagResource",
    "secretsmanager:TagResource": "CreateSecret sends tags, which Secrets Manager authorizes as TagResource",
    "secretsmanager:PutSecretValue": "push_pools/ecs/adapter.py _store_secrets when the run's secret exists "
    "(a resubmission); no test reaches that path yet",
    "s3:ListBucket": "GetObject of a missing bundle answers NoSuchKey (not AccessDenied) only with ListBucket",
    "sqs:ReceiveMessage": "the Lambda service's SQS event source mapping polls the queue as the function",
    "sqs:DeleteMessage": "the event source mapping deletes delivered messages as the function",
    "sqs:GetQueueAttributes": "the event source mapping reads the queue's attributes as the function",
    "logs:CreateLogStream": "the Lambda service writes the function's output to its log group",
    "logs:PutLogEvents": "the Lambda service writes the function's output to its log group",
    **dict.fromkeys(
        [
            "ec2:AssignPrivateIpAddresses",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:UnassignPrivateIpAddresses",
        ],
        "the Lambda service attaches the function to its subnets (AWSLambdaVPCAccessExecutionRole's actions)",
    ),
}
# Operations IAM authorizes under another action's name (SQS: "batch actions use the
# permissions of the single-message action").
IAM_ACTION = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    # HeadObject has no action of its own: s3:GetObject grants it.
    "s3:HeadObject": "s3:GetObject",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
# Permissions a module option adds; without the option the policy must leave them out.
BY_OPTION = {
    "run_token_secret_prefix": {
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:TagResource",
    },
}


def granted(state: dict[str, Any], address: str) -> set[str]:
    policy = json.loads(resources(state)[address]["policy"])
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        found = statement["Action"]
        actions.update([found] if isinstance(found, str) else found)
    return actions


def needed() -> set[str]:
    called = {IAM_ACTION.get(op, op) for op in aws_calls.listed()["control_plane"]}
    return called | set(WITHOUT_A_CALL)


def _difference(granted: set[str], needed: set[str]) -> str:
    return f"granted but never used: {sorted(granted - needed)}; used but not granted: {sorted(needed - granted)}"


def test_policy_with_every_option_is_exactly_what_the_control_plane_uses(
    test_run_states: Callable[[str], dict[str, Any]],
) -> None:
    actions = granted(test_run_states("modules/control-plane-aws")["all_options"], POLICY)
    assert actions == needed(), _difference(actions, needed())
    assert not [a for a in actions if "*" in a]


def test_the_example_leaves_out_what_its_options_do_not_use(test_run_states: Callable[[str], dict[str, Any]]) -> None:
    actions = granted(test_run_states("examples/aws")["apply"], f"module.control_plane.{POLICY}")
    expected = needed() - BY_OPTION["run_token_secret_prefix"]
    assert actions == expected, _difference(actions, expected)


def test_provisioning_is_terraforms_not_the_control_planes(test_run_states: Callable[[str], dict[str, Any]]) -> None:
    actions = granted(test_run_states("modules/control-plane-aws")["all_options"], POLICY)
    provisioning = set(aws_calls.listed()["provisioning"])
    assert provisioning, (
        "no provisioning calls recorded: run tests/e2e/test_ecs_e2e.py with PUSHFLOW_UPDATE_AWS_CALLS=1"
    )
    # Granted only where the control plane needs the same action for its own reason.
    assert not (actions & provisioning) - set(WITHOUT_A_CALL)


CALL_SITE = re.compile(r'\.call\(\s*\w+,\s*"([a-z0-9-]+)",\s*"([a-z_]+)"')


def test_every_aws_call_in_the_ecs_adapter_is_recorded_or_explained() -> None:
    """A call site no test reaches would be missing from the recording, and so from the
    policy: each must be recorded, or listed above with why."""
    sources = [p for p in (ROOT / "push_pools" / "ecs").glob("*.py") if p.name != "provision.py"]
    sites = {
        f"{service}:{''.join(w.capitalize() for w in op.split('_'))}"
        for path in sources
        for service, op in CALL_SITE.findall(path.read_text())
    }
    assert sites, "no call sites found: has push_pools/ecs changed how it calls AWS?"
    unexplained = sites - needed()
    assert not unexplained, f"called in push_pools/ecs but neither recorded nor explained: {sorted(unexplained)}"
