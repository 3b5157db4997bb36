"""Probe: serve Prefect's empty flow as deployment 'empty/bench' until killed
(`--interval SECONDS`: on that interval schedule, for the lateness workload)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from prefect_work import empty  # noqa: E402

if __name__ == "__main__":
    interval = float(sys.argv[sys.argv.index("--interval") + 1]) if "--interval" in sys.argv else None
    empty.serve(name="bench", interval=interval)
