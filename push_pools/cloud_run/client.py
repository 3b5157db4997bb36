"""The one boundary to Google: the SDK imported on first use, clients per endpoint, retries
with backoff for transient errors, and google.api_core exceptions mapped to push_pools ones."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from push_pools.errors import (
    CapacityError,
    MissingDependencyError,
    ProviderUnavailableError,
    PushPoolError,
    SubmissionError,
)

INSTALL_HINT = 'pip install "pushflow[gcp]"'
LOGGING_ENDPOINT = "https://logging.googleapis.com"
_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class CloudRunNotFoundError(SubmissionError):
    """The job or execution does not exist (never created, or deleted once it ended)."""


def sdk() -> Any:
    """`google.cloud.run_v2`, or a MissingDependencyError naming the extra to install."""
    try:
        from google.cloud import run_v2
    except ImportError as exc:
        raise MissingDependencyError(
            f"the cloud-run pool needs google-cloud-run, which is not installed: {INSTALL_HINT}"
        ) from exc
    return run_v2


@dataclasses.dataclass(frozen=True)
class Connection:
    """How to reach Cloud Run: all of it is in each ref's locator (see job.py for each field)."""

    api_endpoint: str | None = None
    credentials: str = "default"  # default | anonymous | path to a service-account key file
    ca_bundle: str | None = None

    def to_locator(self) -> dict[str, str]:
        out = {"credentials": self.credentials}
        if self.api_endpoint:
            out["api_endpoint"] = self.api_endpoint
        if self.ca_bundle:
            out["ca_bundle"] = self.ca_bundle
        return out

    @classmethod
    def from_locator(cls, locator: Mapping[str, str]) -> Connection:
        return cls(locator.get("api_endpoint"), locator.get("credentials", "default"), locator.get("ca_bundle"))


class CloudRunApi:
    """The Jobs, Executions and Tasks clients for one connection."""

    def __init__(self, connection: Connection, *, retry_deadline: float = 60.0) -> None:
        run_v2 = sdk()
        from google.api_core import exceptions, retry
        from google.api_core.client_options import ClientOptions
        from google.api_core.future import polling

        self.connection = connection
        self.credentials = _credentials(connection.credentials)
        endpoint = connection.api_endpoint
        options = ClientOptions(api_endpoint=endpoint) if endpoint else None
        kwargs: dict[str, Any] = {
            "credentials": self.credentials,
            "transport": "rest",
            "client_options": options,
        }
        self.jobs = run_v2.JobsClient(**kwargs)
        self.executions = run_v2.ExecutionsClient(**kwargs)
        self.tasks = run_v2.TasksClient(**kwargs)
        if connection.ca_bundle:
            for client in (self.jobs, self.executions, self.tasks):
                _trust(client, connection.ca_bundle)
        transient = (
            exceptions.TooManyRequests,
            exceptions.ResourceExhausted,
            exceptions.InternalServerError,
            exceptions.BadGateway,
            exceptions.ServiceUnavailable,
            exceptions.GatewayTimeout,
            _connection_error(),
        )
        self.retry = retry.Retry(
            predicate=retry.if_exception_type(*transient),
            initial=0.2,
            multiplier=2.0,
            maximum=5.0,
            timeout=retry_deadline,
        )
        # Poll long-running operations from 0.1 s up, not api_core's default 1 s floor.
        self.polling = polling.DEFAULT_POLLING.with_delay(initial=0.1, maximum=2.0, multiplier=1.5)
        self.polling = self.polling.with_timeout(retry_deadline)

    def session(self) -> Any:
        """An HTTP session carrying this API's credentials (for Cloud Logging's REST API)."""
        from google.auth.transport.requests import AuthorizedSession

        session = AuthorizedSession(self.credentials)
        if self.connection.ca_bundle:
            _pin_verify(session, self.connection.ca_bundle)
        return session


class Clients:
    """One CloudRunApi per connection, built on first use and shared by threads (clients
    only: nothing about any run is kept here)."""

    def __init__(self, *, retry_deadline: float = 60.0) -> None:
        self._retry_deadline = retry_deadline
        self._apis: dict[Connection, CloudRunApi] = {}
        self._lock = threading.Lock()

    def get(self, connection: Connection) -> CloudRunApi:
        with self._lock:
            api = self._apis.get(connection)
            if api is None:
                with google_errors("connect to Cloud Run"):
                    api = self._apis[connection] = CloudRunApi(connection, retry_deadline=self._retry_deadline)
            return api


