import a_module_that_does_not_exist  # noqa: F401

from runtime import flow


@flow
def broken() -> None:
    pass
