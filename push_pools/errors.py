"""Errors raised by adapters, mapped from provider errors at the adapter boundary.

PushPoolError                 retryable=False unless said otherwise
├── JobConfigError            the job variables are invalid (a 422 for the API)
├── SubmissionError           the provider refused the run
│   └── CapacityError         throttling, quota, no capacity: retryable
├── ProviderUnavailableError  the provider could not be reached: retryable
└── MissingDependencyError    the pool type's SDK is not installed (names the extra)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from push_pools.base import InfraRef


class PushPoolError(Exception):
    retryable = False
    # Set when the failure left something behind at the provider (a Cloud Run job whose
    # create operation failed still exists): the control plane records it and releases it.
    ref: InfraRef | None = None


class JobConfigError(PushPoolError):
    def __init__(self, message: str, errors: list[dict] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class SubmissionError(PushPoolError):
    pass


class CapacityError(SubmissionError):
    retryable = True


class ProviderUnavailableError(PushPoolError):
    retryable = True


class MissingDependencyError(PushPoolError):
    pass
