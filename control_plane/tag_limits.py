"""Tag-based task concurrency limits: at most `limit` task runs carrying a tag hold a slot
at once, across every flow run. The runtime asks for slots before a task runs and gives
them back after; a flow run's slots are also freed when it reaches any final state, so a
crashed container cannot leak them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from control_plane.columns import INT32_MAX, TABLE_CONFIG, JsonInt, utc_column, utcnow


class TagLimitBase(SQLModel):
    tag: str = Field(min_length=1, max_length=200, primary_key=True)
    limit: JsonInt = Field(
        ge=0, le=INT32_MAX, description="How many task runs with this tag may run at once (0 blocks them)"
    )


class TagLimit(TagLimitBase, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "tag_limit"
    created: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class TagLimitPublic(TagLimitBase):
    """A tag's concurrency limit and the slots in use."""

    active_slots: int = 0


class TagSlot(SQLModel, table=True):
    model_config = TABLE_CONFIG
    __tablename__ = "tag_slot"
    __table_args__ = (UniqueConstraint("tag", "task_run_id", name="uq_tag_slot_task_run"),)
    id: int | None = Field(default=None, primary_key=True)
    tag: str = Field(index=True)
    flow_run_id: str = Field(index=True)
    task_run_id: str
    acquired: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


def acquire_slots(session: Session, flow_run_id: str, task_run_id: str, tags: list[str]) -> list[str]:
    """Take one slot per limited tag for `task_run_id`, all or none. Returns the tags that
    are full (empty: acquired). The caller commits. Serialised by locking the limits."""
    query = select(TagLimit).where(col(TagLimit.tag).in_(sorted(set(tags)))).order_by(col(TagLimit.tag))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    limits = list(session.exec(query))
    held = set(session.exec(select(TagSlot.tag).where(TagSlot.task_run_id == task_run_id)))
    full = []
    for limit in limits:
        if limit.tag in held:
            continue  # asked again (a retried request): already holds it
        used = session.exec(select(func.count()).select_from(TagSlot).where(TagSlot.tag == limit.tag)).one()
        if used >= limit.limit:
            full.append(limit.tag)
    if full:
        return full
    for limit in limits:
        if limit.tag not in held:
            session.add(TagSlot(tag=limit.tag, flow_run_id=flow_run_id, task_run_id=task_run_id))
    return []


def release_slots(session: Session, *, flow_run_id: str, task_run_id: str | None = None) -> None:
    """Free the slots of one task run, or of every task run of a flow run."""
    stmt = delete(TagSlot).where(col(TagSlot.flow_run_id) == flow_run_id)
    if task_run_id is not None:
        stmt = stmt.where(col(TagSlot.task_run_id) == task_run_id)
    session.execute(stmt)


def active_slot_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(TagSlot.tag, func.count()).group_by(TagSlot.tag))
    return {tag: count for tag, count in rows}
