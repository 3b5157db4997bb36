"""Tasks: `@task` functions and `Task` subclasses (Prefect Core style, with `run()`).

A task only carries its definition; `runtime.engine` runs it. Called inside a flow run,
a task is orchestrated (state, logs, reporting); called anywhere else it is a plain call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, Generic, ParamSpec, TypeVar, overload

P = ParamSpec("P")
R = TypeVar("R")


class Task:
    """A unit of work. Subclass it and implement `run()`, or use `@task` on a function."""

    def __init__(
        self,
        name: str | None = None,
        *,
        retries: int = 0,
        retry_delay_seconds: float | list[float] = 0,
        timeout_seconds: float | None = None,
        tags: Iterable[str] = (),
        log_prints: bool | None = None,
    ) -> None:
        self.name = name or type(self).__name__
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self.timeout_seconds = timeout_seconds
        self.tags = frozenset(tags)
        self.log_prints = log_prints

    @property
    def task_key(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}:{self.name}"

    def run(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement run()")

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        from runtime.engine import call_task

        return call_task(self, args, kwargs, return_state=return_state)

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"


class FunctionTask(Task, Generic[P, R]):
    """What `@task` returns: a Task whose `run()` is the decorated function."""

    def __init__(self, fn: Callable[P, R], **options: Any) -> None:
        super().__init__(options.pop("name", None) or fn.__name__, **options)
        self.fn = fn
        self.__signature__ = inspect.signature(fn)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @property
    def task_key(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:  # type: ignore[override]
        return super().__call__(*args, **kwargs)  # type: ignore[no-any-return]


@overload
def task(fn: Callable[P, R]) -> FunctionTask[P, R]: ...


@overload
def task(
    fn: None = None, **options: Any
) -> Callable[[Callable[P, R]], FunctionTask[P, R]]: ...


def task(fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Decorate a function as a task: `@task` or `@task(retries=2, tags=["db"])`."""
    if fn is None:
        return lambda f: FunctionTask(f, **options)
    return FunctionTask(fn, **options)
