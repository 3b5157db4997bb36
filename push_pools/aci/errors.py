"""azure-core errors mapped to `push_pools.errors`, at one boundary: `arm_errors`.

azure.core ClientAuthenticationError, 401, 403  -> SubmissionError (names the role to grant)
429, capacity and quota codes                   -> CapacityError (retryable)
5xx after the client's own retries, network     -> ProviderUnavailableError (retryable)
other 4xx                                       -> SubmissionError (ARM code and message)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from push_pools.errors import (
    CapacityError,
    ProviderUnavailableError,
    PushPoolError,
    SubmissionError,
)

# ARM error codes that mean "not now" rather than "never".
CAPACITY_CODES = frozenset(
    {
        "ContainerGroupQuotaReached",
        "ResourceUnavailable",
        "SkuNotAvailable",
        "RegistryRateLimited",
        "ResourceRequestsNotAvailable",
    }
)
_ROLE_HINT = (
    "grant the pool's identity the Contributor role (or a role with "
    "Microsoft.ContainerInstance/containerGroups/*) on the resource group"
)


def error_code(exc: BaseException) -> str | None:
    error = getattr(exc, "error", None)
    return getattr(error, "code", None)


def error_message(exc: BaseException) -> str:
    error = getattr(exc, "error", None)
    message = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc)
    return str(message).splitlines()[0].rstrip(".")


@contextmanager
def arm_errors(action: str, base_url: str) -> Iterator[None]:
    """Run an ARM call; re-raise what went wrong as a push-pool error saying what to do."""
    from azure.core import exceptions as az

    try:
        yield
    except PushPoolError:
        raise
    except az.ClientAuthenticationError as exc:
        raise SubmissionError(
            f"{action}: Azure refused the request ({error_code(exc) or exc.status_code}): "
            f"{error_message(exc)}; check the `credential` job variable and {_ROLE_HINT}"
        ) from exc
    except az.HttpResponseError as exc:
        raise _from_response(action, exc) from exc
    except (az.ServiceRequestError, az.ServiceResponseError) as exc:
        hint = ""
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            hint = "; the server's certificate is not trusted: set the `ca_bundle` job variable"
        raise ProviderUnavailableError(f"{action}: cannot reach {base_url}: {exc}{hint}") from exc
    except az.AzureError as exc:
        raise ProviderUnavailableError(f"{action}: {exc}") from exc


def _from_response(action: str, exc: BaseException) -> PushPoolError:
    status = getattr(exc, "status_code", None)
    code = error_code(exc)
    text = f"{action}: {code or status}: {error_message(exc)}"
    if status in (401, 403):
        return SubmissionError(f"{text}; {_ROLE_HINT}")
    if status is None or status >= 500:
        return ProviderUnavailableError(f"{text}; Azure failed even after retries, try again later")
    if status == 429 or code in CAPACITY_CODES:
        return CapacityError(f"{text}; Azure has no capacity or quota for it now, try again later")
    if code == "InaccessibleImage":
        return SubmissionError(f"{text}; check `image` and `image_registry_credentials`")
    return SubmissionError(text)
