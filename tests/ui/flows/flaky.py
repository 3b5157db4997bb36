from pathlib import Path

from runtime import flow


@flow
def flaky(marker: str) -> str:
    """Fails the first time (leaving `marker`), succeeds on the next attempt."""
    if not Path(marker).exists():
        Path(marker).write_text("failed once")
        raise RuntimeError("first attempt fails on purpose")
    return "second attempt"
