from __future__ import annotations

import threading

import pytest

from runtime import flow, task, unmapped, wait


@task
def double(x: int) -> int:
    return 2 * x


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def explode(x: int) -> int:
    raise RuntimeError(f"boom {x}")


def test_submit_returns_a_future_whose_result_is_the_value() -> None:
    @flow
    def f() -> int:
        future = double.submit(21)
        return future.result()

    assert f() == 42


def test_submitted_tasks_run_in_the_thread_pool() -> None:
    threads = set()

    @task
    def where() -> None:
        threads.add(threading.current_thread().name)

    @flow
    def f() -> None:
        wait([where.submit() for _ in range(4)])

    f()
    assert all(name.startswith("pushflow-task") for name in threads)


def test_futures_passed_as_arguments_are_resolved() -> None:
    @flow
    def f() -> int:
        return add.submit(double.submit(1), double.submit(2)).result()

    assert f() == 6


def test_map_runs_one_task_per_element_with_unmapped_constants() -> None:
    @flow
    def f() -> list[int]:
        return add.map([1, 2, 3], unmapped(10)).result()

    assert f() == [11, 12, 13]


def test_map_over_iterables_of_different_lengths_is_refused() -> None:
    @flow
    def f() -> None:
        add.map([1, 2], [1, 2, 3])

    with pytest.raises(ValueError, match=r"different lengths \(0: 2, 1: 3\)"):
        f()


def test_wait_for_orders_tasks_without_passing_data() -> None:
    order: list[str] = []
    gate = threading.Event()

    @task
    def first() -> None:
        gate.wait(5)
        order.append("first")

    @task
    def second() -> None:
        order.append("second")

    @flow
    def f() -> None:
        a = first.submit()
        b = second.submit(wait_for=[a])
        gate.set()
        b.wait()

    f()
    assert order == ["first", "second"]


def test_a_failed_upstream_stops_its_downstream() -> None:
    ran = []

    @task
    def after() -> None:
        ran.append(True)

    states = []

    @flow
    def f() -> None:
        bad = explode.submit(1)
        downstream = after.submit(wait_for=[bad])
        downstream.wait()
        states.append(downstream.state)

    f()
    (state,) = states
    assert ran == []
    assert state.name == "TriggerFailed"
    assert "upstream task run 'explode-0' finished in state Failed" in state.message


def test_future_result_reraises_the_task_error_and_the_flow_fails() -> None:
    @flow
    def f() -> int:
        return explode.submit(7).result()

    with pytest.raises(RuntimeError, match="boom 7"):
        f()


def test_the_flow_waits_for_futures_it_did_not_read() -> None:
    done = []

    @task
    def slow() -> None:
        done.append(True)

    @flow
    def f() -> None:
        slow.submit()

    f()
    assert done == [True]


def test_returned_futures_become_values() -> None:
    @flow
    def f():
        return double.map([1, 2])

    assert f() == [2, 4]
