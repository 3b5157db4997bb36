"""Task runners (Prefect's `prefect.task_runners`; Dask's lives in `prefect_dask`)."""

from runtime.task_runners import DaskTaskRunner, ThreadPoolTaskRunner

__all__ = ["DaskTaskRunner", "ThreadPoolTaskRunner"]
