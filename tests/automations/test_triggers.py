"""Trigger evaluation (pure): thresholds, windows, buckets, after, proactive, compound, sequence."""

from __future__ import annotations

from typing import Any

from control_plane.automations.specs import TriggerSpec
from control_plane.automations.triggers import Seen, on_event, on_time


def trig(**spec: Any) -> Any:
    return TriggerSpec.model_validate({"trigger": spec}).trigger


def ev(name: str, at: float, rid: str = "acme.job.1", **labels: str) -> Seen:
    return Seen(
        id=int(at * 10), at=at, name=name, resource={"id": rid, "labels": labels}, related=[], public={"event": name}
    )


def fires(trigger: Any, events: list[Seen], state: dict | None = None) -> list[str]:
    state = {} if state is None else state
    return [f.reason for e in events for f in on_event(trigger, state, e)]


def test_reactive_threshold_within_a_window_per_bucket() -> None:
    t = trig(expect=["acme.error"], threshold=3, within=10, for_each=["id"])
    same = [ev("acme.error", s) for s in (0, 1, 2)]
    assert len(fires(t, same)) == 1
    slow = [ev("acme.error", s) for s in (0, 11, 22)]
    assert fires(t, slow) == []
    split = [ev("acme.error", 0, "a"), ev("acme.error", 1, "b"), ev("acme.error", 2, "a")]
    assert fires(t, split) == []


def test_match_and_wildcards_select_events() -> None:
    t = trig(expect=["pushflow.flow-run.Fail*"], match={"env": "prod"})
    assert len(fires(t, [ev("pushflow.flow-run.Failed", 0, env="prod")])) == 1
    assert (
        fires(t, [ev("pushflow.flow-run.Failed", 0, env="dev"), ev("pushflow.flow-run.Completed", 1, env="prod")]) == []
    )


def test_after_opens_the_bucket() -> None:
    t = trig(after=["acme.started"], expect=["acme.done"], for_each=["id"])
    assert fires(t, [ev("acme.done", 0)]) == []
    assert len(fires(t, [ev("acme.started", 0), ev("acme.done", 1)])) == 1


def test_proactive_fires_when_the_window_closes_short_and_not_when_it_is_met() -> None:
    t = trig(posture="proactive", after=["acme.started"], expect=["acme.done"], within=2, for_each=["id"])
    state: dict = {}
    assert fires(t, [ev("acme.started", 100)], state) == []
    assert on_time(t, state, 101, 0) == []
    [fire] = on_time(t, state, 102.5, 0)
    assert "saw 0" in fire.reason and fire.event == {"event": "acme.started"}
    assert on_time(t, state, 200, 0) == []  # the window is gone
    met: dict = {}
    fires(t, [ev("acme.started", 100), ev("acme.done", 101)], met)
    assert on_time(t, met, 103, 0) == []


def test_proactive_without_after_watches_from_the_start_in_repeating_windows() -> None:
    t = trig(posture="proactive", expect=["acme.heartbeat"], within=5)
    state: dict = {}
    assert on_time(t, state, 3, 0) == []
    assert len(on_time(t, state, 5, 0)) == 1
    fires(t, [ev("acme.heartbeat", 6)], state)
    assert on_time(t, state, 10.5, 0) == []


def test_compound_all_any_and_n() -> None:
    a, b = {"expect": ["acme.a"]}, {"expect": ["acme.b"]}
    assert len(fires(trig(type="compound", triggers=[a, b], require="all"), [ev("acme.a", 0), ev("acme.b", 1)])) == 1
    assert fires(trig(type="compound", triggers=[a, b], require="all"), [ev("acme.a", 0), ev("acme.a", 1)]) == []
    assert len(fires(trig(type="compound", triggers=[a, b], require="any"), [ev("acme.b", 0)])) == 1
    late = trig(type="compound", triggers=[a, b], require=2, within=5)
    assert fires(late, [ev("acme.a", 0), ev("acme.b", 6)]) == []


def test_sequence_needs_the_order() -> None:
    t = trig(type="sequence", triggers=[{"expect": ["acme.a"]}, {"expect": ["acme.b"]}])
    assert fires(t, [ev("acme.b", 0), ev("acme.a", 1)]) == []
    assert len(fires(t, [ev("acme.a", 0), ev("acme.b", 1)])) == 1
