from runtime import flow, task


@task
def step() -> int:
    return 1


@flow
def failing(reason: str = "the warehouse is on fire") -> None:
    step()
    raise ValueError(reason)
