"""Server settings, from `PUSHFLOW_*` environment variables, built at the edge.

`Settings(**overrides)` reads `PUSHFLOW_<FIELD>` for every field (overrides win) and lets
pydantic convert the strings, as pydantic-settings would, without its import cost (a
third of a Lambda cold start): the fields are scalars, so the environment needs no more
than a name lookup. A bad value raises `SettingsError`, naming the variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from runtime import config

PREFIX = "PUSHFLOW_"


class SettingsError(ValueError):
    """A setting's value cannot be used; the message names each variable and what is wrong."""


def variable(field: str) -> str:
    """The environment variable of a settings field: `database_url` -> `PUSHFLOW_DATABASE_URL`."""
    return PREFIX + field.upper()


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def __init__(self, **overrides: Any) -> None:
        environ = os.environ
        values = {name: environ[variable(name)] for name in type(self).model_fields if variable(name) in environ}
        values.update(overrides)
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc, overrides)) from None

    home: Path = Field(default_factory=config.home)
    database_url: str | None = None
    api_key: SecretStr | None = None
    # A file holding the admin key (a mounted secret), so the key need not sit in the
    # server's environment where /proc/<pid>/environ shows it.
    api_key_file: Path | None = None
    # Signs run tokens (separate from the admin key, so rotating one leaves the other).
    server_secret: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = config.DEFAULT_PORT
    # Where runs call back to; defaults to this server's own address.
    api_url: str | None = None
    # Background loops (dispatcher, reconciler). Off on Lambda, where a tick drives them.
    run_loops: bool = True
    loop_interval: float = 0.5
    # Submit a run (and send a cancel) in the request that creates (cancels) it, so runs
    # start where no loop runs. Tests that drive the passes by hand turn it off.
    dispatch_on_trigger: bool = True
    reconcile_interval: float = 1.0
    # Orchestration (seconds unless said otherwise); see docs/run-lifecycle.md.
    dispatch_batch: int = 500  # a batch's statements are the same few whatever its size
    submit_concurrency: int = Field(default=32, ge=1)  # submits in flight per dispatch batch (cloud APIs are slow)
    late_after: float = 15.0  # a due run not yet started is marked Late after this
    heartbeat_timeout: float = 90.0  # RUNNING without a heartbeat this long -> CRASHED
    submit_timeout: float = 30.0  # claimed but never handed over -> submitted again
    cancel_grace: float = 10.0  # SIGTERM, then SIGKILL (or the provider's equivalent)
    release_grace: float = 5.0  # a final run's infrastructure is released this long after
    infra_retries: int = 3  # retryable provider errors before CRASHED
    infra_retry_backoff: float = 2.0
    infra_retry_backoff_cap: float = 60.0
    schedule_interval: float = 5.0  # how often the scheduler looks ahead
    schedule_max_runs: int = 10  # at most this many future runs per schedule
    schedule_horizon: float = 7 * 24 * 3600.0  # and none further ahead than this
    catchup_grace: float = 60.0  # a scheduled run overdue by more than this was missed
    # AWS Lambda (docs/deployment/aws-lambda.md). Secrets come by ARN, read once per container.
    api_key_secret_arn: str | None = None  # Secrets Manager secret whose string is the admin key
    server_secret_arn: str | None = None  # Secrets Manager secret whose string is the server secret
    database_secret_arn: str | None = None  # RDS-style JSON secret: username, password[, host, port, dbname]
    database_iam_auth: bool = False  # a fresh RDS IAM auth token per connection instead of a password
    database_pool: Literal["one", "null"] = "one"  # "null" behind RDS Proxy; "one" keeps a connection warm
    database_connect_timeout: float = 20.0  # retry connecting this long (Aurora resuming from 0 ACU)
    dispatch_queue_url: str | None = None  # SQS queue delivering scheduled runs on time
    tick_interval: float = 60.0  # how often EventBridge ticks; runs due before the next tick are queued
    tick_margin: float = 10.0  # seconds of the invocation's remaining time a tick leaves unused
    lambda_preload: bool = False  # build everything at init (SnapStart, provisioned concurrency)
    azure_credentials_secret_arn: str | None = None  # ACI pools: {tenant_id, client_id, client_secret} JSON secret
    # Events (docs/concepts/events.md): kept this long, then trimmed by the retention pass.
    event_retention_days: float = 7.0
    event_max_bytes: int = 64 * 1024  # one posted event, as JSON
    event_rate_limit: int = 6000  # events accepted (API, webhooks) per window, all senders together
    event_rate_window: float = 60.0
    webhook_max_bytes: int = 1024 * 1024  # an incoming webhook's body
    automation_action_attempts: int = 4  # an action failing with a retryable error is tried this often
    automation_action_backoff: float = 1.0  # seconds before the first retry, doubled each time
    # Where deployed code bundles live: a folder (local mode) or s3://, gs://, az:// URL.
    bundle_store: str | None = None
    bundle_max_bytes: int = 100 * 1024 * 1024

    # Limits (control_plane/limits.py): 413 or 429 past them.
    max_request_bytes: int = 10 * 1024 * 1024  # any request body but a bundle upload
    log_batch_max_lines: int = 1000  # lines per POST .../logs (the runtime sends 500)
    log_line_max_bytes: int = 64 * 1024  # longer lines are cut, with a note saying so
    max_parameters_bytes: int = 1024 * 1024  # a run's parameters, as JSON
    max_children_per_run: int = 1000  # subflow runs one run may start
    run_token_grace: float = 300.0  # a run token keeps working this long after its run ended
    # Encrypts blocks' secret fields (32 bytes, base64); a local server makes one in its home.
    block_key: SecretStr | None = None
    # Keys blocks were sealed with before (comma-separated): still read, until rotate-key re-seals.
    block_previous_keys: SecretStr | None = None
    # AWS KMS key (id, ARN or alias/…): when set, new block secrets use envelope encryption under it.
    block_kms_key_id: str | None = None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'pushflow.db'}"

    @property
    def callback_api_url(self) -> str:
        return self.api_url or f"http://{self.host}:{self.port}/api"

    @property
    def saved_api_key_file(self) -> Path:
        """Where a local server saves the admin key it generates (0600)."""
        return self.home / "api_key"

    @property
    def server_secret_file(self) -> Path:
        return self.home / "server_secret"

    @property
    def is_local(self) -> bool:
        """The embedded store (SQLite): `pushflow server start` then migrates it and keeps
        the keys it makes under `home`. With a shared database nothing does either."""
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_bundle_store(self) -> str:
        return self.bundle_store or str(self.home / "bundles")

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"


def _explain(exc: ValidationError, overrides: dict[str, Any]) -> str:
    """One line per bad setting, with the variable's name; values are left out (some are secrets)."""
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        source = f"{field} (given in code)" if field in overrides else variable(field)
        problems.append(f"{source}: {error['msg']}")
    return "invalid settings: " + "; ".join(problems)
