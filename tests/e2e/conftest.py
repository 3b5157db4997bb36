from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import LiveServer
from tests.terraform import aws_calls

FLOWS = Path(__file__).parent.parent / "flows"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real `pushflow server start` on a free port, SQLite under its own home."""
    live = LiveServer(tmp_path / "home").start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module", autouse=True)
def record_aws_calls(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The AWS calls pushflow makes here feed the IAM check (tests/terraform/aws_calls.py)."""
    with aws_calls.recording(request.module.__name__, lambda: tmp_path_factory.mktemp("aws-calls")):
        yield
