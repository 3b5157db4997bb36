"""A flow that runs until told to finish: the handover tests kill the control plane that
submitted it while it runs."""

import time
from pathlib import Path

from runtime import flow


@flow
def hold(started: str, release: str) -> str:
    Path(started).write_text("started")
    while not Path(release).exists():
        time.sleep(0.05)
    return "released"
