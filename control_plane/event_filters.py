"""Matching events by name, resource and labels, with `*` wildcards.

One matcher for everyone who selects events: `GET /api/events` filters, automation
triggers (`match`, `match_related`) and webhook templates' output checks. A pattern's `*`
matches any run of characters (dots included), as in `pushflow.flow-run.*`; nothing else
is special.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.DOTALL)


def name_matches(pattern: str | Iterable[str], value: str | None) -> bool:
    """True if `value` matches the pattern (or any of the patterns)."""
    if value is None:
        return False
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    return any(_compiled(p).match(value) is not None for p in patterns)


def resource_matches(selector: Mapping[str, Any], resource: Mapping[str, Any]) -> bool:
    """`selector` maps `id` and label names to a pattern or a list of them; every key
    must match. `resource` is `{"id": ..., "labels": {...}}` or a flat `{id, label: ...}`."""
    labels = resource.get("labels", {}) if isinstance(resource.get("labels"), Mapping) else resource
    for key, pattern in selector.items():
        value = resource.get("id") if key == "id" else labels.get(key)
        if not name_matches(pattern, None if value is None else str(value)):
            return False
    return True


def related_matches(selector: Mapping[str, Any], related: Iterable[Mapping[str, Any]]) -> bool:
    """True if one related resource matches every key of `selector` (`id`, `role`, ...)."""
    return any(
        all(name_matches(p, None if r.get(k) is None else str(r.get(k))) for k, p in selector.items()) for r in related
    )


def like_pattern(pattern: str) -> str:
    """The SQL LIKE pattern (escape `\\`) for a `*` wildcard pattern."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def parse_labels(pairs: Iterable[str]) -> dict[str, str]:
    """`key=value` strings (value may hold `*`) as a selector; raises ValueError naming a bad one."""
    selector: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"label filter {pair!r} is not key=value (e.g. label=env=prod)")
        selector[key] = value
    return selector
