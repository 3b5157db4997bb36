"""Tasks: `@task` functions and `Task` subclasses (Prefect Core style, with `run()`).

A task only carries its definition; `runtime.engine` runs it. Called inside a flow run,
a task is orchestrated (state, logs, reporting); inside `with Flow(...)` it adds itself to
the graph (`runtime.graph`); called anywhere else it is a plain call.
"""

from __future__ import annotations

import copy as _copy
import functools
import inspect
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, Generic, ParamSpec, TypeVar, overload

from runtime.graph_context import building_flow_var, flow_for
from runtime.task_engine import call_task, map_task, submit_task

P = ParamSpec("P")
R = TypeVar("R")


class Task:
    """A unit of work. Subclass it and implement `run()`, or use `@task` on a function.

    `max_retries`, `retry_delay` and `timeout` are Prefect Core's spellings of
    `retries`, `retry_delay_seconds` and `timeout_seconds`."""

    def __init__(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        retries: int = 0,
        retry_delay_seconds: Any = 0,
        retry_condition_fn: Callable[..., bool] | None = None,
        retry_jitter_factor: float | None = None,
        timeout_seconds: float | None = None,
        tags: Iterable[str] = (),
        log_prints: bool | None = None,
        task_run_name: str | Callable[[], str] | None = None,
        cache_policy: Any = None,
        cache_key_fn: Callable[..., str | None] | None = None,
        cache_expiration: timedelta | float | None = None,
        refresh_cache: bool = False,
        persist_result: bool | None = None,
        result_storage: Any = None,
        result_serializer: Any = None,
        on_completion: Iterable[Callable[..., Any]] = (),
        on_failure: Iterable[Callable[..., Any]] = (),
        on_running: Iterable[Callable[..., Any]] = (),
        max_retries: int | None = None,
        retry_delay: timedelta | None = None,
        timeout: float | None = None,
    ) -> None:
        self.name = name or type(self).__name__
        self.description = description
        self.retries = max_retries if max_retries is not None else retries
        self.retry_delay_seconds = retry_delay.total_seconds() if retry_delay is not None else retry_delay_seconds
        self.retry_condition_fn = retry_condition_fn
        if retry_jitter_factor is not None and retry_jitter_factor < 0:
            raise ValueError(f"retry_jitter_factor must be >= 0, got {retry_jitter_factor}")
        self.retry_jitter_factor = retry_jitter_factor
        self.timeout_seconds = timeout if timeout is not None else timeout_seconds
        self.tags = frozenset(tags)
        self.log_prints = log_prints
        self.task_run_name = task_run_name
        if cache_key_fn is None and cache_policy is None and cache_expiration is not None:
            from runtime.caching import task_input_hash

            cache_key_fn = task_input_hash  # an expiration alone means: the default policy
        if cache_policy is not None and cache_key_fn is not None:
            raise ValueError(f"task {self.name!r}: give cache_policy= or cache_key_fn=, not both")
        self.cache_key_fn = cache_key_fn
        self.cache_policy = cache_policy
        self.cache_expiration = (
            cache_expiration.total_seconds() if isinstance(cache_expiration, timedelta) else cache_expiration
        )
        self.refresh_cache = refresh_cache
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.on_completion = list(on_completion)
        self.on_failure = list(on_failure)
        self.on_running = list(on_running)
        self.isasync = False

    def effective_cache_policy(self) -> Any:
        """The policy this task's cache keys come from, or None for no caching. A task
        whose results persist gets Prefect 3's default (inputs, source, flow run)."""
        if self.cache_policy is not None:
            return self.cache_policy
        if self.cache_key_fn is not None:
            from runtime.cache_policies import CacheKeyFnPolicy

            return CacheKeyFnPolicy(self.cache_key_fn)
        if self.persist_result:
            from runtime.cache_policies import DEFAULT

            return DEFAULT
        return None

    def persists(self, ctx: Any) -> bool:
        """Whether a completed run's result is written to result storage: as asked, else
        (Prefect 3's default) when the task caches."""
        if self.persist_result is not None:
            return self.persist_result
        policy = self.cache_policy
        if policy is None and self.cache_key_fn is None:
            return False
        from runtime.cache_policies import NONE

        return policy is not NONE

    @property
    def task_key(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}:{self.name}"

    def run(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement run()")

    def run_signature(self) -> inspect.Signature:
        return inspect.signature(self.run)

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        building = building_flow_var.get()
        if building is not None:
            return building.call_task(self, args, kwargs)
        return call_task(self, args, kwargs, return_state=return_state)

    # Concurrency ------------------------------------------------------------------------

    def submit(self, *args: Any, wait_for: Any = None, **kwargs: Any) -> Any:
        """Run in the flow's task runner; returns a future at once."""
        return submit_task(self, args, kwargs, wait_for)

    def map(self, *args: Any, wait_for: Any = None, **kwargs: Any) -> Any:
        """Submit one run per element of the iterable arguments (wrap constants that are
        themselves iterable in `unmapped()`); returns a list of futures."""
        return map_task(self, args, kwargs, wait_for)

    def with_options(self, **options: Any) -> Task:
        """A copy with some options changed: `my_task.with_options(retries=3)`."""
        new = self.copy()
        for key, value in options.items():
            if not hasattr(new, key):
                raise TypeError(f"{self.name}.with_options() got an unknown option {key!r}")
            if key in ("tags",):
                value = frozenset(value)
            if key in ("on_completion", "on_failure", "on_running"):
                value = list(value)
            setattr(new, key, value)
        return new

    # Prefect Core's imperative API ------------------------------------------------------

    def copy(self, **changes: Any) -> Task:
        """A new task with the same definition: a distinct node in a Flow."""
        new = _copy.copy(self)
        new.__dict__.update(changes)
        return new

    def bind(
        self,
        *args: Any,
        upstream_tasks: Iterable[Task] | None = None,
        flow: Any = None,
        **kwargs: Any,
    ) -> Task:
        """Bind this task's inputs in `flow` (or the flow being built): tasks among them
        become data edges, `upstream_tasks` state-only edges."""
        flow_for(flow, "bind").set_dependencies(
            self, upstream_tasks=upstream_tasks, keyword_tasks=self.bind_arguments(args, kwargs)
        )
        return self

    def set_upstream(self, task: Task, flow: Any = None, key: str | None = None) -> None:
        flow_for(flow, "set_upstream").add_edge(task, self, key=key)

    def set_downstream(self, task: Task, flow: Any = None, key: str | None = None) -> None:
        flow_for(flow, "set_downstream").add_edge(self, task, key=key)

    def bind_arguments(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self.run_signature().bind_partial(*args, **kwargs).arguments)
        except TypeError as exc:
            raise TypeError(f"cannot bind {self.name}: {exc}") from None

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"


class FunctionTask(Task, Generic[P, R]):
    """What `@task` returns: a Task whose `run()` is the decorated function."""

    def __init__(self, fn: Callable[P, R], **options: Any) -> None:
        super().__init__(options.pop("name", None) or fn.__name__, **options)
        self.fn = fn
        self.isasync = inspect.iscoroutinefunction(fn)
        self.__signature__ = inspect.signature(fn)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @property
    def task_key(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def run_signature(self) -> inspect.Signature:
        return self.__signature__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:  # type: ignore[override]
        return super().__call__(*args, **kwargs)  # type: ignore[no-any-return,arg-type]


_NO_DEFAULT = object()


class Parameter(Task):
    """A flow input, given to `flow.run(name=value)` or by a deployment's run."""

    def __init__(self, name: str, default: Any = _NO_DEFAULT, required: bool | None = None, **options: Any) -> None:
        super().__init__(name, **options)
        self.default = None if default is _NO_DEFAULT else default
        self.required = (default is _NO_DEFAULT) if required is None else required

    @property
    def task_key(self) -> str:
        return f"parameter:{self.name}"

    def run(self) -> Any:  # the graph runner supplies the value
        return self.default

    def copy(self, **changes: Any) -> Task:
        raise TypeError(f"Parameter {self.name!r} cannot be copied: a flow has one parameter per name")

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"


@overload
def task(fn: Callable[P, R]) -> FunctionTask[P, R]: ...


@overload
def task(fn: None = None, **options: Any) -> Callable[[Callable[P, R]], FunctionTask[P, R]]: ...


def task(fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Decorate a function as a task: `@task` or `@task(retries=2, tags=["db"])`."""
    if fn is None:
        return lambda f: FunctionTask(f, **options)
    return FunctionTask(fn, **options)
