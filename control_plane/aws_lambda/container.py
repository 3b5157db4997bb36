"""What one Lambda container builds once and reuses across its invocations: settings,
AWS clients, the database engine, the control plane's services and the HTTP app.

Nothing is built at import time (a tick never pays for FastAPI, an HTTP call never for
the SQS client), nothing is written to disk, no thread is started, no migration runs:
migrations are the `{"pushflow": "migrate"}` invocation's job, which terraform makes on
apply. The store stays the only state: any container can serve any invocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from control_plane.aws_lambda.aws import AwsClients
from control_plane.aws_lambda.azure import load_azure_credentials
from control_plane.aws_lambda.errors import LambdaConfigError
from control_plane.aws_lambda.observability import Observability

if TYPE_CHECKING:
    from pydantic import SecretStr

    from control_plane.settings import Settings


class Container:
    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self.aws = AwsClients()
        self.obs = Observability()
        self._services: Any = None
        self._http: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from control_plane.settings import Settings, SettingsError

            try:
                self._settings = Settings(run_loops=False)
            except SettingsError as exc:
                raise LambdaConfigError(str(exc)) from None
        return self._settings

    def services(self) -> Any:
        if self._services is None:
            self._services = build_services(self.settings, self.aws)
        return self._services

    def http(self) -> Any:
        """The FastAPI app behind Mangum (lifespan off: the services are built here)."""
        if self._http is None:
            from mangum import Mangum

            from control_plane.app import create_app

            app = create_app(self.settings)
            app.state.services = self.services()
            self._http = Mangum(app, lifespan="off")
        return self._http

    def load_routes(self) -> None:
        """Import every route module now (a preload), not on the first request that needs it."""
        from control_plane.lazy_routes import lazy_routes

        lazy_routes(self.http().app).load_all()

    def close(self) -> None:
        """Close the database connections (tests; a SnapStart snapshot must hold none)."""
        if self._services is not None:
            self._services.engine.dispose()


def build_services(settings: Settings, aws: AwsClients) -> Any:
    from control_plane.aws_lambda.database import create_lambda_engine
    from control_plane.passes import dispatch_due
    from control_plane.services import PoolAdapters, Services

    if not settings.api_url:
        raise LambdaConfigError("set PUSHFLOW_API_URL to this function's HTTPS address + /api; runs call back to it")
    engine = create_lambda_engine(settings, aws)
    load_azure_credentials(settings, aws)
    adapters = PoolAdapters()  # stateless: each attempt's ref (id + locator) is in the store
    services = Services(
        settings=settings,
        engine=engine,
        api_key=_api_key(settings, aws),
        adapters=adapters,
        bundles=_bundles(settings),
        server_secret=_server_secret(settings, aws),
    )
    # No loop to wake on Lambda: what a request made due is dispatched within that request.
    services.wake = lambda full=True: dispatch_due(services)
    return services


def _bundles(settings: Settings) -> Any:
    """Deployed code bundles in object storage: a container's folder is neither shared nor kept."""
    if not settings.bundle_store:
        return NoBundleStore()
    if "://" not in settings.bundle_store:
        raise LambdaConfigError(
            f"PUSHFLOW_BUNDLE_STORE={settings.bundle_store!r} is a folder; on Lambda use s3://bucket/prefix"
        )
    from control_plane.bundles import bundle_store

    return bundle_store(settings.bundle_store)


class NoBundleStore:
    """What the bundle routes meet when no store is configured: a clear refusal, not a crash."""

    def __getattr__(self, name: str) -> Any:
        from control_plane.errors import ConflictError

        raise ConflictError(
            "this control plane keeps no code bundles: set PUSHFLOW_BUNDLE_STORE to s3://bucket/prefix, "
            "or deploy with --source image or --source git"
        )


def _server_secret(settings: Settings, aws: AwsClients) -> str:
    """The secret that signs run tokens: never the admin key (rotating one keeps the other)."""
    return _secret(
        aws,
        settings.server_secret,
        settings.server_secret_arn,
        empty="store a long random string in it",
        missing="no server secret: set PUSHFLOW_SERVER_SECRET_ARN to a Secrets Manager secret holding a long "
        "random string (it signs run tokens), or PUSHFLOW_SERVER_SECRET for tests",
    )


def _api_key(settings: Settings, aws: AwsClients) -> str:
    return _secret(
        aws,
        settings.api_key,
        settings.api_key_secret_arn,
        empty="store the admin API key in it",
        missing="no admin API key: set PUSHFLOW_API_KEY_SECRET_ARN to a Secrets Manager secret holding it "
        "(or PUSHFLOW_API_KEY, for tests)",
    )


def _secret(aws: AwsClients, value: SecretStr | None, arn: str | None, *, empty: str, missing: str) -> str:
    """A secret given in the environment (tests), else the string of the Secrets Manager
    secret at `arn`; `empty` and `missing` tell the operator what to do when there is none."""
    if value is not None:
        return value.get_secret_value()
    if arn:
        found = aws.secret_string(arn).strip()
        if found:
            return found
        raise LambdaConfigError(f"secret {arn} is empty; {empty}")
    raise LambdaConfigError(missing)