def _trust(client: Any, ca_bundle: str) -> None:
    """Trust `ca_bundle` for a REST client and its operations client. The generated REST
    transports keep their requests session private and take no `verify` option."""
    transport = client._transport
    _pin_verify(transport._session, ca_bundle)
    operations = getattr(transport, "operations_client", None)
    if operations is not None:
        _pin_verify(operations._transport._session, ca_bundle)


def _pin_verify(session: Any, ca_bundle: str) -> None:
    """Pass `verify=ca_bundle` on every request, the token refreshes of an authorized
    session included. Setting `session.verify` is not enough: requests lets
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override it (psf/requests#3829)."""
    token_session = getattr(session, "_auth_request_session", None)
    if token_session is not None:
        _pin_verify(token_session, ca_bundle)
    request = session.request

    def pinned(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("verify", ca_bundle)
        return request(method, url, *args, **kwargs)

    session.request = pinned


@contextlib.contextmanager
def google_errors(action: str) -> Iterator[None]:
    """Re-raise google.api_core (and transport) errors as push_pools errors that say what to do."""
    from google.api_core import exceptions
    from google.auth import exceptions as auth_exceptions

    try:
        yield
    except PushPoolError:
        raise
    except exceptions.RetryError as exc:
        cause = exc.cause or exc
        raise _translate(action, cause, exceptions, retried=True) from exc
    except exceptions.GoogleAPICallError as exc:
        raise _translate(action, exc, exceptions) from exc
    except auth_exceptions.DefaultCredentialsError as exc:
        raise SubmissionError(
            f"cannot {action}: no Google credentials ({exc}); run `gcloud auth "
            "application-default login`, set GOOGLE_APPLICATION_CREDENTIALS, or give the "
            "control plane a service account"
        ) from exc
    except _connection_error() as exc:
        raise ProviderUnavailableError(f"cannot {action}: Cloud Run is unreachable ({exc})") from exc


def _translate(action: str, exc: BaseException, exceptions: Any, retried: bool = False) -> PushPoolError:
    message = getattr(exc, "message", None) or str(exc)
    tried = " (after retrying with backoff)" if retried else ""
    if isinstance(exc, exceptions.NotFound):
        return CloudRunNotFoundError(f"cannot {action}: {message}")
    if isinstance(exc, (exceptions.TooManyRequests, exceptions.ResourceExhausted)):
        return CapacityError(f"cannot {action}: Cloud Run is throttling or out of quota{tried}: {message}")
    unavailable = (exceptions.ServerError, exceptions.DeadlineExceeded, _connection_error())
    if isinstance(exc, unavailable):
        return ProviderUnavailableError(f"cannot {action}: Cloud Run is unavailable{tried}: {message}")
    if isinstance(exc, (exceptions.PermissionDenied, exceptions.Forbidden)):
        return SubmissionError(
            f"cannot {action}: permission denied: {message}. The control plane's identity needs "
            "roles/run.developer and roles/iam.serviceAccountUser on the job's service account"
        )
    if isinstance(exc, (exceptions.Unauthenticated, exceptions.Unauthorized)):
        return SubmissionError(f"cannot {action}: Google rejected the credentials: {message}")
    if isinstance(exc, (exceptions.InvalidArgument, exceptions.BadRequest)):
        return SubmissionError(f"cannot {action}: Cloud Run refused the job: {message}; check the pool's job variables")
    return SubmissionError(f"cannot {action}: {type(exc).__name__}: {message}")


def _credentials(kind: str) -> Any:
    if kind == "anonymous":
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    if kind != "default":  # a service-account key file
        from google.oauth2 import service_account

        try:
            return service_account.Credentials.from_service_account_file(kind, scopes=[_SCOPE])
        except (OSError, ValueError) as exc:
            raise SubmissionError(f"cannot read Google credentials from {kind!r}: {exc}") from exc
    import google.auth

    credentials, _project = google.auth.default(scopes=[_SCOPE])
    return credentials


def _connection_error() -> type[Exception]:
    import requests

    return requests.exceptions.ConnectionError
