"""The transition rules: which state a run may move to from which. Pure: no I/O, no
clock; the store applies an accepted decision with a compare-and-set."""

from __future__ import annotations

import dataclasses

# The sub-state names live with the policy that gives them; re-exported for callers here.
from control_plane.orchestration.policy import AWAITING_RETRY, AWAITING_SLOT, CLAIMED, INFRA_PENDING, LATE
from runtime.states import TERMINAL_TYPES, StateType

__all__ = [
    "ACCEPT",
    "ACTIVE_TYPES",
    "ALLOWED",
    "AWAITING_RETRY",
    "AWAITING_SLOT",
    "CLAIMED",
    "INFRA_PENDING",
    "LATE",
    "Decision",
    "decide",
    "is_repeat",
]

S = StateType

# From each state, the states a proposal may move a run to. Moving within a type (for
# example SCHEDULED -> SCHEDULED "Late") changes only the sub-state.
ALLOWED: dict[StateType | None, frozenset[StateType]] = {
    None: frozenset({S.SCHEDULED, S.PENDING, S.RUNNING}),
    S.SCHEDULED: frozenset({S.SCHEDULED, S.PENDING, S.CANCELLED, S.PAUSED}),
    S.PENDING: frozenset({S.PENDING, S.RUNNING, S.SCHEDULED, S.FAILED, S.CRASHED, S.CANCELLING, S.CANCELLED}),
    S.RUNNING: frozenset(
        {S.RUNNING, S.COMPLETED, S.FAILED, S.CRASHED, S.CANCELLING, S.CANCELLED, S.SCHEDULED, S.PAUSED}
    ),
    S.CANCELLING: frozenset({S.CANCELLED, S.COMPLETED, S.FAILED, S.CRASHED}),
    S.PAUSED: frozenset({S.RUNNING, S.SCHEDULED, S.CANCELLING, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CRASHED: frozenset(),
    S.CANCELLED: frozenset(),
}

_WHY = {
    S.SCHEDULED: "it has not been submitted to its pool yet",
    S.CANCELLING: "it is being cancelled",
    S.PAUSED: "it is paused",
}


ACTIVE_TYPES = frozenset({S.PENDING, S.RUNNING, S.CANCELLING})  # hold a concurrency slot


@dataclasses.dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str | None = None


ACCEPT = Decision(True)


def decide(
    current: StateType | None,
    proposed: StateType,
    *,
    force: bool = False,
    proposed_name: str | None = None,
) -> Decision:
    """May a run in `current` move to `proposed`? Terminal states are sticky unless forced.
    A claim (PENDING "Submitting") is only taken from SCHEDULED: that guard is what stops a
    second dispatcher from submitting a run another one already claimed."""
    if proposed_name == CLAIMED and proposed is S.PENDING and current is not S.SCHEDULED and not force:
        name = current.value if current else "no state"
        return Decision(False, f"the run is {name}, not SCHEDULED: another dispatcher already claimed it")
    if force or proposed in ALLOWED[current]:
        return ACCEPT
    name = current.value if current else "no state"
    if current in TERMINAL_TYPES:
        reason = f"the run is already {name}, which is final (use force to override)"
    else:
        why = _WHY.get(current)  # type: ignore[arg-type]
        reason = f"cannot move from {name} to {proposed.value}" + (f": {why}" if why else "")
    return Decision(False, reason)


def is_repeat(last_transition_id: str | None, transition_id: str | None) -> bool:
    """A proposal carrying the id of the last accepted one is a retry of it: answer as
    before and change nothing."""
    return transition_id is not None and transition_id == last_transition_id
