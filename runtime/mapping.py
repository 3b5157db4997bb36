"""Inputs of submitted and mapped task runs: `.map()` expansion, `unmapped()`, and
resolving futures passed as arguments or in `wait_for=`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runtime.annotations import BaseAnnotation, allow_failure, quote, unmapped
from runtime.futures import PushflowFuture

__all__ = ["expand", "resolve_inputs", "unmapped"]


def _is_mapped(value: Any) -> bool:
    return not isinstance(value, (BaseAnnotation, str, bytes, dict)) and isinstance(value, Iterable)


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
        return value[i] if isinstance(value, list) else value  # other annotations stay for the run

    return [(tuple(pick(a, i) for a in args), {k: pick(v, i) for k, v in kwargs.items()}) for i in range(count)]


def resolve_inputs(
    args: tuple, kwargs: dict[str, Any], wait_for: Any
) -> tuple[tuple, dict[str, Any], PushflowFuture | None]:
    """Wait for every future in the arguments (top level or in a list/tuple) and in
    `wait_for`; replace argument futures by their values and annotations by what they
    hold. Returns the first upstream that did not complete, if any, in which case the task
    must not run."""
    for item in wait_for if isinstance(wait_for, (list, tuple)) else [wait_for] if wait_for is not None else []:
        allowed = isinstance(item, allow_failure)
        for future in _futures_in(item.value if allowed else item):
            future.wait()
            if not allowed and not future.state.is_completed():
                return args, kwargs, future
    failed: list[PushflowFuture] = []

    def value_of(value: Any, allowed: bool = False) -> Any:
        if isinstance(value, PushflowFuture):
            value.wait()
            if not allowed and not value.state.is_completed():
                failed.append(value)
            return value.state.data
        if isinstance(value, BaseAnnotation):
            if isinstance(value, quote):
                return value.value
            return value_of(value.value, allowed or isinstance(value, allow_failure))
        if isinstance(value, (list, tuple)) and any(isinstance(v, (PushflowFuture, BaseAnnotation)) for v in value):
            return type(value)(value_of(v, allowed) for v in value)
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
