"""Lazy public exports: a package names what it offers and where each name lives, and
loads that module when the name is first used.

`pushflow execute` is a new interpreter for every run, and a flow file's
`from runtime import flow, task` would otherwise load every part of the SDK (graphs,
mapping, task runners, events) before the flow starts. The package lists the same names
under `TYPE_CHECKING` for type checkers and editors.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(
    namespace: dict[str, Any], where: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level `__getattr__` and `__dir__` of the package whose `globals()` is
    `namespace`; its public names are the keys of `where` (name -> the defining module)."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # found once; later lookups are plain attribute reads
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*namespace, *where})

    return __getattr__, __dir__
