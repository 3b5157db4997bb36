"""The transition rules: which state a run may move to from which. Pure: no I/O, no
clock; the store applies an accepted decision with a compare-and-set."""

from __future__ import annotations

import dataclasses

from runtime.states import TERMINAL_TYPES, StateType

S = StateType

# From each state, the states a proposal may move a run to. Moving within a type (for
# example SCHEDULED -> SCHEDULED "Late") changes only the sub-state.
ALLOWED: dict[StateType | None, frozenset[StateType]] = {
    None: frozenset({S.SCHEDULED, S.PENDING, S.RUNNING}),
    S.SCHEDULED: frozenset({S.SCHEDULED, S.PENDING, S.CANCELLED, S.PAUSED}),
    S.PENDING: frozenset(
        {S.PENDING, S.RUNNING, S.SCHEDULED, S.FAILED, S.CRASHED, S.CANCELLING, S.CANCELLED}
    ),
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


@dataclasses.dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str | None = None


ACCEPT = Decision(True)


def decide(current: StateType | None, proposed: StateType, *, force: bool = False) -> Decision:
    """May a run in `current` move to `proposed`? Terminal states are sticky unless forced."""
    if force or proposed in ALLOWED[current]:
        return ACCEPT
    name = current.value if current else "no state"
    if current in TERMINAL_TYPES:
        reason = f"the run is already {name}, which is final (use force to override)"
    else:
        why = _WHY.get(current)  # type: ignore[arg-type]
        reason = f"cannot move from {name} to {proposed.value}" + (f": {why}" if why else "")
    return Decision(False, reason)
