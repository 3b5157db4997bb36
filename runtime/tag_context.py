"""`tags(...)`: extra tags for every task run started inside the block, as Prefect's
`with tags("etl", "nightly"):` does."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

tags_var: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("pushflow_tags", default=frozenset())


@contextlib.contextmanager
def tags(*names: str) -> Iterator[frozenset[str]]:
    """`with tags("db"):` adds "db" to the tags of each task run inside (nesting adds up)."""
    current = tags_var.get() | frozenset(names)
    token = tags_var.set(current)
    try:
        yield current
    finally:
        tags_var.reset(token)


def current_tags() -> frozenset[str]:
    return tags_var.get()
