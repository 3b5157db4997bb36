"""ACI pools from Lambda: the Azure sign-in comes from a Secrets Manager secret by ARN
(PUSHFLOW_AZURE_CREDENTIALS_SECRET_ARN) into what azure-identity reads."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from control_plane.aws_lambda.aws import AwsClients
from control_plane.aws_lambda.azure import FIELDS, load_azure_credentials
from control_plane.aws_lambda.errors import LambdaConfigError
from control_plane.settings import Settings
from tests.helpers import free_port


@pytest.fixture(autouse=True)
def clean_azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in FIELDS.values():
        monkeypatch.delenv(variable, raising=False)


def secret(value: str) -> str:
    return str(boto3.client("secretsmanager").create_secret(Name=f"azure-{free_port()}", SecretString=value)["ARN"])


def test_the_secret_becomes_what_default_azure_credential_reads(aws: str) -> None:
    from azure.identity import ClientSecretCredential, EnvironmentCredential

    arn = secret(json.dumps({"tenant_id": "t-1", "client_id": "c-1", "client_secret": "s-1"}))
    load_azure_credentials(Settings(azure_credentials_secret_arn=arn), AwsClients())
    credential = EnvironmentCredential()
    assert isinstance(credential._credential, ClientSecretCredential)
    assert credential._credential._client_id == "c-1"


def test_an_incomplete_secret_is_refused_without_showing_it(aws: str) -> None:
    arn = secret(json.dumps({"tenant_id": "t-1", "client_secret": "hunter2"}))
    with pytest.raises(LambdaConfigError, match="missing: client_id") as caught:
        load_azure_credentials(Settings(azure_credentials_secret_arn=arn), AwsClients())
    assert "hunter2" not in str(caught.value)


def test_no_setting_no_change(aws: str) -> None:
    load_azure_credentials(Settings(), AwsClients())
    assert not [v for v in FIELDS.values() if v in os.environ]
