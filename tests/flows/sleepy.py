import os
import time
from pathlib import Path

from runtime import flow


@flow
def sleepy(pid_file: str, seconds: float = 120) -> None:
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
