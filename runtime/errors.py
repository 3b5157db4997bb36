"""Errors raised by the runtime.

PushflowError
├── FlowLoadError        the deployment's entrypoint is missing or does not import
│   └── SourceError      the run's code could not be fetched, verified or its requirements installed
├── ParameterError       run parameters do not fit the flow's signature
├── UpstreamFailedError  a task's upstream dependency did not complete
├── FlowRunFailed        a called flow (or a read future) did not complete and left no
│                        exception of its own
└── APIError             the control plane refused a request (carries status_code)
    └── AbortRun         the control plane told the runtime to stop (e.g. cancelled)
"""

from __future__ import annotations


class PushflowError(Exception):
    """Root of every error the runtime raises."""


class FlowLoadError(PushflowError):
    details: str | None = None  # the import traceback, for the run's logs


class SourceError(FlowLoadError):
    """The run's code (bundle, git checkout, requirements) is not usable; nothing ran."""


class ParameterError(PushflowError):
    def __init__(self, message: str, errors: list[dict] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class UpstreamFailedError(PushflowError):
    pass


class FlowRunFailed(PushflowError):
    """Raised by calling a flow (or reading a state or future) whose run did not complete
    and left no exception of its own."""


class APIError(PushflowError):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code

    @property
    def retryable(self) -> bool:
        return self.status_code is None or self.status_code == 429 or self.status_code >= 500


class AbortRun(APIError):
    pass
