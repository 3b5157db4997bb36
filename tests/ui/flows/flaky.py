import os
from pathlib import Path

from runtime import flow


@flow
def flaky(marker: str) -> str:
    """Its container dies the first time (leaving `marker`), before reporting a final state;
    the deployment's crash retry re-submits it and it succeeds."""
    if not Path(marker).exists():
        Path(marker).write_text("died once")
        os._exit(3)
    return "second attempt"
