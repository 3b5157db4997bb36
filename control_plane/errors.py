"""Errors the API answers with. Each carries its HTTP status; one handler reads it and
answers with the one error model, `ErrorBody`: `detail` is a sentence saying what was
wrong and what to do; `errors` lists the individual problems when there are several.

ControlPlaneError (500)
├── InvalidInputError (422)
├── UnauthorizedError (401)
├── ForbiddenError (403)
├── NotFoundError (404)
├── ConflictError (409)
├── BadRequestError (400: a webhook template that does not render)
├── PayloadTooLargeError (413)
├── TooManyRequestsError (429)
├── ServiceUnavailableError (503: a service the server depends on is unreachable; retry)
└── ConfigurationError (500: the server cannot start as configured)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every error response: what was wrong and what to do, in one sentence."""

    detail: str = Field(description="What was wrong and what to do about it")
    errors: list[Any] = Field(default_factory=list, description="Each problem, when there are several (else left out)")


class ControlPlaneError(Exception):
    status_code = 500

    def __init__(self, detail: str | None, errors: list[Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail or "refused"
        self.errors = errors or []


class InvalidInputError(ControlPlaneError):
    status_code = 422


class UnauthorizedError(ControlPlaneError):
    status_code = 401


class ForbiddenError(ControlPlaneError):
    status_code = 403


class NotFoundError(ControlPlaneError):
    status_code = 404


class ConflictError(ControlPlaneError):
    status_code = 409


class BadRequestError(ControlPlaneError):
    status_code = 400


class PayloadTooLargeError(ControlPlaneError):
    status_code = 413


class TooManyRequestsError(ControlPlaneError):
    status_code = 429


class ServiceUnavailableError(ControlPlaneError):
    """A service the server depends on (the database, AWS KMS) cannot be reached or is
    throttling: nothing was changed, and the same request may succeed after Retry-After."""

    status_code = 503
    retry_after = 5


class ConfigurationError(ControlPlaneError):
    pass
