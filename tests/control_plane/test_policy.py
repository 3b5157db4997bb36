"""The transition policy, pure: what each event does to a run."""

from __future__ import annotations

import pytest

from control_plane.orchestration import policy
from runtime.states import StateType

S = StateType


def test_infrastructure_backoff_doubles_up_to_a_cap() -> None:
    assert [policy.retry_backoff(n, base=2, cap=10) for n in (1, 2, 3, 4)] == [2, 4, 8, 10]


def test_a_retryable_submit_error_is_retried_within_the_budget_then_crashes() -> None:
    def decide(used: int, retryable: bool = True) -> policy.Outcome:
        return policy.after_submit_error(
            "throttled", retryable=retryable, pool="ecs", retries_used=used, budget=2, base=1, cap=60
        )

    first = decide(0)
    assert first.resubmits and first.delay == 1 and "infrastructure retry 1 of 2" in (first.state.message or "")
    assert decide(1).delay == 2
    spent = decide(2)
    assert spent.state.type is S.CRASHED and "after 3 attempts: throttled" in (spent.state.message or "")
    fatal = decide(0, retryable=False)
    assert fatal.state.type is S.CRASHED and fatal.state.message == "pool 'ecs' could not run it: throttled"


@pytest.mark.parametrize("current", [S.PENDING, S.RUNNING])
def test_ended_infrastructure_crashes_the_run_unless_crash_retries_are_left(current: StateType) -> None:
    def decide(used: int) -> policy.Outcome:
        return policy.after_infrastructure_ended(
            current, reason="exit code 137 (OOMKilled)", crash_retries_used=used, crash_retries=1, delay=5
        )

    retry = decide(0)
    assert (retry.state.type, retry.state.name, retry.delay) == (S.SCHEDULED, policy.AWAITING_RETRY, 5)
    assert "OOMKilled" in (retry.state.message or "") and "crash retry 1 of 1" in (retry.state.message or "")
    crashed = decide(1)
    assert crashed.state.type is S.CRASHED and not crashed.resubmits
    assert crashed.state.message == "exit code 137 (OOMKilled) before the run reported a final state"


def test_ended_infrastructure_of_a_cancelling_run_cancels_it() -> None:
    outcome = policy.after_infrastructure_ended(
        S.CANCELLING, reason="exit code 143", crash_retries_used=0, crash_retries=3, delay=0
    )
    assert outcome.state.type is S.CANCELLED and not outcome.resubmits


def test_a_cancel_request_is_immediate_before_the_run_starts_and_refused_after_it_ended() -> None:
    assert policy.on_cancel_request(S.SCHEDULED).type is S.CANCELLED  # type: ignore[union-attr]
    assert policy.on_cancel_request(S.PAUSED).type is S.CANCELLED  # type: ignore[union-attr]
    assert policy.on_cancel_request(S.RUNNING).type is S.CANCELLING  # type: ignore[union-attr]
    assert policy.on_cancel_request(S.COMPLETED) is None


def test_missed_slots_waiting_and_late_runs_are_named_sub_states() -> None:
    assert (policy.missed_slot("skip-missed").type, policy.missed_slot("skip-missed").name) == (S.CANCELLED, "Skipped")
    assert policy.waiting_for_slot("pool 'p' is full").name == policy.AWAITING_SLOT
    assert policy.late(15).message == "not started 15s after its scheduled time"
