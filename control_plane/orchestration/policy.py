"""What happens to a run when something happens to it: pure decisions beside the
transition rules (rules.py says what is *allowed*; this says what to *do*). No I/O:
callers pass in what they know and apply the returned state with a
compare-and-set (control_plane/runs.py). A new trigger (a webhook, an automation, a UI
button) calls one of these instead of deciding afresh.

Retries, applied once (docs/run-lifecycle.md): a flow's own `@flow(retries=N)` are
run by the runtime inside its container; the control plane never re-runs a FAILED run.
It re-submits on new infrastructure only when the infrastructure failed: a retryable
provider error at submit (`infra_retries`, a server setting) or infrastructure that ended
without the run reporting a final state (the deployment's `retries`, default 0).
"""

from __future__ import annotations

import dataclasses

from runtime.states import State, StateType

S = StateType

# Every sub-state name the control plane gives, by state type.
SCHEDULED = "Scheduled"  # SCHEDULED: created, waiting for its time
LATE = "Late"  # SCHEDULED: due, not started after `late_after`
AWAITING_RETRY = "AwaitingRetry"  # SCHEDULED: to be re-submitted on new infrastructure
AWAITING_SLOT = "AwaitingConcurrencySlot"  # SCHEDULED: its pool or deployment is full
CLAIMED = "Submitting"  # PENDING: claimed by one dispatcher, being handed to the pool
RESUBMITTING = "Resubmitting"  # PENDING: taken over from a dispatcher that stopped mid-submit
INFRA_PENDING = "InfrastructurePending"  # PENDING: the pool accepted it
SKIPPED = "Skipped"  # CANCELLED: a missed or removed schedule slot
# Scheduled runs that have not started and may be caught up (not retries, not waiting on a slot).
CATCHABLE = (SCHEDULED, LATE)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The state to move a run to; for a re-submission, after how many seconds."""

    state: State
    delay: float = 0.0

    @property
    def resubmits(self) -> bool:
        return self.state.type is S.SCHEDULED


def retry_backoff(attempt: int, *, base: float, cap: float) -> float:
    """Delay before infrastructure retry `attempt` (1-based): exponential, capped."""
    return float(min(cap, base * 2 ** (attempt - 1)))


def after_submit_error(
    reason: str, *, retryable: bool, pool: str | None, retries_used: int, budget: int, base: float, cap: float
) -> Outcome:
    """The provider refused or failed a submission: a retryable error (throttling,
    capacity) goes back to SCHEDULED with backoff while the budget lasts, else CRASHED
    with the provider's message."""
    if retryable and retries_used < budget:
        attempt = retries_used + 1
        delay = retry_backoff(attempt, base=base, cap=cap)
        message = f"infrastructure retry {attempt} of {budget} in {delay:g}s: {reason}"
        return Outcome(State(S.SCHEDULED, message=message), delay)
    tries = f" after {retries_used + 1} attempts" if retryable else ""
    return Outcome(State(S.CRASHED, message=f"pool {pool!r} could not run it{tries}: {reason}"))


def after_infrastructure_ended(
    current: StateType, *, reason: str, crash_retries_used: int, crash_retries: int, delay: float
) -> Outcome:
    """The pool says the run's infrastructure ended and the run reported no final state.
    Cancelling: it was stopped as asked. Otherwise it crashed: re-submitted on new
    infrastructure while the deployment's crash retries last, else CRASHED with the reason."""
    if current is S.CANCELLING:
        return Outcome(State(S.CANCELLED, message="cancelled; infrastructure stopped"))
    return after_crash(f"{reason} before the run reported a final state", crash_retries_used, crash_retries, delay)


def after_crash(message: str, crash_retries_used: int, crash_retries: int, delay: float) -> Outcome:
    if crash_retries_used < crash_retries:
        attempt = crash_retries_used + 1
        retry = f"{message}; re-submitting on new infrastructure in {delay:g}s"
        retry += f" (crash retry {attempt} of {crash_retries})"
        return Outcome(State(S.SCHEDULED, name=AWAITING_RETRY, message=retry), delay)
    return Outcome(State(S.CRASHED, message=message))


def silent_run(timeout: float, last_heartbeat: str) -> str:
    return (
        f"no heartbeat for {timeout:g}s (last at {last_heartbeat}): the runtime hung, was killed "
        "or lost its connection to the API; its infrastructure was stopped"
    )


def on_cancel_request(current: StateType) -> State | None:
    """A user asks to cancel: at once if nothing runs yet, else through CANCELLING while
    the pool stops the infrastructure. None: it already ended, nothing to cancel."""
    if current.is_terminal:
        return None
    if current in (S.SCHEDULED, S.PAUSED):
        return State(S.CANCELLED, message="cancelled before it started")
    return State(S.CANCELLING, message="cancellation requested")


def missed_slot(catchup: str) -> State:
    """A scheduled run overdue past the catch-up grace that its policy does not run."""
    message = f"missed its scheduled time while nothing dispatched; catch-up policy {catchup!r}"
    return State(S.CANCELLED, name=SKIPPED, message=message)


def removed_slot() -> State:
    return State(S.CANCELLED, name=SKIPPED, message="its schedule was removed from the deployment")


def late(late_after: float) -> State:
    return State(S.SCHEDULED, name=LATE, message=f"not started {late_after:g}s after its scheduled time")


def waiting_for_slot(reason: str) -> State:
    """A due run held back by a full pool or deployment (it starts when a slot frees)."""
    return State(S.SCHEDULED, name=AWAITING_SLOT, message=f"waiting: {reason}")


# A parent's end and its children (subflows, children created over the API): a child
# cannot outlive its parent's attempt, since the parent's process ran it or waited for it.
# When the parent ends, or leaves RUNNING to be retried, every child not ended is ended too
# (`runs.end_children` applies this), so no child stays RUNNING or PENDING forever.


def parent_attempt_ended(before: StateType | None, after: StateType) -> bool:
    """Did this transition of a parent end the attempt its children belong to?"""
    return after.is_terminal or (before in (S.RUNNING, S.CANCELLING) and after is S.SCHEDULED)


def state_for_orphan(child: StateType, parent: State, parent_name: str) -> State:
    """The state a child not yet ended moves to when its parent's attempt ends: CANCELLED
    when the parent was cancelled or the child never started, else CRASHED, naming the parent."""
    ended = parent.name if parent.type is S.SCHEDULED else parent.type.value
    message = f"its parent run {parent_name!r} ended ({ended}) before it did"
    if parent.type is S.CANCELLED or child in (S.SCHEDULED, S.PAUSED):
        return State(S.CANCELLED, message=message)
    return State(S.CRASHED, message=message)
