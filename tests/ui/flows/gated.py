import time
from pathlib import Path

from runtime import flow, get_run_logger, task


@task
def square(i: int) -> int:
    get_run_logger().info("squared %d", i)
    return i * i


@task
def total(values: list[int]) -> int:
    return sum(values)


@flow
def gated(gate: str, n: int = 2) -> int:
    """Maps `square` over range(n), then waits until the file `gate` exists (the test
    opens it once it has seen the run RUNNING), then sums."""
    squares = square.map(range(n)).result()
    logger = get_run_logger()
    logger.info("waiting for the gate %s", gate)
    while not Path(gate).exists():
        time.sleep(0.05)
    result = total(squares)
    logger.warning("gate opened; total is %d", result)
    return result
