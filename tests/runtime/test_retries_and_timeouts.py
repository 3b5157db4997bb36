from __future__ import annotations

import time

import pytest

from runtime import RunTimeoutError, exponential_backoff, flow, task
from runtime.attempts import retry_delay


def flaky(failures: int):
    calls = {"n": 0}

    def body() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ConnectionError(f"attempt {calls['n']} failed")
        return "ok"

    return body, calls


def test_task_retries_until_it_succeeds() -> None:
    body, calls = flaky(2)
    t = task(retries=2)(body)

    @flow
    def f() -> str:
        return t()

    assert f() == "ok"
    assert calls["n"] == 3


def test_task_fails_when_retries_are_used_up_and_raises_its_error() -> None:
    body, calls = flaky(5)
    t = task(retries=1)(body)

    @flow
    def f() -> str:
        return t()

    with pytest.raises(ConnectionError, match="attempt 2 failed"):
        f()
    assert calls["n"] == 2


def test_retry_delay_list_and_backoff_are_used_per_attempt() -> None:
    assert [retry_delay([1, 2, 5], n) for n in (1, 2, 3, 4)] == [1, 2, 5, 5]
    assert retry_delay(3, 7) == 3
    backoff = exponential_backoff(1, jitter=0.5)
    for attempt, base in ((1, 1), (2, 2), (3, 4)):
        assert base * 0.5 <= backoff(attempt) <= base * 1.5
    assert exponential_backoff(10, jitter=0, max_delay=15)(3) == 15
    with pytest.raises(ValueError, match="jitter"):
        exponential_backoff(1, jitter=2)


def test_retry_delays_are_slept() -> None:
    body, _ = flaky(2)
    t = task(retries=2, retry_delay_seconds=[0.05, 0.1])(body)

    @flow
    def f() -> str:
        return t()

    start = time.monotonic()
    assert f() == "ok"
    assert time.monotonic() - start >= 0.15


def test_retry_condition_fn_stops_retries() -> None:
    calls = {"n": 0}
    seen = []

    def only_connection_errors(task_, task_run, state) -> bool:
        seen.append((task_.name, task_run.task_run_name, state.type.value))
        return isinstance(state.data, ConnectionError)

    @task(retries=3, retry_condition_fn=only_connection_errors)
    def broken() -> None:
        calls["n"] += 1
        raise ValueError("bad input")

    @flow
    def f() -> None:
        broken()

    state = f(return_state=True)
    assert state.is_failed()
    assert calls["n"] == 1
    assert seen == [("broken", "broken-0", "FAILED")]


def test_flow_retries_rerun_the_body() -> None:
    body, calls = flaky(1)

    @flow(retries=1)
    def f() -> str:
        return body()

    assert f() == "ok"
    assert calls["n"] == 2


def test_task_timeout_fails_the_run_with_a_clear_message() -> None:
    @task(timeout_seconds=0.2)
    def slow() -> None:
        time.sleep(5)

    @flow
    def f() -> None:
        slow()

    start = time.monotonic()
    state = f(return_state=True)
    assert time.monotonic() - start < 3
    assert state.is_failed()
    assert isinstance(state.data, RunTimeoutError)
    assert "Task run 'slow-0' timed out after 0.2s (timeout_seconds=0.2)" in state.message


def test_flow_timeout_fails_the_run_with_a_clear_message() -> None:
    @flow(timeout_seconds=0.2, flow_run_name="slow-flow")
    def slow_flow() -> None:
        time.sleep(5)

    state = slow_flow(return_state=True)
    assert state.is_failed()
    assert "Flow run 'slow-flow' timed out after 0.2s" in state.message


def test_timeouts_are_per_attempt_and_retried() -> None:
    calls = {"n": 0}

    @task(timeout_seconds=0.2, retries=1)
    def slow_then_fast() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(5)
        return "fast"

    @flow
    def f() -> str:
        return slow_then_fast()

    assert f() == "fast"
