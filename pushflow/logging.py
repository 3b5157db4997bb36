"""Run logging (Prefect's `prefect.logging`)."""

from runtime.loggers import get_run_logger

__all__ = ["get_run_logger"]
