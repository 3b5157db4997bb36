"""The transition log: a run's timeline, the event stream's cursor, and pool, deployment
and schedule changes as events; on SQLite and PostgreSQL."""

from __future__ import annotations

from push_pools.base import InfraPhase, InfraStatus
from tests.control_plane.counting_pool import CountingPool
from tests.control_plane.orchestration import Orchestra


def timeline(orch: Orchestra, run_id: str) -> list[tuple[str | None, str]]:
    response = orch.api.get(f"/api/flow-runs/{run_id}/events")
    assert response.status_code == 200, response.text
    return [((e["payload"]["from"] or {}).get("name"), e["payload"]["to"]["name"]) for e in response.json()]


def test_a_run_s_timeline_has_each_transition_once_in_order(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    orch.dispatch()
    orch.propose(run["id"], "RUNNING").raise_for_status()
    orch.propose(run["id"], "COMPLETED").raise_for_status()
    assert timeline(orch, run["id"]) == [
        (None, "Scheduled"),
        ("Scheduled", "Submitting"),
        ("Submitting", "InfrastructurePending"),
        ("InfrastructurePending", "Running"),
        ("Running", "Completed"),
    ]
    last = orch.api.get(f"/api/flow-runs/{run['id']}/events").json()[-1]
    assert last["event"] == "pushflow.flow-run.Completed"
    assert last["resource"] == {"id": f"pushflow.flow-run.{run['id']}", "labels": {"name": run["name"]}}
    assert {"id": f"pushflow.deployment.{run['deployment_id']}", "role": "deployment"} in last["related"]
    assert last["payload"]["attempt"] == 1
    assert last["payload"]["to"] == {"type": "COMPLETED", "name": "Completed"}


def test_a_refused_transition_is_not_logged(orch: Orchestra) -> None:
    run = orch.trigger(orch.deploy())
    assert orch.propose(run["id"], "RUNNING").status_code == 409
    assert timeline(orch, run["id"]) == [(None, "Scheduled")]


def test_reconciler_and_cancel_transitions_are_logged_with_their_reason(orch: Orchestra) -> None:
    deployment = orch.deploy()
    crashed, cancelled = orch.trigger(deployment), orch.trigger(deployment)
    orch.dispatch()
    CountingPool.ended[f"pushflow-{crashed['id']}"] = InfraStatus(InfraPhase.EXITED, exit_code=137, reason="OOMKilled")
    orch.api.post(f"/api/flow-runs/{cancelled['id']}/cancel").raise_for_status()
    orch.reconcile()
    orch.reconcile()
    assert timeline(orch, crashed["id"])[-1] == ("InfrastructurePending", "Crashed")
    crash = orch.api.get(f"/api/flow-runs/{crashed['id']}/events").json()[-1]
    assert "OOMKilled" in crash["payload"]["message"]
    assert timeline(orch, cancelled["id"])[-2:] == [
        ("InfrastructurePending", "Cancelling"),
        ("Cancelling", "Cancelled"),
    ]


def test_the_stream_pages_with_a_cursor_and_resumes_where_it_stopped(orch: Orchestra) -> None:
    deployment = orch.deploy()
    for _ in range(3):
        orch.trigger(deployment)
    seen: list[int] = []
    cursor = None
    while True:
        page = orch.api.get("/api/events", params={"limit": 2, **({"after": cursor} if cursor else {})}).json()
        if not page["items"]:
            break
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(set(seen)) and len(seen) >= 5  # pool + deployment + 3 runs
    orch.dispatch()  # three more transitions each
    page = orch.api.get("/api/events", params={"after": cursor}).json()
    assert [e["event"] for e in page["items"]].count("pushflow.flow-run.Submitting") == 3
    assert all(e["id"] > seen[-1] for e in page["items"])
    again = orch.api.get("/api/events", params={"after": page["next_cursor"]}).json()
    assert again == {"items": [], "next_cursor": page["next_cursor"]}


def test_a_bad_cursor_is_422_saying_what_to_pass(orch: Orchestra) -> None:
    response = orch.api.get("/api/events", params={"after": "yesterday"})
    assert response.status_code == 422
    assert "next_cursor" in response.json()["detail"]


def test_pool_deployment_and_schedule_changes_are_events(orch: Orchestra) -> None:
    deployment = orch.deploy(schedules=[{"interval_seconds": 3600}])
    orch.api.patch(f"/api/deployments/{deployment['id']}", json={"paused": True}).raise_for_status()
    orch.api.patch("/api/pools/counting", json={"concurrency_limit": 2}).raise_for_status()
    items = orch.api.get("/api/events", params={"limit": 1000}).json()["items"]
    names = [e["event"] for e in items]
    assert names[:4] == [
        "pushflow.pool.created",
        "pushflow.deployment.created",
        "pushflow.schedule.created",
        "pushflow.deployment.updated",
    ]
    assert names[4] == "pushflow.pool.updated"
    assert items[3]["payload"] == {"changed": ["paused"]}
    assert items[3]["resource"]["id"] == f"pushflow.deployment.{deployment['id']}"
    assert items[4]["payload"] == {"changed": ["concurrency_limit"]}


def test_a_batch_s_transition_events_are_the_rows_one_by_one_writes(database_url: str) -> None:
    """`record_transitions` (a dispatch batch: on PostgreSQL one INSERT … SELECT that builds
    the JSON in the server) writes exactly the rows `record_transition` writes per run."""
    from types import SimpleNamespace

    from sqlmodel import Session, col, select

    from control_plane import events
    from control_plane.columns import utcnow
    from control_plane.db import create_db_engine, migrate
    from runtime.states import State, StateType

    engine = create_db_engine(database_url)
    migrate(engine)
    now = utcnow()
    run = SimpleNamespace  # a run's columns as a locked row has them
    scheduled, pending = StateType.SCHEDULED, StateType.PENDING
    before = [  # quotes and non-ASCII; no deployment, no pool; no earlier state
        run(id="a", name="r'a", flow_name="f", deployment_id="d", pool="p", state_type=scheduled, state_name="L"),
        run(id="b", name="b", flow_name='f"é', deployment_id=None, pool="p", state_type=pending, state_name="X"),
        run(id="c", name="c", flow_name="f", deployment_id=None, pool=None, state_type=None, state_name=None),
    ]
    for state in (State(StateType.PENDING, name="Submitting"), State(StateType.CRASHED, name="Crashed", message="ö")):
        with Session(engine) as session:
            events.record_transitions(session, [(row, n) for n, row in enumerate(before)], state, occurred=now)
            session.commit()
        with Session(engine) as session:
            for n, row in enumerate(before):
                one = run(**{**vars(row), "dispatch_count": n})
                events.record_transition(session, one, row.state_type, row.state_name, state, occurred=now)
            session.commit()
    with Session(engine) as session:
        rows = [e.model_dump(exclude={"id"}) for e in session.exec(select(events.Event).order_by(col(events.Event.id)))]
    engine.dispose()
    assert len(rows) == 12
    assert rows[0:3] == rows[3:6] and rows[6:9] == rows[9:12]
    assert rows[6]["related"] == [
        {"id": "pushflow.deployment.d", "role": "deployment"},
        {"id": "pushflow.pool.p", "role": "pool"},
        {"id": "pushflow.flow.f", "role": "flow"},
    ]
