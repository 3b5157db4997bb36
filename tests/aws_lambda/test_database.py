"""The Lambda database: PostgreSQL only; credentials from Secrets Manager (moto) or IAM
tokens; connections retried while the database resumes; an unreachable database is a
503 with Retry-After over HTTP and a retryable failure for ticks and SQS deliveries."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool, QueuePool

from control_plane.aws_lambda.aws import AwsClients
from control_plane.aws_lambda.container import Container
from control_plane.aws_lambda.database import _iam_token_maker, create_lambda_engine, database_url
from control_plane.aws_lambda.dispatch_queue import DueRun
from control_plane.aws_lambda.errors import DatabaseUnavailableError, LambdaConfigError
from control_plane.columns import utcnow
from control_plane.settings import Settings
from tests.aws_lambda.conftest import ADMIN_KEY, invoke
from tests.aws_lambda.fixtures import header, load, request, response_json
from tests.helpers import free_port

API_URL = "https://example.execute-api.us-east-1.amazonaws.com/api"


def settings(**values: object) -> Settings:
    base: dict[str, object] = {"api_key": ADMIN_KEY, "server_secret": "s", "api_url": API_URL, "run_loops": False}
    return Settings(**{**base, **values})  # type: ignore[arg-type]


def test_sqlite_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    container = Container(settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    with pytest.raises(LambdaConfigError, match="needs PostgreSQL, not 'sqlite'"):
        invoke(container, {"pushflow": "migrate"})
    answer = invoke(container, request("apigateway-http-v2.json", "GET", "/api/pools", key=ADMIN_KEY))
    assert answer["statusCode"] == 500
    assert "needs PostgreSQL" in response_json(answer)["detail"]
    assert not (tmp_path / "x.db").exists()  # nothing written


def test_no_database_and_no_key_say_which_variable_to_set() -> None:
    with pytest.raises(LambdaConfigError, match="PUSHFLOW_DATABASE_URL"):
        invoke(Container(settings()), {"pushflow": "migrate"})
    no_key = Container(Settings(database_url="postgresql://h/db", api_url=API_URL, run_loops=False))
    with pytest.raises(LambdaConfigError, match="PUSHFLOW_API_KEY_SECRET_ARN"):
        invoke(no_key, {"pushflow": "migrate"})
    no_secret = Container(Settings(database_url="postgresql://h/db", api_key="k", api_url=API_URL, run_loops=False))
    with pytest.raises(LambdaConfigError, match="PUSHFLOW_SERVER_SECRET_ARN"):
        invoke(no_secret, {"pushflow": "migrate"})


def test_an_empty_key_or_signing_secret_says_what_to_store_in_it(aws: str) -> None:
    empty = boto3.client("secretsmanager").create_secret(Name=f"empty-{free_port()}", SecretString=" \n")["ARN"]
    values = {"database_url": "postgresql://h/db", "api_url": API_URL, "run_loops": False}
    no_key = Container(Settings(**values, api_key_secret_arn=empty, server_secret="s"))  # type: ignore[arg-type]
    with pytest.raises(LambdaConfigError, match="is empty; store the admin API key in it"):
        no_key.services()
    no_secret = Container(Settings(**values, api_key="k", server_secret_arn=empty))  # type: ignore[arg-type]
    with pytest.raises(LambdaConfigError, match="is empty; store a long random string in it"):
        no_secret.services()


@pytest.fixture
def unreachable() -> Iterator[Container]:
    port = free_port()  # nothing listens here
    container = Container(
        settings(database_url=f"postgresql://postgres@127.0.0.1:{port}/test", database_connect_timeout=0.5)
    )
    yield container
    container.close()


def test_an_unreachable_database_is_a_503_with_retry_after(unreachable: Container) -> None:
    for name in ("apigateway-http-v2.json", "apigateway-rest-v1.json", "function-url.json"):
        answer = invoke(unreachable, request(name, "GET", "/api/pools", key=ADMIN_KEY))
        assert answer["statusCode"] == 503, answer
        assert header(answer, "retry-after") == "5"
        assert "retry shortly" in response_json(answer)["detail"]
    health = invoke(unreachable, request("function-url.json", "GET", "/api/health"))
    assert health["statusCode"] == 200  # liveness needs no database


def test_an_unreachable_database_fails_ticks_and_deliveries_retryably(unreachable: Container) -> None:
    with pytest.raises(DatabaseUnavailableError, match="not reachable"):
        invoke(unreachable, load("eventbridge-scheduled-rule.json"))
    event = load("sqs.json")
    event["Records"][0]["body"] = DueRun("6f1c1c8e-0000-4000-8000-000000000001", utcnow()).body()
    answer = invoke(unreachable, event)
    # ours comes back for redelivery; the foreign message is dropped, not retried forever
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


@pytest.mark.postgres
def test_a_connection_is_retried_while_the_database_resumes(postgres_url: str) -> None:
    """A port that refuses connections for a while, then forwards to PostgreSQL: what a
    paused Aurora Serverless cluster looks like from Lambda."""
    port = free_port()
    target = make_url(postgres_url)
    url = target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    engine = create_lambda_engine(settings(database_url=url, database_connect_timeout=15), AwsClients())
    forwarder = threading.Timer(1.0, _forward, args=(port, target.port or 5432))
    forwarder.daemon = True
    forwarder.start()
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
    finally:
        engine.dispose()
        forwarder.cancel()


def _forward(listen_port: int, target_port: int) -> None:
    server = socket.create_server(("127.0.0.1", listen_port))
    server.settimeout(20)
    try:
        client, _ = server.accept()
    finally:
        server.close()
    upstream = socket.create_connection(("127.0.0.1", target_port))

    def pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()


@pytest.mark.postgres
def test_pool_choice(postgres_url: str) -> None:
    one = create_lambda_engine(settings(database_url=postgres_url), AwsClients())
    null = create_lambda_engine(settings(database_url=postgres_url, database_pool="null"), AwsClients())
    assert isinstance(one.pool, QueuePool) and one.pool.size() == 1
    assert isinstance(null.pool, NullPool)
    assert one.url.drivername == "postgresql+psycopg"


@pytest.mark.postgres
def test_credentials_from_secrets_manager_by_arn(aws: str, postgres_url: str, lambda_settings: Settings) -> None:
    """The RDS secret form supplies user, password, host, port and database; the admin
    key comes from its own secret."""
    pg = make_url(postgres_url)
    secrets = boto3.client("secretsmanager")
    db_secret = secrets.create_secret(
        Name=f"pushflow-db-{free_port()}",
        SecretString=json.dumps(
            {
                "engine": "postgres",
                "username": pg.username,
                "password": "unused-with-trust",
                "host": pg.host,
                "port": pg.port or 5432,
                "dbname": pg.database,
            }
        ),
    )["ARN"]
    key_secret = secrets.create_secret(Name=f"pushflow-key-{free_port()}", SecretString="key-from-secret")["ARN"]
    signing = secrets.create_secret(Name=f"pushflow-signing-{free_port()}", SecretString="signing-secret")["ARN"]
    resolved = database_url(settings(database_secret_arn=db_secret), AwsClients())
    assert (resolved.host, resolved.database, resolved.username) == (pg.host, pg.database, pg.username)
    assert resolved.password == "unused-with-trust"
    container = Container(
        Settings(
            database_url=lambda_settings.database_url,  # the test's own schema; the secret gives the user
            database_secret_arn=db_secret,
            api_key_secret_arn=key_secret,
            server_secret_arn=signing,
            api_url=API_URL,
            run_loops=False,
        )
    )
    try:
        invoke(container, {"pushflow": "migrate"})
        answer = invoke(container, request("apigateway-http-v2.json", "GET", "/api/pools", key="key-from-secret"))
        assert answer["statusCode"] == 200, answer
        refused = invoke(container, request("apigateway-http-v2.json", "GET", "/api/pools", key=ADMIN_KEY))
        assert refused["statusCode"] == 401
        assert container.services().server_secret == "signing-secret"
    finally:
        container.close()


def test_a_secret_that_is_not_the_rds_form_is_refused(aws: str) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name=f"plain-{free_port()}", SecretString="hunter2")["ARN"]
    with pytest.raises(LambdaConfigError, match="not a JSON object") as caught:
        database_url(settings(database_secret_arn=arn), AwsClients())
    assert "hunter2" not in str(caught.value)


def test_iam_auth_tokens_are_signed_per_connection(aws: str) -> None:
    url = make_url("postgresql+psycopg://pushflow@db.cluster-abc.us-east-1.rds.amazonaws.com:5432/pushflow")
    token = _iam_token_maker(AwsClients(), url)
    first = token()
    assert first.startswith("db.cluster-abc.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=pushflow")
    assert "X-Amz-Signature=" in first
