"""What a parent run's end does to its child runs (subflows, and children created over
the API). Pure, beside the rules; `runs.end_children` applies it.

A child cannot outlive its parent's attempt: the parent's process ran it (a subflow) or
waited for it. When the parent ends, or leaves RUNNING to be retried, every child that
has not ended is ended too: CANCELLED when the parent was cancelled or the child never
started, else CRASHED, naming the parent, so no child stays RUNNING or PENDING forever.
"""

from __future__ import annotations

from runtime.states import State, StateType

S = StateType


def parent_attempt_ended(before: StateType | None, after: StateType) -> bool:
    """Did this transition of a parent end the attempt its children belong to?"""
    return after.is_terminal or (before in (S.RUNNING, S.CANCELLING) and after is S.SCHEDULED)


def state_for_orphan(child: StateType, parent: State, parent_name: str) -> State:
    """The state a child not yet ended moves to when its parent's attempt ends."""
    ended = parent.name if parent.type is S.SCHEDULED else parent.type.value
    message = f"its parent run {parent_name!r} ended ({ended}) before it did"
    if parent.type is S.CANCELLED or child in (S.SCHEDULED, S.PAUSED):
        return State(S.CANCELLED, message=message)
    return State(S.CRASHED, message=message)
