from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from runtime.loggers import LOGGER_NAME
from tests.helpers import LiveServer


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{getattr(record, 'run_label', '')} - {record.getMessage()}")


@pytest.fixture
def run_logs() -> Iterator[list[str]]:
    """The run log lines ("Task run 'x-0' - Finished in state Completed()") logged
    during the test, as the console shows them after the time and level."""
    handler = _Lines()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server (a process, SQLite) with a process pool named "local", shared by
    the runtime tests that run flows from deployments."""
    with LiveServer(tmp_path_factory.mktemp("server") / "home") as live:
        live.client().post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
        yield live
