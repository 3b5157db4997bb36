"""Futures: what `task.submit()` and `task.map()` return.

A future wraps the task runner's own future (a `concurrent.futures.Future`) whose value is
the task run's final state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from runtime.states import Pending, State


class PushflowFuture:
    __slots__ = ("_future", "task_run_name")

    def __init__(self, future: Any, task_run_name: str) -> None:
        self._future = future
        self.task_run_name = task_run_name

    def wait(self, timeout: float | None = None) -> None:
        """Block until the task run is final (or `timeout` seconds pass)."""
        with contextlib.suppress(TimeoutError):
            self._future.result(timeout)

    def done(self) -> bool:
        return bool(self._future.done())

    @property
    def state(self) -> State:
        """The final state once done; Pending before."""
        if not self._future.done():
            return Pending()
        return self._future.result()  # type: ignore[no-any-return]

    def result(self, timeout: float | None = None, *, raise_on_failure: bool = True) -> Any:
        """The task's return value; re-raises its exception if it failed."""
        state: State = self._future.result(timeout)
        if state.is_completed() or not raise_on_failure:
            return state.data
        if isinstance(state.data, BaseException):
            raise state.data
        from runtime.errors import FlowRunFailed

        raise FlowRunFailed(f"task run {self.task_run_name!r} finished in state {state.name}: {state.message}")

    def __await__(self) -> Any:
        """`await future` in async code: the task's value, without blocking the loop."""
        import asyncio

        yield from asyncio.wrap_future(self._future).__await__()
        return self.result()

    def __repr__(self) -> str:
        return f"<PushflowFuture {self.task_run_name} {'done' if self.done() else 'pending'}>"


class PushflowFutureList(list):  # type: ignore[type-arg]
    """The futures of one `.map()`, in input order."""

    def wait(self, timeout: float | None = None) -> None:
        for future in self:
            future.wait(timeout)

    def result(self, timeout: float | None = None, *, raise_on_failure: bool = True) -> list[Any]:
        return [f.result(timeout, raise_on_failure=raise_on_failure) for f in self]


def wait(futures: Iterable[PushflowFuture], timeout: float | None = None) -> None:
    """Block until every future is final."""
    for future in futures:
        future.wait(timeout)


def resolve(value: Any) -> Any:
    """A flow's return value with futures (top level or in a list/tuple) replaced by results."""
    if isinstance(value, PushflowFuture):
        return value.result()
    if isinstance(value, (list, tuple)) and any(isinstance(v, PushflowFuture) for v in value):
        return type(value)(resolve(v) for v in value) if isinstance(value, tuple) else [resolve(v) for v in value]
    return value
