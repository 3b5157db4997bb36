"""The one boundary to Google: the SDK imported on first use, clients per endpoint, retries
with backoff for transient errors, and google.api_core exceptions mapped to push_pools ones."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
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


def is_emulator(endpoint: str | None) -> bool:
    # Plain http can only be a local emulator or test double: never send real credentials there.
    return bool(endpoint and endpoint.startswith("http://"))


class CloudRunApi:
    """The Jobs, Executions and Tasks clients for one endpoint (None = Google's)."""

    def __init__(self, endpoint: str | None, *, retry_deadline: float = 60.0) -> None:
        run_v2 = sdk()
        from google.api_core import exceptions, retry
        from google.api_core.client_options import ClientOptions
        from google.api_core.future import polling

        self.endpoint = endpoint
        self.credentials = _credentials(endpoint)
        options = ClientOptions(api_endpoint=endpoint) if endpoint else None
        kwargs: dict[str, Any] = {
            "credentials": self.credentials,
            "transport": "rest",
            "client_options": options,
        }
        self.jobs = run_v2.JobsClient(**kwargs)
        self.executions = run_v2.ExecutionsClient(**kwargs)
        self.tasks = run_v2.TasksClient(**kwargs)
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

        return AuthorizedSession(self.credentials)


class Clients:
    """One CloudRunApi per endpoint, built on first use and shared by threads."""

    def __init__(self, *, retry_deadline: float = 60.0) -> None:
        self._retry_deadline = retry_deadline
        self._apis: dict[str | None, CloudRunApi] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: str | None) -> CloudRunApi:
        with self._lock:
            api = self._apis.get(endpoint)
            if api is None:
                with google_errors("connect to Cloud Run"):
                    api = self._apis[endpoint] = CloudRunApi(endpoint, retry_deadline=self._retry_deadline)
            return api


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


def _credentials(endpoint: str | None) -> Any:
    if is_emulator(endpoint):
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    import google.auth

    credentials, _project = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return credentials


def _connection_error() -> type[Exception]:
    import requests

    return requests.exceptions.ConnectionError
