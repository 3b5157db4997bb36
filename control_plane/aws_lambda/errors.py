"""Errors of the Lambda edge.

LambdaError
├── LambdaConfigError     the function's settings cannot work (fix the environment)
├── CommandError          a direct invocation asked for something invalid
├── DatabaseUnavailableError  the database did not answer in time (retryable)
└── TickFailedError       a pass of the tick failed (logged; retried by the scheduler)
"""

from __future__ import annotations


class LambdaError(Exception):
    retryable = False


class LambdaConfigError(LambdaError):
    pass


class CommandError(LambdaError):
    pass


class DatabaseUnavailableError(LambdaError):
    retryable = True


class TickFailedError(LambdaError):
    retryable = True
