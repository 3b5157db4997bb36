"""Run logging: `get_run_logger()`, the handler that ships records to the control plane,
and `log_prints` capture of `print`."""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import logging
import os
import sys
import threading
import time
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
    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        record.run_label = getattr(record, "run_label", "")
        return super().format(record)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        # The same text for every line of one second (strftime per line was a fifth of a
        # task's finish line); called under the handler's lock.
        second = int(record.created)
        if second != self._second:
            self._stamp = super().formatTime(record, datefmt)
            self._second = second
        return self._stamp


FLUSH_SECONDS = 0.1  # how long a console line may wait to be written with others


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Run log lines to stderr, written a batch at a time: a line reaches the stream
    within FLUSH_SECONDS, at once when it is a WARNING or worse, and when a flow run ends
    (`flush_console`). A flow of a thousand tasks prints its finish lines in a few writes
    instead of a write and a flush each."""

    MAX_LINES = 256

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self._lines: list[str] = []
        self._due = threading.Event()  # set: lines are waiting for the flusher
        self._pause = threading.Event()  # never set: the flusher's wait (time.sleep may be patched)
        self._flusher: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:  # under the handler's lock
        try:
            self._lines.append(self.format(record) + self.terminator)
            if record.levelno >= logging.WARNING or len(self._lines) >= self.MAX_LINES:
                self._write()
            elif not self._due.is_set():
                self._wake_flusher()
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        # stderr closed or gone: there is nowhere to show the lines
        with self.lock, contextlib.suppress(OSError, ValueError):  # type: ignore[union-attr]
            self._write()

    def _write(self) -> None:
        self.stream = sys.stderr  # the current one (a test's capture, a redirect), as print() does
        if self._lines:
            text, self._lines = "".join(self._lines), []
            self.stream.write(text)
        self.stream.flush()

    def _wake_flusher(self) -> None:
        if self._flusher is None or not self._flusher.is_alive():  # none yet, or forked
            self._flusher = threading.Thread(target=self._flush_soon, name="pushflow-console", daemon=True)
            self._flusher.start()
        self._due.set()

    def _flush_soon(self) -> None:
        while True:
            self._due.wait()
            self._pause.wait(FLUSH_SECONDS)
            self._due.clear()  # a line logged from here on sets it again
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - it must outlive any stream's failure
                self._lines = []


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
            console = _ConsoleHandler()
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


def flush_console() -> None:
    """Write out the console lines still waiting (a flow run ended)."""
    for handler in _configure().handlers:
        if isinstance(handler, _ConsoleHandler):
            handler.flush()


def log_line(label: str, level: int, msg: str, *args: Any) -> None:
    """One of the engine's own lines (a task run's finish line), the record made
    directly: `Logger.info` would first walk the stack for the caller's file and line,
    which these lines never show, and `LogRecord()` works out again per line what is the
    same for every line of this process (file, module, process name); here those are
    copied from one record made per process. A custom record factory is still used."""
    logger = _configure()
    if not logger.isEnabledFor(level):
        return
    if logging.getLogRecordFactory() is not logging.LogRecord:
        record = logger.makeRecord(logger.name, level, __file__, 0, msg, args, None, extra={"run_label": label})
    else:
        record = logging.LogRecord.__new__(logging.LogRecord)
        fields = record.__dict__
        fields.update(_record_base())
        created = time.time()
        fields.update(
            msg=msg,
            args=args,
            levelno=level,
            levelname=logging.getLevelName(level),
            created=created,
            msecs=int((created - int(created)) * 1000) + 0.0,
            relativeCreated=(created - _base_started) * 1000,
            thread=threading.get_ident(),
            threadName=threading.current_thread().name,
            run_label=label,
        )
    logger.handle(record)


_base: tuple[int, dict[str, Any]] | None = None
_base_started = 0.0  # logging's own start time, as its records count relativeCreated


def _record_base() -> dict[str, Any]:
    """The fields of a run-log record that are the same for every line of this process."""
    global _base, _base_started
    pid = os.getpid()
    if _base is None or _base[0] != pid:
        template = logging.LogRecord(LOGGER_NAME, logging.INFO, __file__, 0, "", (), None)
        _base_started = template.created - template.relativeCreated / 1000
        _base = (pid, dict(template.__dict__))
    return _base[1]


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
