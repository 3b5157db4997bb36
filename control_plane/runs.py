"""Flow runs in the store: creation, state changes (a compare-and-set over the rules),
claiming due runs, and the reports a runtime sends."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import bindparam, insert, inspect, update
from sqlalchemy import select as select_columns
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value
from sqlmodel import Session, col, select

from control_plane import events
from control_plane.bulk import insert_rows, select_by_ids
from control_plane.columns import new_id, utcnow
from control_plane.id_sets import id_in, is_postgres, per_row_values
from control_plane.models import (
    FlowRun,
    FlowRunCreate,
    Log,
    LogCreate,
    OrchestrationResult,
    TaskRun,
    TaskRunReport,
)
from control_plane.orchestration.policy import SCHEDULED, Outcome, parent_attempt_ended, state_for_orphan
from control_plane.orchestration.rules import decide, is_repeat
from control_plane.tag_limits import release_slots
from runtime.states import TERMINAL_TYPES, State, StateType


def new_run_values(
    deployment: Any,
    *,
    when: datetime,
    now: datetime,
    name: str | None = None,
    parameters: dict[str, Any] | None = None,
    job_variables: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    schedule_id: str | None = None,
) -> dict[str, Any]:
    """The one way a deployment's run is made, by the API and the scheduler alike
    (`deployment`: a Deployment, or a row with its columns of the same names):
    SCHEDULED, due at `when`, with the deployment's parameters under the given ones. Every
    FlowRun column's value (the model's defaults for the rest), ready for an INSERT: no
    FlowRun is built (SQLModel's constructor was a third of a trigger's route time)."""
    return {
        **_RUN_DEFAULTS,
        "id": new_id(),
        "name": name or f"{deployment.name}-{secrets.token_hex(3)}",
        "flow_name": deployment.flow_name,
        "deployment_id": deployment.id,
        "pool": deployment.pool,
        "entrypoint": deployment.entrypoint,
        "working_dir": deployment.working_dir,
        "source": deployment.source,
        "parameters": {**deployment.parameters, **(parameters or {})},
        "job_variables": job_variables or {},
        "idempotency_key": idempotency_key,
        "state_type": StateType.SCHEDULED,
        "state_name": SCHEDULED,
        "state_timestamp": now,
        "created": now,
        "expected_start_time": when,
        "schedule_id": schedule_id,
        "scheduled_time": when if schedule_id else None,
    }


# The columns new_run_values leaves to FlowRun's plain defaults (None, 0).
_RUN_DEFAULTS = {
    name: field.default
    for name, field in FlowRun.model_fields.items()
    if field.default_factory is None and field.default is not PydanticUndefined
}


def create_flow_run(session: Session, deployment: Any, body: FlowRunCreate) -> FlowRun:
    """A triggered run, inserted (one Core INSERT: a duplicate idempotency key raises
    IntegrityError here, not at the commit) and returned as the session's persistent,
    unchanged FlowRun, as if loaded from its row: the ORM's unit of work for one new
    object (its flush plan, per-column history, the identity map's bookkeeping) was most
    of a trigger's route time."""
    now = utcnow()
    when = body.scheduled_start_time or now
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    values = new_run_values(
        deployment,
        when=when,
        now=now,
        name=body.name,
        parameters=body.parameters,
        job_variables=body.job_variables,
        idempotency_key=body.idempotency_key,
    )
    session.connection().execute(_INSERT_RUN, values)
    run = _RUN_MANAGER.new_instance()  # what a query's load does: __new__, then the row's values
    instance_dict(run).update(values)
    make_transient_to_detached(run)  # its identity from its id; every value as committed
    session.add(run)
    events.record_transition(session, run, None, None, run.state)
    return run


_INSERT_RUN = insert(FlowRun.__table__)  # type: ignore[attr-defined]
_RUN_MANAGER = inspect(FlowRun).class_manager


def create_subflow_run(
    session: Session,
    parent: FlowRun,
    flow_name: str,
    *,
    name: str | None,
    parameters: dict[str, Any],
    parent_task_run_id: str | None,
) -> FlowRun:
    """A subflow's child run, already PENDING: its parent's process runs it, no pool does."""
    now = utcnow()
    child = FlowRun(
        name=name or f"{flow_name}-{secrets.token_hex(3)}",
        flow_name=flow_name,
        parent_flow_run_id=parent.id,
        parent_task_run_id=parent_task_run_id,
        pool=parent.pool,
        parameters=parameters,
        state_type=StateType.PENDING,
        state_name="Pending",
        state_timestamp=now,
        expected_start_time=now,
    )
    session.add(child)
    events.record_transition(session, child, None, None, child.state)
    return child


def find_by_idempotency_key(session: Session, deployment_id: str, key: str) -> FlowRun | None:
    query = select(FlowRun).where(FlowRun.deployment_id == deployment_id, FlowRun.idempotency_key == key)
    return session.exec(query).first()


def propose_state(
    session: Session,
    run: FlowRun,
    state: State,
    *,
    force: bool = False,
    transition_id: str | None = None,
    heartbeat: bool = False,
) -> OrchestrationResult:
    """A state proposed over the API (by a runtime or a user). A FAILED run stays FAILED:
    its flow's own retries already ran inside its container (orchestration/policy.py).
    `heartbeat`: an accepted change also records a heartbeat (a runtime's first)."""
    columns = {"heartbeat_time": utcnow()} if heartbeat else {}
    return set_state(session, run, state, force=force, transition_id=transition_id, **columns)


def apply_outcome(session: Session, run: FlowRun, outcome: Outcome, **columns: Any) -> OrchestrationResult:
    """Apply a policy decision. A re-submission goes back to SCHEDULED, due after the
    outcome's delay, its infrastructure and token forgotten (the next claim gets new ones)."""
    if outcome.resubmits:
        columns = {
            "expected_start_time": utcnow() + timedelta(seconds=outcome.delay),
            "infra_provider": None,
            "infra_id": None,
            "infra_console_url": None,
            "token_hash": None,
            "heartbeat_time": None,
            "cancel_sent_time": None,
            **columns,
        }
    return set_state(session, run, outcome.state, **columns)


def crash_retries_used(run: FlowRun) -> int:
    """Re-submissions after a crash so far: every submission after the first that was not
    an infrastructure retry after a provider error."""
    return max(0, run.dispatch_count - 1 - run.infra_retries)


def set_state(
    session: Session,
    run: FlowRun,
    state: State,
    *,
    force: bool = False,
    transition_id: str | None = None,
    **columns: Any,
) -> OrchestrationResult:
    """Move `run` to `state` if the rules allow it, as a compare-and-set on its state
    version; `columns` are written in the same statement. Re-decides on a lost race.
    Reaching a final state frees the run's task concurrency slots in the same transaction."""
    for _ in range(10):
        if is_repeat(run.last_transition_id, transition_id):
            return OrchestrationResult(status="ACCEPT", state=run.state)
        decision = decide(run.state_type, state.type, force=force, proposed_name=state.name)
        if not decision.accepted:
            return OrchestrationResult(status="REJECT", state=run.state, reason=decision.reason)
        now = utcnow()
        values: dict[str, Any] = {
            "state_type": state.type,
            "state_name": state.name,
            "state_message": state.message,
            "state_timestamp": now,
            "state_version": run.state_version + 1,
            "last_transition_id": transition_id,
            **columns,
        }
        if state.type is StateType.RUNNING and run.state_type is not StateType.RUNNING:
            values["run_count"] = run.run_count + 1
            if run.start_time is None:
                values["start_time"] = now
        if state.type.is_terminal:
            values["end_time"] = now
        before = (run.state_type, run.state_name)
        # Never handed to a pool: it holds no task slot (a SCHEDULED run may not take one)
        # and has no child (only a RUNNING run starts subflows), so ending it frees nothing.
        untouched = run.state_type is StateType.SCHEDULED and run.dispatch_count == 0 and run.start_time is None
        # A Core UPDATE on the session's connection, not an ORM-enabled one: that one's
        # bulk-update machinery (criteria evaluated against the session's objects) was a
        # third of a proposal's route time. Pending changes go first, as autoflush would,
        # and `run` takes the written values as stored, not as changes to flush again.
        session.flush()
        # Built once: the SET clause is the columns `values` names (compiled once per set).
        where = {"cas_id": run.id, "cas_version": run.state_version}
        result = session.connection().execute(_COMPARE_AND_SET, {**values, **where})
        if result.rowcount == 1:
            for key, value in values.items():
                set_committed_value(run, key, value)
            events.record_transition(session, run, *before, run.state, occurred=now)
            if state.type.is_terminal and not untouched:
                release_slots(session, flow_run_id=run.id)
            if parent_attempt_ended(before[0], state.type) and not untouched:
                end_children(session, [run.id], run.state)
            return OrchestrationResult(status="ACCEPT", state=run.state)
        session.refresh(run)
    return OrchestrationResult(status="REJECT", state=run.state, reason="the run kept changing; try again")


_COMPARE_AND_SET = update(FlowRun.__table__).where(  # type: ignore[attr-defined]
    col(FlowRun.id) == bindparam("cas_id"), col(FlowRun.state_version) == bindparam("cas_version")
)


def transition_many(
    session: Session,
    ids: Sequence[str],
    from_type: StateType,
    from_names: Sequence[str] | None,
    state: State,
    *,
    skip_locked: bool = False,
    locked: Sequence[Any] | None = None,
    per_row: Mapping[str, Mapping[str, str | None]] | None = None,
    **columns: Any,
) -> list[str]:
    """Move many runs at once: one statement, a compare-and-set on each run's current
    state (type, and name when given). Returns the ids that moved. With `skip_locked`,
    runs another transaction is changing right now are left for the next pass (what the
    passes' housekeeping wants: it never waits on, or deadlocks with, a dispatcher).
    `locked`: the runs' rows (`EVENT_COLUMNS`) as this transaction already locked them,
    so they need not be read again. A column value may be an SQL expression of the row;
    `per_row` gives text columns a value per run ({column: {run id: value}}, every moved
    id present; id_sets.py: one statement shape whatever the batch size)."""
    if not ids:
        return []
    decision = decide(from_type, state.type, proposed_name=state.name)
    if not decision.accepted:
        raise ValueError(f"bulk transition refused by the rules: {decision.reason}")
    now = utcnow()
    values: dict[str, Any] = {
        "state_type": state.type,
        "state_name": state.name,
        "state_message": state.message,
        "state_timestamp": now,
        "state_version": FlowRun.state_version + 1,  # type: ignore[operator]
        "last_transition_id": None,
        **columns,
    }
    if state.type.is_terminal:
        values["end_time"] = now
    # Lock the rows first (in id order) to know each one's state before: the event says
    # where it came from. SQLite's writers are serialised already.
    postgres = is_postgres(session)
    if locked is None:
        query = select_columns(*EVENT_COLUMNS).where(
            id_in(col(FlowRun.id), ids, postgres), col(FlowRun.state_type) == from_type
        )
        if from_names is not None:
            query = query.where(col(FlowRun.state_name).in_(list(from_names)))
        locked = list(session.execute(query.order_by(col(FlowRun.id)).with_for_update(skip_locked=skip_locked)))
    wanted = set(ids)
    before = {row.id: row for row in locked if row.id in wanted}
    if not before:
        return []
    targets = list(before)
    per_row_set, joined = per_row_values(col(FlowRun.id), targets, per_row or {}, postgres)
    stmt = update(FlowRun).where(
        joined if joined is not None else id_in(col(FlowRun.id), targets, postgres),
        col(FlowRun.state_type) == from_type,
    )
    if from_names is not None:
        stmt = stmt.where(col(FlowRun.state_name).in_(list(from_names)))
    stmt = stmt.values(**values, **per_row_set).returning(col(FlowRun.id))
    stmt = stmt.execution_options(synchronize_session=False)
    moved = [row[0] for row in session.execute(stmt)]
    bump = 1 if "dispatch_count" in columns else 0  # a claim: the events carry the new attempt
    moves = [(before[run_id], before[run_id].dispatch_count + bump) for run_id in moved]
    events.record_transitions(session, moves, state, occurred=now)
    if moved and state.type.is_terminal:
        for run_id in moved:
            release_slots(session, flow_run_id=run_id)
    if moved and parent_attempt_ended(from_type, state.type):
        end_children(session, moved, state)
    return moved


def end_children(session: Session, parent_ids: Sequence[str], parent_state: State) -> None:
    """End the children of `parent_ids` that have not ended (orchestration/policy.py);
    each child's own children follow through `set_state`."""
    query = select(FlowRun).where(
        col(FlowRun.parent_flow_run_id).in_(list(parent_ids)),
        col(FlowRun.state_type).not_in(list(TERMINAL_TYPES)),
    )
    for child in session.exec(query).all():
        parent = session.get(FlowRun, child.parent_flow_run_id)
        parent_name = parent.name if parent is not None else str(child.parent_flow_run_id)
        set_state(session, child, state_for_orphan(child.state_type, parent_state, parent_name))


EVENT_COLUMNS = [
    col(c)
    for c in (
        FlowRun.id,
        FlowRun.name,
        FlowRun.flow_name,
        FlowRun.deployment_id,
        FlowRun.pool,
        FlowRun.state_type,
        FlowRun.state_name,
        FlowRun.dispatch_count,
    )
]


def heartbeat(session: Session, run: FlowRun) -> None:
    """Record that the run's runtime is alive (no state change)."""
    session.execute(update(FlowRun).where(col(FlowRun.id) == run.id).values(heartbeat_time=utcnow()))


def active_runs(session: Session) -> Sequence[FlowRun]:
    """Runs whose infrastructure may be alive: what the reconciler watches."""
    query = select(FlowRun).where(
        col(FlowRun.state_type).in_([StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]),
        col(FlowRun.infra_id).is_not(None),
    )
    return session.exec(query).all()


def record_task_runs(session: Session, flow_run_id: str, reports: list[TaskRunReport]) -> None:
    """New task runs go in as one bulk INSERT of plain rows (no ORM object per task run:
    a batch is hundreds of them); a task run reported again is updated in place, unless it
    belongs to another flow run. A task run named twice in one batch keeps its last report,
    as when it is reported again in a later batch."""
    reports = list({r.id: r for r in reports}.values())
    ids = [r.id for r in reports]
    session.flush()  # the lookup below reads the connection directly, without autoflush
    owners = dict(select_by_ids(session.connection(), TaskRun.__table__, ("id", "flow_run_id"), ids))  # type: ignore[attr-defined]
    new: list[dict[str, Any]] = []
    for report in reports:
        fields = _reported_fields(report)
        owner = owners.get(report.id)
        if owner is None:
            fields["id"], fields["flow_run_id"], fields["start_time"] = report.id, flow_run_id, report.start_time
            new.append(fields)
        elif owner == flow_run_id:
            session.execute(update(TaskRun).where(col(TaskRun.id) == report.id).values(**fields))
    insert_rows(session.connection(), TaskRun.__table__, new)  # type: ignore[attr-defined]


def _reported_fields(report: TaskRunReport) -> dict[str, Any]:
    """A task run's columns that a later report of it updates (one dict a row: building a
    second one to add the id was a third of the row's Python)."""
    state = report.state
    return {
        "name": report.name,
        "task_key": report.task_key,
        "dynamic_key": report.dynamic_key,
        "tags": report.tags,
        "state_type": state.type,
        "state_name": state.name,
        "state_message": state.message,
        "state_timestamp": state.timestamp,
        "end_time": report.end_time,
        "run_count": report.run_count,
    }


def escape_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL: a log line keeps it visibly, as the four
    characters `\\x00` (docs/api.md), instead of failing the whole batch."""
    return text.replace("\x00", "\\x00") if "\x00" in text else text


def record_logs(session: Session, flow_run_id: str, logs: list[LogCreate]) -> None:
    rows = [
        {
            "flow_run_id": flow_run_id,
            "task_run_id": log.task_run_id,
            "level": log.level,
            "name": escape_nul(log.name),
            "message": escape_nul(log.message),
            "timestamp": datetime.fromtimestamp(log.timestamp, timezone.utc),
        }
        for log in logs
    ]
    insert_rows(session.connection(), Log.__table__, rows)  # type: ignore[attr-defined]
