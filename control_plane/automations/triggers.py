"""Trigger evaluation, pure: an automation's state (a JSON-able dict) plus an event, or
the passing of time, gives the firings. The pass (evaluate.py) loads and stores the
state in the same transaction as its cursor, so no two evaluators see the same event.

Times are unix seconds: an event's `occurred`, and the evaluator's clock for windows that
close with nothing arriving (proactive).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from control_plane.automations.specs import CompoundTrigger, EventTrigger, SequenceTrigger
from control_plane.event_filters import name_matches, related_matches, resource_matches


@dataclasses.dataclass(frozen=True)
class Seen:
    """An event as triggers see it: `resource` is `{id, labels}`; `public` is what
    action templates get as `event`."""

    id: int
    at: float
    name: str
    resource: dict[str, Any]
    related: list[dict[str, Any]]
    public: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Fire:
    event: dict[str, Any] | None  # the event that fired it (for proactive: the `after` event, if any)
    reason: str


def on_event(trigger: Any, state: dict[str, Any], seen: Seen) -> list[Fire]:
    if isinstance(trigger, EventTrigger):
        return _event(trigger, state, seen)
    return _composite(trigger, state, seen)


def on_time(trigger: Any, state: dict[str, Any], now: float, started: float) -> list[Fire]:
    """Close proactive windows that have passed; `started` is when the automation began watching."""
    if not isinstance(trigger, EventTrigger) or trigger.posture != "proactive":
        return []
    buckets = state.setdefault("buckets", {})
    if not trigger.after and not trigger.for_each and "[]" not in buckets:
        buckets["[]"] = {"start": started, "count": 0, "event": None}
    fires = []
    for key, bucket in list(buckets.items()):
        if now - bucket["start"] < trigger.within:
            continue
        if bucket["count"] < trigger.threshold:
            names = ", ".join(trigger.expect) or "any event"
            fires.append(
                Fire(
                    bucket.get("event"),
                    f"expected {trigger.threshold} of {names} within {trigger.within:g} s, saw {bucket['count']}",
                )
            )
        if trigger.after:
            del buckets[key]
        else:
            buckets[key] = {"start": now, "count": 0, "event": None}
    return fires


def _event(trigger: EventTrigger, state: dict[str, Any], seen: Seen) -> list[Fire]:
    if trigger.match and not resource_matches(trigger.match, seen.resource):
        return []
    if trigger.match_related and not related_matches(trigger.match_related, seen.related):
        return []
    buckets = state.setdefault("buckets", {})
    key = _bucket_key(trigger, seen)
    bucket = buckets.get(key)
    is_after = bool(trigger.after) and name_matches(trigger.after, seen.name)
    expected = name_matches(trigger.expect, seen.name) if trigger.expect else not is_after
    if is_after and bucket is None:
        buckets[key] = {"start": seen.at, "count": 0, "event": seen.public}
        return []
    if not expected:
        return []
    if trigger.posture == "proactive":
        if bucket is None and trigger.after:
            return []
        bucket = buckets.setdefault(key, {"start": seen.at, "count": 0, "event": None})
        bucket["count"] += 1
        if trigger.after and bucket["count"] >= trigger.threshold:
            del buckets[key]  # satisfied: this window will not fire
        return []
    if bucket is None:
        if trigger.after:
            return []
        bucket = buckets[key] = {"start": seen.at, "count": 0, "event": None}
    elif trigger.within and seen.at - bucket["start"] > trigger.within:
        if trigger.after:  # the window after the opening event has passed
            del buckets[key]
            return []
        bucket = buckets[key] = {"start": seen.at, "count": 0, "event": None}
    bucket["count"] += 1
    if bucket["count"] < trigger.threshold:
        return []
    del buckets[key]
    return [Fire(seen.public, f"{seen.name} ({trigger.threshold} matching event(s))")]


def _composite(trigger: CompoundTrigger | SequenceTrigger, state: dict[str, Any], seen: Seen) -> list[Fire]:
    children = state.setdefault("children", [{} for _ in trigger.triggers])
    fired: dict[str, float] = state.setdefault("fired", {})
    if trigger.within:
        for step, at in list(fired.items()):
            if seen.at - at > trigger.within:
                del fired[step]
    for i, child in enumerate(trigger.triggers):
        if not _event(child, children[i], seen):
            continue
        if isinstance(trigger, SequenceTrigger) and i > 0 and str(i - 1) not in fired:
            continue  # out of order: the earlier step has not happened (in the window)
        fired[str(i)] = seen.at
    if isinstance(trigger, SequenceTrigger) or trigger.require == "all":
        required = len(trigger.triggers)
    elif trigger.require == "any":
        required = 1
    else:
        required = trigger.require
    if len(fired) < required:
        return []
    fired.clear()
    return [Fire(seen.public, f"{trigger.type} trigger complete with {seen.name}")]


def _bucket_key(trigger: EventTrigger, seen: Seen) -> str:
    labels = seen.resource.get("labels", {})
    return json.dumps([seen.resource.get("id") if k == "id" else labels.get(k) for k in trigger.for_each])
