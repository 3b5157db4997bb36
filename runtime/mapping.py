"""Inputs of submitted and mapped task runs: `.map()` expansion, `unmapped()`, and
resolving futures passed as arguments or in `wait_for=`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runtime.futures import PushflowFuture


class unmapped:  # noqa: N801 - reads as a marker at the call site: task.map(xs, unmapped(db))
    """Pass this argument whole to every mapped run instead of iterating over it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _is_mapped(value: Any) -> bool:
    return not isinstance(value, (unmapped, str, bytes, dict)) and isinstance(value, Iterable)


def expand(task_name: str, args: tuple, kwargs: dict[str, Any]) -> list[tuple[tuple, dict[str, Any]]]:
    """One (args, kwargs) per mapped run: iterables are zipped, `unmapped` values and
    scalars repeat."""
    args = tuple(list(a) if _is_mapped(a) else a for a in args)
    kwargs = {k: list(v) if _is_mapped(v) else v for k, v in kwargs.items()}
    lengths = {str(name): len(value) for name, value in [*enumerate(args), *kwargs.items()] if isinstance(value, list)}
    if not lengths:
        raise ValueError(f"{task_name}.map() needs at least one iterable argument; got none")
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValueError(f"{task_name}.map() got iterables of different lengths ({shown}); they must match")
    (count,) = set(lengths.values())

    def pick(value: Any, i: int) -> Any:
        if isinstance(value, unmapped):
            return value.value
        return value[i] if isinstance(value, list) else value

    return [(tuple(pick(a, i) for a in args), {k: pick(v, i) for k, v in kwargs.items()}) for i in range(count)]


def resolve_inputs(
    args: tuple, kwargs: dict[str, Any], wait_for: Any
) -> tuple[tuple, dict[str, Any], PushflowFuture | None]:
    """Wait for every future in the arguments (top level or in a list/tuple) and in
    `wait_for`; replace argument futures by their values. Returns the first upstream that
    did not complete, if any, in which case the task must not run."""
    for future in _futures_in(wait_for or ()):
        future.wait()
        if not future.state.is_completed():
            return args, kwargs, future
    failed: list[PushflowFuture] = []

    def value_of(value: Any) -> Any:
        if isinstance(value, PushflowFuture):
            value.wait()
            if not value.state.is_completed():
                failed.append(value)
            return value.state.data
        if isinstance(value, (list, tuple)) and any(isinstance(v, PushflowFuture) for v in value):
            return type(value)(value_of(v) for v in value)
        return value

    args = tuple(value_of(a) for a in args)
    kwargs = {k: value_of(v) for k, v in kwargs.items()}
    return args, kwargs, (failed[0] if failed else None)


def _futures_in(values: Any) -> list[PushflowFuture]:
    if isinstance(values, PushflowFuture):
        return [values]
    found: list[PushflowFuture] = []
    for value in values:
        found.extend(
            _futures_in(value)
            if isinstance(value, (list, tuple))
            else [value]
            if isinstance(value, PushflowFuture)
            else []
        )
    return found
