"""What the control plane reads from the examples, checked against the Python side: the
function's settings are ones `control_plane.settings.Settings` knows and include every
one it needs on Lambda, the handler and the tick are right, and each pool registration is
a pool the control plane accepts with defaults valid for the pool type's job template."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from control_plane.models import PoolCreate
from control_plane.settings import Settings
from push_pools import registry
from tests.terraform.conftest import EXAMPLES, resources

FUNCTION = "module.control_plane.aws_lambda_function.this"
# Read by libraries on Lambda, not by pushflow's settings (docs/settings.md).
LIBRARY_SETTINGS = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "GOOGLE_APPLICATION_CREDENTIALS",  # google-auth: the Cloud Run pools' keyless access
}
# What the Lambda control plane cannot run without, or runs wrongly without
# (control_plane/aws_lambda/container.py, database.py; docs/settings.md).
REQUIRED_ON_LAMBDA = {
    "PUSHFLOW_API_URL",  # runs call back to it
    "PUSHFLOW_API_KEY_SECRET_ARN",  # the admin key, never as a plain value
    "PUSHFLOW_SERVER_SECRET_ARN",  # signs run tokens; the function refuses to start without it
    "PUSHFLOW_DATABASE_URL",  # PostgreSQL: host and database
    "PUSHFLOW_DATABASE_SECRET_ARN",  # its credentials
    "PUSHFLOW_RUN_LOOPS",  # off: no threads on Lambda, the tick drives the passes
    "PUSHFLOW_DISPATCH_QUEUE_URL",  # without it scheduled runs start a tick late
    "PUSHFLOW_TICK_INTERVAL",  # must match the schedule
    "PUSHFLOW_BUNDLE_STORE",  # `pushflow deploy` uploads code; a Lambda has no folder to keep it in
}
AWS_EXAMPLES = [e for e in EXAMPLES if e in ("aws", "multi-cloud")]


def applied(states: Callable[[str], dict[str, Any]], example: str) -> dict[str, dict[str, Any]]:
    return resources(states(f"examples/{example}")["apply"])


def environment(found: dict[str, dict[str, Any]]) -> dict[str, str]:
    return dict(found[FUNCTION]["environment"][0]["variables"])


@pytest.mark.parametrize("example", AWS_EXAMPLES)
def test_function_settings_are_known_and_complete(test_run_states: Callable[..., Any], example: str) -> None:
    env = environment(applied(test_run_states, example))
    known = {f"PUSHFLOW_{name.upper()}" for name in Settings.model_fields} | LIBRARY_SETTINGS
    assert not set(env) - known, f"the function sets names the control plane does not read: {set(env) - known}"
    assert not REQUIRED_ON_LAMBDA - set(env), f"missing: {REQUIRED_ON_LAMBDA - set(env)}"
    assert env["PUSHFLOW_RUN_LOOPS"] == "false"
    # Each value parses as the setting's type (pydantic reads them the same way on Lambda).
    settings = Settings(**{k.removeprefix("PUSHFLOW_").lower(): v for k, v in env.items() if k.startswith("PUSHFLOW_")})
    assert settings.api_url == env["PUSHFLOW_API_URL"] and settings.api_url.endswith("/api")
    fields = Settings.model_fields.items()
    secret_fields = {f"PUSHFLOW_{n.upper()}" for n, f in fields if "SecretStr" in str(f.annotation)}
    assert not secret_fields & set(env), "secrets travel by ARN, never as values in the function's environment"


@pytest.mark.parametrize("example", AWS_EXAMPLES)
def test_handler_tick_and_migration(test_run_states: Callable[..., Any], example: str) -> None:
    found = applied(test_run_states, example)
    function = found[FUNCTION]
    assert function["handler"] == "control_plane.aws_lambda.handler"
    import control_plane.aws_lambda

    assert callable(control_plane.aws_lambda.handler)
    (target,) = found["module.control_plane.aws_scheduler_schedule.tick"]["target"]
    assert target["arn"] == function["arn"]
    assert json.loads(target["input"]) == {"pushflow": "tick"}
    tick = float(environment(found)["PUSHFLOW_TICK_INTERVAL"])
    assert found["module.control_plane.aws_scheduler_schedule.tick"]["schedule_expression"] == "rate(1 minute)"
    assert tick == 60
    migrate = found["module.control_plane.aws_lambda_invocation.migrate"]
    assert json.loads(migrate["input"]) == {"pushflow": "migrate"}
    assert migrate["function_name"] == function["function_name"]


def registrations(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every `upsert-pool` invocation, by resource address."""
    invocations = {a: v for a, v in found.items() if ".aws_lambda_invocation." in a}
    return {a: v for a, v in invocations.items() if json.loads(v["input"]).get("pushflow") == "upsert-pool"}


