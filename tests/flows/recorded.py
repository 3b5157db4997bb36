import os
import time

from runtime import flow


@flow
def recorded(log_file: str, seconds: float = 1.0) -> str:
    """Appends its run id each time it starts, so a test can count starts."""
    with open(log_file, "a") as fh:
        fh.write(os.environ.get("PUSHFLOW_FLOW_RUN_ID", "?") + "\n")
    time.sleep(seconds)
    return "ok"


def _note_cancellation(flow_, run, state) -> None:  # noqa: ANN001 - hook signature
    with open(run["parameters"]["log_file"] + ".cancelled", "w") as fh:
        fh.write(state.type.value)


@flow
def cancellable(log_file: str, seconds: float = 120) -> None:
    with open(log_file, "a") as fh:
        fh.write(os.environ.get("PUSHFLOW_FLOW_RUN_ID", "?") + "\n")
    time.sleep(seconds)


cancellable.on_cancellation = [_note_cancellation]  # type: ignore[attr-defined]
