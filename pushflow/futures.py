"""Futures (Prefect's `prefect.futures`): what `task.submit()` and `task.map()` return."""

from runtime.futures import PushflowFuture, PushflowFutureList, wait

PrefectFuture = PushflowFuture  # the name a moved flow may still use in annotations

__all__ = ["PrefectFuture", "PushflowFuture", "PushflowFutureList", "wait"]