@pytest.mark.parametrize("example", AWS_EXAMPLES)
def test_pool_registrations_validate_against_the_job_template(
    test_run_states: Callable[..., Any], example: str
) -> None:
    found = applied(test_run_states, example)
    invocations = registrations(found)
    assert len(invocations) >= 2, "the example registers its pools"
    for invocation in invocations.values():
        assert invocation["function_name"] == found[FUNCTION]["function_name"]
        payload = json.loads(invocation["input"])
        assert payload.pop("pushflow") == "upsert-pool"
        pool = PoolCreate.model_validate(payload)  # what the handler's upsert-pool validates
        assert set(payload) <= set(PoolCreate.model_fields), set(payload) - set(PoolCreate.model_fields)
        job = registry.load(pool.type)().Job
        jsonschema.validate(pool.defaults, job.model_json_schema())
        job.model_validate(pool.defaults)  # complete: the examples give an image
        if pool.type == "managed":  # the inner pool's part, as the managed pool will parse it
            inner = registry.load(pool.defaults["inner"])().Job
            inner.model_validate({**pool.defaults["inner_job"], "image": "stock:1"})


def test_google_access_from_aws_is_a_credential_configuration_google_auth_accepts(
    test_run_states: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control plane's AWS credentials (as Lambda sets them) become a signed
    GetCallerIdentity request for Google's STS, with no call to AWS and no key file."""
    from google.auth import aws

    state = test_run_states("examples/multi-cloud")["apply"]
    found = resources(state)
    layer = found["module.control_plane.aws_lambda_layer_version.google[0]"]
    assert layer["layer_name"].endswith("google-credentials")
    path = environment(found)["GOOGLE_APPLICATION_CREDENTIALS"]
    assert path.startswith("/opt/")  # where Lambda unpacks layers
    archive = found["module.control_plane.data.archive_file.google[0]"]
    (source,) = archive["source"]
    assert "/opt/" + source["filename"] == path
    info = json.loads(source["content"])
    for name, value in {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    credentials = aws.Credentials.from_info(info)
    token = json.loads(urllib.parse.unquote(credentials.retrieve_subject_token(None)))
    assert token["url"].startswith("https://sts.eu-west-1.amazonaws.com")
    assert {"key": "x-goog-cloud-target-resource", "value": info["audience"]} in token["headers"]
    assert info["service_account_impersonation_url"].endswith(
        found["module.cloud_run_pool.google_service_account.this"]["email"] + ":generateAccessToken"
    )


def test_azure_sign_in_travels_by_secret_arn(test_run_states: Callable[..., Any]) -> None:
    found = resources(test_run_states("examples/multi-cloud")["apply"])
    secret_arn = found["module.aci_pool.aws_secretsmanager_secret.this[0]"]["arn"]
    assert environment(found)["PUSHFLOW_AZURE_CREDENTIALS_SECRET_ARN"] == secret_arn
    stored = json.loads(found["module.aci_pool.aws_secretsmanager_secret_version.this[0]"]["secret_string"])
    from control_plane.aws_lambda.azure import FIELDS

    assert set(stored) == set(FIELDS)  # what the function reads at cold start
