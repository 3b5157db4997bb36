"""The run log's console lines: written in batches, yet every line is on stderr by the
time its flow run returns, a WARNING at once, and an INFO line of a run still going
within a moment."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from runtime import flow, get_run_logger, task
from tests.helpers import wait_for


@task
def noop(x: int) -> int:
    return x


def test_every_finish_line_is_on_stderr_in_order_when_the_flow_returns(capfd: pytest.CaptureFixture[str]) -> None:
    @flow
    def many() -> None:
        for i in range(300):  # more than one batch
            noop(i)

    many()
    err = capfd.readouterr().err
    finished = [line.split(" | ")[-1] for line in err.splitlines() if "Finished in state" in line]
    assert finished[:300] == [f"Task run 'noop-{i}' - Finished in state Completed()" for i in range(300)]
    assert finished[300].startswith("Flow run '") and finished[300].endswith("' - Finished in state Completed()")
    assert len(finished) == 301


def test_a_warning_is_written_at_once(capfd: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []

    @flow
    def warns() -> None:
        get_run_logger().warning("disk nearly full")
        seen.append(capfd.readouterr().err)  # still inside the run

    warns()
    assert "WARNING | Flow run" in seen[0] and "disk nearly full" in seen[0]


def test_an_info_line_of_a_run_still_going_reaches_stderr_without_waiting_for_its_end(
    capfd: pytest.CaptureFixture[str],
) -> None:
    release = threading.Event()
    written: list[str] = []

    @task
    def slow() -> None:
        get_run_logger().info("halfway there")
        written.append(wait_for(lambda: "halfway there" in capfd.readouterr().err and "yes", timeout=10))
        release.set()

    @flow
    def long_running() -> None:
        slow()

    long_running()
    assert release.is_set() and written == ["yes"]


def test_lines_below_the_run_loggers_level_are_not_written(capfd: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("pushflow.runs")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:

        @flow
        def quiet() -> None:
            noop(1)

        quiet()
    finally:
        logger.setLevel(level)
    assert "Finished in state" not in capfd.readouterr().err


class _Formatted(logging.Handler):
    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(fmt))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{self.format(record)} [{getattr(record, 'custom', '-')}]")


def test_a_finish_line_is_a_whole_log_record_for_other_handlers_and_honours_a_record_factory() -> None:
    logger = logging.getLogger("pushflow.runs")
    handler = _Formatted("%(name)s %(levelname)s %(threadName)s %(process)d %(run_label)s %(message)s")
    logger.addHandler(handler)
    made = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = made(*args, **kwargs)
        record.custom = "from-factory"
        return record

    @flow
    def one() -> None:
        noop(1)

    try:
        one()
        logging.setLogRecordFactory(factory)
        one()
    finally:
        logging.setLogRecordFactory(made)
        logger.removeHandler(handler)
    task_lines = [line for line in handler.lines if "Task run" in line]
    assert len(task_lines) == 2
    line = f"pushflow.runs INFO MainThread {os.getpid()} Task run 'noop-0' Finished in state Completed()"
    assert task_lines == [f"{line} [-]", f"{line} [from-factory]"]
