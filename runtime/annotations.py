"""Argument annotations for task calls, as in Prefect (`prefect.utilities.annotations`).

- `unmapped(x)`: pass `x` whole to every run of a `.map()`.
- `quote(x)` / `opaque(x)`: pass `x` as it is: no looking inside it for futures (cheap for
  big collections), never iterated by `.map()`.
- `allow_failure(future)`: run the task even if that upstream failed; the argument is the
  upstream's exception.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class BaseAnnotation(Generic[T]):
    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def unwrap(self) -> T:
        return self.value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class unmapped(BaseAnnotation[T]):  # noqa: N801 - reads as a marker: task.map(xs, unmapped(db))
    """Pass this argument whole to every mapped run instead of iterating over it."""

    __slots__ = ()


class quote(BaseAnnotation[T]):  # noqa: N801
    """Pass this argument as it is, without resolving futures inside it."""

    __slots__ = ()

    def unquote(self) -> T:
        return self.value


class opaque(quote[T]):  # noqa: N801 - Prefect 3's newer name for quote
    __slots__ = ()


class allow_failure(BaseAnnotation[T]):  # noqa: N801
    """Run the task even if this upstream future did not complete."""

    __slots__ = ()
