"""pushflow flows the probes time. Each returns the seconds spent inside its body."""

from __future__ import annotations

import time

from runtime import flow, task


@task
def noop(x: int) -> int:
    return x


@flow
def empty() -> None:
    return None


@flow
def sequential(n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        noop(i)
    return time.perf_counter() - start


@flow
def mapped(n: int) -> float:
    start = time.perf_counter()
    for future in noop.map(range(n)):  # type: ignore[attr-defined]
        future.result()
    return time.perf_counter() - start


FLOWS = {"seq": sequential, "map": mapped}
