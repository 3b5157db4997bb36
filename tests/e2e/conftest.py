from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import LiveServer

FLOWS = Path(__file__).parent.parent / "flows"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real `pushflow server start` on a free port, SQLite under its own home."""
    live = LiveServer(tmp_path / "home").start()
    try:
        yield live
    finally:
        live.stop()
