"""The transition rules, pure: no database, no clock."""

from __future__ import annotations

import pytest

from control_plane.orchestration.rules import CLAIMED, decide, is_repeat
from runtime.states import TERMINAL_TYPES, StateType

S = StateType


@pytest.mark.parametrize("final", sorted(TERMINAL_TYPES, key=lambda t: t.value))
def test_final_states_are_sticky_unless_forced(final: StateType) -> None:
    for proposed in S:
        decision = decide(final, proposed)
        assert not decision.accepted
        assert decision.reason and "final" in decision.reason and "force" in decision.reason
        assert decide(final, proposed, force=True).accepted


def test_an_illegal_transition_says_why() -> None:
    decision = decide(S.SCHEDULED, S.RUNNING)
    assert not decision.accepted
    assert decision.reason == "cannot move from SCHEDULED to RUNNING: it has not been submitted to its pool yet"
    assert not decide(S.CANCELLING, S.RUNNING).accepted


def test_the_claim_is_taken_only_from_scheduled() -> None:
    assert decide(S.SCHEDULED, S.PENDING, proposed_name=CLAIMED).accepted
    second = decide(S.PENDING, S.PENDING, proposed_name=CLAIMED)
    assert not second.accepted and "another dispatcher already claimed it" in (second.reason or "")
    # Other PENDING sub-states (InfrastructurePending) still move within PENDING.
    assert decide(S.PENDING, S.PENDING, proposed_name="InfrastructurePending").accepted


def test_the_lifecycle_path_is_allowed() -> None:
    path = [None, S.SCHEDULED, S.PENDING, S.RUNNING, S.CANCELLING, S.CANCELLED]
    for current, proposed in zip(path, path[1:], strict=False):
        assert decide(current, proposed).accepted, (current, proposed)
    assert decide(S.RUNNING, S.SCHEDULED).accepted  # AwaitingRetry
    assert decide(S.SCHEDULED, S.CANCELLED).accepted  # cancelled before it started


def test_a_repeated_transition_id_is_recognised() -> None:
    assert is_repeat("t-1", "t-1")
    assert not is_repeat("t-1", "t-2")
    assert not is_repeat(None, None)
