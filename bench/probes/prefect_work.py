"""Prefect 3 flows the probes time: the same shapes as pushflow_work.py."""

from __future__ import annotations

import time

from prefect import flow, task


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
    noop.map(range(n)).result()
    return time.perf_counter() - start


FLOWS = {"seq": sequential, "map": mapped}
