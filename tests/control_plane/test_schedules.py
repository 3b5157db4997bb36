"""Schedules: slot times (cron with time zones and DST, interval with anchor, rrule), and
the scheduler that turns them into runs ahead of time, de-duplicated, with catch-up."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session, col

from control_plane.schedules import Schedule, ScheduleCreate, latest_slot, slot_times
from tests.control_plane.orchestration import Orchestra

UTC = timezone.utc
ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)


def test_cron_keeps_wall_clock_time_across_dst() -> None:
    paris = ScheduleCreate(cron="0 9 * * *", timezone="Europe/Paris")
    times = slot_times(
        paris, datetime(2026, 3, 27, 12, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC), 10, origin=ORIGIN
    )
    # 09:00 in Paris is 08:00 UTC before the clocks change (02:00 on 29 March), 07:00 UTC after.
    assert [(t.day, t.hour) for t in times] == [(28, 8), (29, 7), (30, 7)]


def test_cron_on_a_skipped_or_repeated_hour_runs_once() -> None:
    ny = ScheduleCreate(cron="30 1 * * *", timezone="America/New_York")
    # 1 November 2026: 01:30 happens twice in New York; the run happens once that day.
    times = slot_times(
        ny, datetime(2026, 10, 31, 12, tzinfo=UTC), datetime(2026, 11, 2, 12, tzinfo=UTC), 10, origin=ORIGIN
    )
    assert len([t for t in times if t.date() == datetime(2026, 11, 1).date()]) == 1


def test_interval_slots_fall_on_the_anchor() -> None:
    every = ScheduleCreate(interval_seconds=600, anchor=datetime(2026, 1, 1, 0, 3, tzinfo=UTC))
    times = slot_times(
        every, datetime(2026, 5, 1, 10, 0, tzinfo=UTC), datetime(2026, 5, 1, 10, 30, tzinfo=UTC), 10, origin=ORIGIN
    )
    assert [t.minute for t in times] == [3, 13, 23]


def test_rrule_slots_in_the_schedules_time_zone() -> None:
    weekly = ScheduleCreate(rrule="FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=17;BYMINUTE=0", timezone="Asia/Tokyo")
    times = slot_times(weekly, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 15, tzinfo=UTC), 10, origin=ORIGIN)
    assert all(t.hour == 8 for t in times)  # 17:00 JST
    assert [t.strftime("%a") for t in times] == ["Mon", "Fri", "Mon", "Fri"]


def test_slot_counts_are_bounded_and_latest_slot_finds_the_last_missed_one() -> None:
    every = ScheduleCreate(interval_seconds=60)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert len(slot_times(every, start, start + timedelta(days=365), 5, origin=ORIGIN)) == 5
    cron = ScheduleCreate(cron="*/5 * * * *")
    assert latest_slot(cron, start, start + timedelta(days=30, minutes=7), origin=ORIGIN) == start + timedelta(
        days=30, minutes=5
    )
    assert latest_slot(every, start, start + timedelta(seconds=30), origin=ORIGIN) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"cron": "61 * * * *"}, "invalid cron expression '61 * * * *'"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"cron": "* * * * *", "interval_seconds": 5}, "give exactly one of cron, interval_seconds or rrule"),
        ({"rrule": "FREQ=SOMETIMES"}, "invalid rrule 'FREQ=SOMETIMES'"),
        ({"cron": "* * * * *", "catchup": "all"}, "unknown catchup 'all'"),
        ({"interval_seconds": 1e-9}, "interval_seconds must be between 1 and 315360000 (ten years), got 1e-09"),
        ({"interval_seconds": 1e300}, "interval_seconds must be between 1 and 315360000 (ten years), got 1e+300"),
    ],
)
def test_a_bad_schedule_is_refused_with_what_is_wrong(body: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        ScheduleCreate(**body)


def test_a_deployment_takes_several_schedules_and_refuses_bad_ones(orch: Orchestra) -> None:
    bad = orch.api.post(
        "/api/deployments",
        json={
            "name": "d",
            "flow_name": "etl",
            "entrypoint": "e.py:etl",
            "pool": "counting",
            "schedules": [{"cron": "nope"}],
        },
    )
    assert bad.status_code == 422 and "invalid cron expression 'nope'" in bad.text
    deployment = orch.deploy(schedules=[{"cron": "0 9 * * *", "timezone": "Europe/Paris"}, {"interval_seconds": 3600}])
    assert [s["timezone"] for s in deployment["schedules"]] == ["Europe/Paris", "UTC"]
    again = orch.deploy(schedules=[{"cron": "0 9 * * *", "timezone": "Europe/Paris"}])  # the same one kept
    assert [s["id"] for s in again["schedules"]] == [deployment["schedules"][0]["id"]]
    kept = orch.deploy()  # schedules left out: unchanged
    assert len(kept["schedules"]) == 1


def test_the_scheduler_creates_a_bounded_number_of_runs_ahead_once_per_slot(orch: Orchestra) -> None:
    orch.services.settings.schedule_max_runs = 4
    deployment = orch.deploy(schedules=[{"interval_seconds": 60}, {"cron": "*/5 * * * *"}])
    assert orch.schedule() == 8
    assert orch.schedule() == 0  # nothing doubled: bounded and de-duplicated
    listed = orch.api.get("/api/flow-runs", params={"deployment_id": deployment["id"], "limit": 50}).json()["items"]
    assert len(listed) == 8
    assert {r["schedule_id"] for r in listed} == {s["id"] for s in deployment["schedules"]}
    assert all(r["state"]["type"] == "SCHEDULED" for r in listed)


def test_paused_schedules_and_deployments_make_no_runs(orch: Orchestra) -> None:
    deployment = orch.deploy(schedules=[{"interval_seconds": 60}])
    schedule_id = deployment["schedules"][0]["id"]
    paused = orch.api.patch(f"/api/deployments/{deployment['id']}/schedules/{schedule_id}", json={"active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False
    assert orch.schedule() == 0
    orch.api.patch(f"/api/deployments/{deployment['id']}/schedules/{schedule_id}", json={"active": True})
    orch.api.patch(f"/api/deployments/{deployment['id']}", json={"paused": True})
    assert orch.schedule() == 0
    orch.api.patch(f"/api/deployments/{deployment['id']}", json={"paused": False})
    assert orch.schedule() > 0


@pytest.mark.parametrize(("policy", "expected_runs"), [("skip-missed", 0), ("run-latest", 1)])
def test_catch_up_after_downtime(orch: Orchestra, policy: str, expected_runs: int) -> None:
    # Slots every 10 minutes, 5 minutes off now: none falls within the catch-up grace.
    anchor = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    deployment = orch.deploy(schedules=[{"interval_seconds": 600, "anchor": anchor, "catchup": policy}])
    orch.schedule()
    # The server was down for an hour: the schedule's runs are all overdue.
    from sqlalchemy import update
    from sqlmodel import Session

    from control_plane.models import FlowRun
    from control_plane.schedules import Schedule

    with Session(orch.services.engine) as session:
        hour = timedelta(hours=3)
        for run in session.exec(__import__("sqlmodel").select(FlowRun)).all():
            session.execute(
                update(FlowRun)
                .where(FlowRun.id == run.id)
                .values(scheduled_time=run.scheduled_time - hour, expected_start_time=run.expected_start_time - hour)
            )
        schedule = session.get(Schedule, deployment["schedules"][0]["id"])
        session.execute(update(Schedule).where(Schedule.id == schedule.id).values(last_slot=schedule.last_slot - hour))
        session.commit()
    orch.schedule()
    orch.dispatch()
    assert len(orch.submitted()) == expected_runs
    items = orch.api.get("/api/flow-runs", params={"deployment_id": deployment["id"], "limit": 200}).json()["items"]
    skipped = [r for r in items if r["state"]["name"] == "Skipped"]
    assert skipped and all(policy in r["state"]["message"] for r in skipped)
    assert any(r["state"]["type"] == "SCHEDULED" for r in items)  # the future is scheduled again


@pytest.mark.parametrize("interval", [1e-9, 1e300])
def test_an_interval_out_of_range_is_422_saying_the_bounds(orch: Orchestra, interval: float) -> None:
    body = {"name": "d", "flow_name": "etl", "entrypoint": "e.py:etl", "pool": "counting"}
    response = orch.api.post("/api/deployments", json={**body, "schedules": [{"interval_seconds": interval}]})
    assert response.status_code == 422, response.text
    assert "interval_seconds must be between 1 and 315360000" in response.text


def test_a_schedule_that_fails_does_not_stop_the_others(orch: Orchestra) -> None:
    broken = orch.deploy("broken", schedules=[{"interval_seconds": 60}])
    healthy = orch.deploy("healthy", schedules=[{"interval_seconds": 60}])
    # A row written before validation existed (or by hand): the pass must step over it.
    with Session(orch.services.engine) as session:
        session.execute(
            update(Schedule).where(col(Schedule.deployment_id) == broken["id"]).values(interval_seconds=1e300)
        )
        session.commit()
    assert orch.schedule() > 0
    made = orch.api.get("/api/flow-runs", params={"deployment_id": healthy["id"]}).json()["items"]
    assert made and orch.api.get("/api/flow-runs", params={"deployment_id": broken["id"]}).json()["items"] == []
