"""Fixtures for the Lambda tests: a container (the handler's per-container state) on a
fresh PostgreSQL schema, and moto in server mode for SQS and Secrets Manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from control_plane.aws_lambda import handle
from control_plane.aws_lambda.container import Container
from control_plane.settings import Settings
from tests.aws_lambda.lambda_worker import Context
from tests.terraform import aws_calls

ADMIN_KEY = "lambda-admin-key"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="module", autouse=True)
def record_aws_calls(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The AWS calls pushflow makes here feed the IAM check (tests/terraform/aws_calls.py)."""
    with aws_calls.recording(request.module.__name__, lambda: tmp_path_factory.mktemp("aws-calls")):
        yield


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """This process's AWS clients talk to moto."""
    for name, value in {**AWS_ENV, "AWS_ENDPOINT_URL": moto_url}.items():
        monkeypatch.setenv(name, value)
    return moto_url


@pytest.fixture
def lambda_settings(pg_schema_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "unused-home",
        database_url=pg_schema_url,
        api_key=ADMIN_KEY,
        server_secret="lambda-server-secret",
        api_url="https://example.execute-api.us-east-1.amazonaws.com/api",
        run_loops=False,
        database_connect_timeout=1,
    )


@pytest.fixture
def container(lambda_settings: Settings) -> Iterator[Container]:
    """A migrated control plane, as a fresh Lambda container would find it."""
    container = Container(lambda_settings)
    assert handle(container, {"pushflow": "migrate"}, Context(30)) == {"pushflow": "migrate", "status": "ok"}
    yield container
    container.close()


def invoke(container: Container, event: object, timeout: float = 30) -> object:
    return handle(container, event, Context(timeout))
