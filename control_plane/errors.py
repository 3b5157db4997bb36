"""Errors the API answers with. Each carries its HTTP status; one handler reads it.

ControlPlaneError (500)
├── InvalidInputError (422)
├── UnauthorizedError (401)
├── ForbiddenError (403)
├── NotFoundError (404)
└── ConflictError (409)
"""

from __future__ import annotations

from typing import Any


class ControlPlaneError(Exception):
    status_code = 500

    def __init__(self, detail: Any) -> None:
        super().__init__(detail)
        self.detail = detail


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
