"""boto3 behind one seam: imported on first use, one client per (service, region,
endpoint), throttling and dropped connections retried with backoff, and every botocore
error mapped to a `push_pools.errors` error here, `from` the original."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from push_pools.errors import (
    CapacityError,
    JobConfigError,
    MissingDependencyError,
    ProviderUnavailableError,
    PushPoolError,
)

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
SERVER_CODES = frozenset({"ServerException", "InternalFailure", "ServiceUnavailable", "InternalError"})


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits up to base * 2**n, capped."""

    attempts: int = 6
    base_seconds: float = 0.25
    cap_seconds: float = 8.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where to reach AWS: None means boto3's own resolution (env, profile, AWS_ENDPOINT_URL*)."""

    region: str | None = None
    endpoint_url: str | None = None


def _import_boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise MissingDependencyError(
            'the ecs pool needs boto3, which is not installed: pip install "pushflow[aws]"'
        ) from exc
    return boto3


class AwsApi:
    def __init__(self, backoff: Backoff | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._clients: dict[tuple[str, Endpoint], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, where: Endpoint) -> Any:
        with self._lock:  # boto3 sessions are not thread-safe while creating clients
            client = self._clients.get((service, where))
            if client is None:
                boto3 = _import_boto3()
                from botocore.config import Config
                from botocore.exceptions import NoRegionError

                # Retries happen in `call`, once, so throttling is never retried twice over.
                config = Config(retries={"total_max_attempts": 1}, user_agent_extra="pushflow")
                try:
                    client = boto3.session.Session(region_name=where.region).client(
                        service, endpoint_url=where.endpoint_url, config=config
                    )
                except NoRegionError as exc:
                    raise JobConfigError(
                        "no AWS region: set the job variable `region` or AWS_REGION on the control plane"
                    ) from exc
                self._clients[(service, where)] = client
            return client

    def call(
        self,
        where: Endpoint,
        service: str,
        operation: str,
        *,
        refused: type[PushPoolError] = PushPoolError,
        **params: Any,
    ) -> dict[str, Any]:
        """Call `service.operation(**params)`. A 4xx refusal raises `refused`."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            HTTPClientError,
            NoCredentialsError,
        )

        method = getattr(self.client(service, where), operation)
        name = f"{service}:{_op_name(operation)}"
        for attempt in range(self.backoff.attempts):
            last = attempt == self.backoff.attempts - 1
            try:
                return method(**params)  # type: ignore[no-any-return]
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                retry = code in THROTTLING_CODES or code in SERVER_CODES or status >= 500
                if retry and not last:
                    self._sleep(self.backoff.delay(attempt))
                    continue
                raise _map_client_error(name, code, exc, refused) from exc
            except NoCredentialsError as exc:
                raise refused(
                    f"{name}: no AWS credentials found; give the control plane an IAM role or "
                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                ) from exc
            except (ConnectionError, HTTPClientError) as exc:
                if not last:
                    self._sleep(self.backoff.delay(attempt))
                    continue
                raise ProviderUnavailableError(
                    f"{name}: cannot reach AWS after {self.backoff.attempts} attempts: {exc}"
                ) from exc
            except BotoCoreError as exc:
                raise refused(f"{name}: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover


def _map_client_error(name: str, code: str, exc: Any, refused: type[PushPoolError]) -> PushPoolError:
    message = exc.response.get("Error", {}).get("Message", "") or str(exc)
    if code in THROTTLING_CODES:
        return CapacityError(f"{name} is throttled by AWS ({code}) and retries ran out; try again later")
    if code in SERVER_CODES:
        return ProviderUnavailableError(f"{name} failed inside AWS ({code}): {message}")
    if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
        return refused(
            f"{name} was denied: {message}. Grant it to the control plane's IAM identity "
            "(docs/pools/ecs.md lists the permissions)"
        )
    if code == "ClusterNotFoundException":
        return refused(f"{name}: cluster not found ({message}); create it with `pushflow pool provision`")
    return refused(f"{name} refused: {code}: {message}")


def _op_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))


def error_code(exc: BaseException) -> str:
    """The AWS error code behind a mapped error ('' when there is none)."""
    cause = exc.__cause__
    return getattr(cause, "response", {}).get("Error", {}).get("Code", "") if cause else ""
