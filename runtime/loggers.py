"""Run logging: `get_run_logger()`, the handler that ships records to the control plane,
and `log_prints` capture of `print`."""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

from runtime.context import FlowRunContext, TaskRunContext, flow_run_var, task_run_var

LOGGER_NAME = "pushflow.runs"


class RunLogHandler(logging.Handler):
    """Sends each record logged inside a flow run to that run's reporter, if it has one."""

    def emit(self, record: logging.LogRecord) -> None:
        ctx = flow_run_var.get()
        if ctx is None or ctx.reporter is None:
            return
        try:
            task_run = task_run_var.get()
            ctx.reporter.log(
                {
                    "level": record.levelno,
                    "name": record.name,
                    "message": record.getMessage(),
                    "timestamp": record.created,
                    "task_run_id": task_run.task_run_id if task_run else None,
                }
            )
        except Exception:
            self.handleError(record)


class _RunContextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.run_label = getattr(record, "run_label", "")
        return super().format(record)


_configured = False
_configure_lock = threading.Lock()


_logger: logging.Logger | None = None  # once configured: no getLogger (and its lock) per run


def _configure() -> logging.Logger:
    global _configured, _logger
    if _logger is not None:
        return _logger
    logger = logging.getLogger(LOGGER_NAME)
    with _configure_lock:
        if not _configured:
            logger.setLevel(logging.INFO)
            logger.propagate = False
            logger.addHandler(RunLogHandler())
            console = logging.StreamHandler(sys.stderr)
            console.setFormatter(
                _RunContextFormatter(
                    "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(run_label)s - %(message)s",
                    "%H:%M:%S",
                )
            )
            logger.addHandler(console)
            _configured = True
    _logger = logger
    return logger


def logs_at(level: int) -> bool:
    """Whether a run log at `level` would go anywhere (one cached check)."""
    return _configure().isEnabledFor(level)


def flow_logger(ctx: FlowRunContext) -> logging.LoggerAdapter:
    return logging.LoggerAdapter(_configure(), {"run_label": f"Flow run '{ctx.flow_run_name}'"})


def task_logger(run: TaskRunContext) -> logging.LoggerAdapter:
    return logging.LoggerAdapter(_configure(), {"run_label": f"Task run '{run.task_run_name}'"})


def schedule_logger(flow_name: str) -> logging.LoggerAdapter:
    return logging.LoggerAdapter(_configure(), {"run_label": f"Flow '{flow_name}'"})


def get_run_logger() -> logging.LoggerAdapter:
    """The logger of the current task run or flow run; its records reach the control plane."""
    task_run = task_run_var.get()
    if task_run is not None:
        return task_logger(task_run)
    ctx = flow_run_var.get()
    if ctx is None:
        raise RuntimeError("get_run_logger() works only inside a flow or task run")
    return flow_logger(ctx)


# print capture -------------------------------------------------------------------------

_original_print = builtins.print
_capture_depth = 0
_capture_lock = threading.Lock()
_log_prints_var: contextvars.ContextVar[bool] = contextvars.ContextVar("pushflow_log_prints", default=False)


def _capturing_print(*args: Any, **kwargs: Any) -> None:
    target = kwargs.get("file")
    if (target is None or target is sys.stdout) and _log_prints_var.get():
        sep = kwargs.get("sep")
        get_run_logger().info((" " if sep is None else sep).join(str(a) for a in args))
        return
    _original_print(*args, **kwargs)


def capturing(enabled: bool) -> bool:
    """Whether `print_capture(enabled)` would change anything here."""
    return enabled or _log_prints_var.get()


@contextlib.contextmanager
def print_capture(enabled: bool) -> Iterator[None]:
    """While active, `print` inside this run (its thread and context) goes to the run
    logger; `print` elsewhere is untouched."""
    global _capture_depth
    token = _log_prints_var.set(enabled)
    if enabled:
        with _capture_lock:
            _capture_depth += 1
            builtins.print = _capturing_print
    try:
        yield
    finally:
        _log_prints_var.reset(token)
        if enabled:
            with _capture_lock:
                _capture_depth -= 1
                if _capture_depth == 0:
                    builtins.print = _original_print
