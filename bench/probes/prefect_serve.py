"""Probe: serve Prefect's empty flow as deployment 'empty/bench' until killed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from prefect_work import empty  # noqa: E402

if __name__ == "__main__":
    empty.serve(name="bench")
