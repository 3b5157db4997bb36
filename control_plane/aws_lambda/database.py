"""The database engine of a Lambda container: PostgreSQL only, built once per container.

Two connection strategies (`PUSHFLOW_DATABASE_POOL`):
- "null": no pool; each session opens a connection and closes it. Use it behind RDS
  Proxy, which pools for every container at once.
- "one" (default): one connection kept warm between invocations, checked with a ping
  before use (a frozen container's connection may have been dropped), and a small
  overflow for the moments a request and an immediate dispatch overlap.

Either way each new connection is retried for `PUSHFLOW_DATABASE_CONNECT_TIMEOUT`
seconds: Aurora Serverless v2 paused at 0 ACU takes up to ~15 s to resume (and cannot
sit behind RDS Proxy). Credentials come from the URL, from a Secrets Manager secret by
ARN (read once per container), or as an RDS IAM auth token generated per connection.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

from control_plane.aws_lambda.aws import AwsClients
from control_plane.aws_lambda.errors import LambdaConfigError
from control_plane.settings import Settings

log = logging.getLogger("pushflow.lambda.database")

ATTEMPT_TIMEOUT = 5  # seconds one connection attempt may take (psycopg connect_timeout)


def database_url(settings: Settings, aws: AwsClients) -> URL:
    """The PostgreSQL URL from `PUSHFLOW_DATABASE_URL` and, when set, the secret behind
    `PUSHFLOW_DATABASE_SECRET_ARN` (its username/password win; its host, port and dbname
    fill what the URL leaves out)."""
    secret = _read_secret(aws, settings.database_secret_arn) if settings.database_secret_arn else {}
    if not settings.database_url and not secret.get("host"):
        raise LambdaConfigError(
            "no database: set PUSHFLOW_DATABASE_URL (postgresql://host:5432/db) "
            "or PUSHFLOW_DATABASE_SECRET_ARN to an RDS secret with host, port, dbname, username, password"
        )
    url = make_url(settings.database_url or "postgresql://")
    if url.get_backend_name() != "postgresql":
        raise LambdaConfigError(
            f"the Lambda control plane needs PostgreSQL, not {url.get_backend_name()!r}: a Lambda container's "
            "disk is private and temporary, so SQLite would lose every run. Set PUSHFLOW_DATABASE_URL to "
            "postgresql://..."
        )
    url = url.set(drivername="postgresql+psycopg")  # the driver the zip ships
    if secret:
        url = url.set(
            username=secret.get("username", url.username),
            password=secret.get("password", url.password),
            host=url.host or secret.get("host"),
            port=url.port or _int(secret.get("port")),
            database=url.database or secret.get("dbname"),
        )
    return url


def create_lambda_engine(settings: Settings, aws: AwsClients) -> Engine:
    url = database_url(settings, aws)
    options: dict[str, Any] = {"connect_args": {"connect_timeout": ATTEMPT_TIMEOUT}}
    if settings.database_pool == "null":
        options["poolclass"] = NullPool
    else:
        options.update(pool_size=1, max_overflow=4, pool_pre_ping=True, pool_recycle=600, pool_timeout=10)
    engine = create_engine(url, **options)
    token = _iam_token_maker(aws, url) if settings.database_iam_auth else None
    event.listen(engine, "do_connect", _connector(settings.database_connect_timeout, token))
    return engine


def _connector(timeout: float, token: Any) -> Any:
    def connect(dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        deadline = time.monotonic() + timeout
        delay = 0.25
        attempt = 1
        while True:
            if token is not None:
                cparams["password"] = token()  # tokens live 15 minutes: one per connection
                cparams.setdefault("sslmode", "require")  # RDS refuses IAM auth without TLS
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                log.warning("database not reachable (attempt %d, retrying in %.2fs): %s", attempt, delay, reason)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                attempt += 1

    return connect


def _iam_token_maker(aws: AwsClients, url: URL) -> Any:
    if not url.username or not url.host:
        raise LambdaConfigError("IAM database auth needs the user and host in PUSHFLOW_DATABASE_URL or the secret")
    rds = aws.get("rds")
    host, port, user = url.host, url.port or 5432, url.username

    def token() -> str:
        return str(rds.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user))

    return token


def _read_secret(aws: AwsClients, arn: str) -> dict[str, Any]:
    text = aws.secret_string(arn)
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise LambdaConfigError(
            f"secret {arn} is not a JSON object; store the RDS form "
            '{"username": ..., "password": ..., "host": ..., "port": 5432, "dbname": ...}'
        )
    return value


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None
