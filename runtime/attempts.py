"""Attempts: how one task or flow body is tried, retried and timed out.

Shared by tasks and flows so that both get the same retry and timeout semantics. Kept
free of reporting and caching: a Dask worker runs exactly this for a task's body.
"""

from __future__ import annotations

import contextvars
import random
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from runtime.states import Completed, Failed, State


class RunTimeoutError(TimeoutError):
    """A task or flow body ran longer than its `timeout_seconds`."""


class Backoff:
    """Exponential backoff with jitter: attempt n waits `factor * 2**(n-1)` seconds, then
    spread by +/- `jitter` (a fraction) so that many retrying tasks do not move in step."""

    def __init__(self, backoff_factor: float, *, jitter: float = 0.2, max_delay: float | None = None) -> None:
        if backoff_factor < 0 or not 0 <= jitter <= 1:
            raise ValueError(
                f"exponential_backoff needs backoff_factor >= 0 and 0 <= jitter <= 1, got {backoff_factor} and {jitter}"
            )
        self.backoff_factor = backoff_factor
        self.jitter = jitter
        self.max_delay = max_delay

    def __call__(self, attempt: int) -> float:
        delay = self.backoff_factor * 2 ** (attempt - 1)
        if self.max_delay is not None:
            delay = min(delay, self.max_delay)
        return max(0.0, delay * (1 + self.jitter * (2 * random.random() - 1)))

    def __repr__(self) -> str:
        return f"exponential_backoff({self.backoff_factor}, jitter={self.jitter})"


def exponential_backoff(backoff_factor: float, *, jitter: float = 0.2, max_delay: float | None = None) -> Backoff:
    """`retry_delay_seconds=exponential_backoff(1)` waits ~1, 2, 4, ... seconds."""
    return Backoff(backoff_factor, jitter=jitter, max_delay=max_delay)


def retry_delay(spec: float | Sequence[float] | Callable[[int], float], attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    if callable(spec):
        return float(spec(attempt))
    if isinstance(spec, (list, tuple)):
        return float(spec[min(attempt - 1, len(spec) - 1)]) if spec else 0.0
    return float(spec)  # type: ignore[arg-type]  # a number: the sequence case returned above


def run_attempts(
    call: Callable[[], Any],
    *,
    retries: int,
    delay: Any,
    timeout: float | None,
    label: str,
    logger: Any,
    should_retry: Callable[[State], bool] | None = None,
    jitter: float | None = None,
) -> tuple[State, int]:
    """Call `call` until it succeeds or `retries` are used up; return the final state and
    the number of attempts. A body that returns a `State` decides its own outcome."""
    attempts = 0
    while True:
        attempts += 1
        try:
            value = call() if timeout is None else call_with_timeout(call, timeout, label)
            state = value if isinstance(value, State) else Completed(data=value)
        except Exception as exc:
            state = Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
        wait = _next_wait(state, attempts, retries, delay, jitter, should_retry, logger)
        if wait is None:
            return state, attempts
        if wait > 0:
            time.sleep(wait)


async def run_attempts_async(
    call: Callable[[], Awaitable[Any]],
    *,
    retries: int,
    delay: Any,
    timeout: float | None,
    label: str,
    logger: Any,
    should_retry: Callable[[State], bool] | None = None,
    jitter: float | None = None,
) -> tuple[State, int]:
    """`run_attempts` for an async body: awaited on the caller's event loop, timed out by
    cancelling it, and waiting between attempts without blocking the loop."""
    import asyncio  # loaded already when a coroutine runs; `import runtime` stays light

    attempts = 0
    while True:
        attempts += 1
        try:
            if timeout is None:
                value = await call()
            else:
                try:
                    value = await asyncio.wait_for(call(), timeout)
                except asyncio.TimeoutError:
                    raise _timed_out(label, timeout) from None
            state = value if isinstance(value, State) else Completed(data=value)
        except Exception as exc:
            state = Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
        wait = _next_wait(state, attempts, retries, delay, jitter, should_retry, logger)
        if wait is None:
            return state, attempts
        if wait > 0:
            await asyncio.sleep(wait)


def _next_wait(
    state: State,
    attempts: int,
    retries: int,
    delay: Any,
    jitter: float | None,
    should_retry: Callable[[State], bool] | None,
    logger: Any,
) -> float | None:
    """Seconds to wait before the next attempt, or None when `state` is final."""
    if not state.is_failed() or attempts > retries:
        return None
    if should_retry is not None and not _condition_allows(should_retry, state, logger):
        logger.info("Not retrying: retry_condition_fn returned False for %s", state.message)
        return None
    wait = retry_delay(delay, attempts)
    if jitter:
        # Prefect's retry_jitter_factor: up to `jitter` times the delay added at random.
        wait += wait * jitter * random.random()
    logger.warning(
        "Attempt %d of %d failed with %s; retrying in %.3gs",
        attempts,
        retries + 1,
        state.message,
        wait,
    )
    return wait


def _condition_allows(should_retry: Callable[[State], bool], state: State, logger: Any) -> bool:
    try:
        return bool(should_retry(state))
    except Exception as exc:  # a broken condition must not hide the original failure
        logger.error("retry_condition_fn raised %s: %s; not retrying", type(exc).__name__, exc)
        return False


def call_with_timeout(call: Callable[[], Any], timeout: float, label: str) -> Any:
    """Run `call` in a helper thread (with this context) and give up after `timeout`
    seconds. Python cannot kill a thread: on timeout the body gets a RunTimeoutError
    raised inside it the next time it runs Python code, and we stop waiting at once."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 - carried back to the caller
            outcome.append((False, exc))

    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(target,), name=f"pushflow-timeout-{label}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        _interrupt(thread)
        raise _timed_out(label, timeout)
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def _timed_out(label: str, timeout: float) -> RunTimeoutError:
    return RunTimeoutError(f"{label} timed out after {timeout:g}s (timeout_seconds={timeout:g})")


def _interrupt(thread: threading.Thread) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident or 0), ctypes.py_object(RunTimeoutError))
