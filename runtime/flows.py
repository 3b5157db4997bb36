"""Flows: `@flow` functions.

A flow only carries its definition; `runtime.engine` runs it. Calling a flow runs it
locally, in-process, with no server, and returns its value (or its final state with
`return_state=True`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, Generic, ParamSpec, TypeVar, overload

P = ParamSpec("P")
R = TypeVar("R")


class FlowFunction(Generic[P, R]):
    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        retries: int = 0,
        retry_delay_seconds: Any = 0,
        retry_condition_fn: Callable[..., bool] | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool = False,
        validate_parameters: bool = True,
        task_runner: Any = None,
        result_storage: Any = None,
        on_completion: Iterable[Callable[..., Any]] = (),
        on_failure: Iterable[Callable[..., Any]] = (),
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__.replace("_", "-")
        self.description = description or inspect.getdoc(fn)
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_condition_fn = retry_condition_fn
        self.task_runner = task_runner
        self.result_storage = result_storage
        self.on_completion = list(on_completion)
        self.on_failure = list(on_failure)
        self.timeout_seconds = timeout_seconds
        self.log_prints = log_prints
        self.should_validate_parameters = validate_parameters
        self.__signature__ = inspect.signature(fn)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __call__(self, *args: P.args, return_state: bool = False, **kwargs: P.kwargs) -> R:  # type: ignore[valid-type]
        from runtime.engine import call_flow

        return call_flow(self, args, kwargs, return_state=return_state)  # type: ignore[no-any-return]

    def bind_parameters(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        bound = self.__signature__.bind(*args, **kwargs)
        return dict(bound.arguments)

    def parameter_schema(self) -> dict[str, Any]:
        from runtime.parameters import schema_for

        return schema_for(self.fn)

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        from runtime.parameters import validate

        return validate(self.fn, parameters)

    def __repr__(self) -> str:
        return f"<Flow: {self.name}>"


@overload
def flow(fn: Callable[P, R]) -> FlowFunction[P, R]: ...


@overload
def flow(fn: None = None, **options: Any) -> Callable[[Callable[P, R]], FlowFunction[P, R]]: ...


def flow(fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Decorate a function as a flow: `@flow` or `@flow(name="etl", log_prints=True)`."""
    if fn is None:
        return lambda f: FlowFunction(f, **options)
    return FlowFunction(fn, **options)
