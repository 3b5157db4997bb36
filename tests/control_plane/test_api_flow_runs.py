from __future__ import annotations

from typing import Any

import pytest


def trigger(api: Any, deployment: dict, **body: Any) -> Any:
    return api.post(f"/api/deployments/{deployment['id']}/runs", json=body)


def test_trigger_returns_201_with_a_scheduled_run(api: Any, deployment: dict) -> None:
    response = trigger(api, deployment, parameters={"n": 5})
    assert response.status_code == 201
    run = response.json()
    assert run["state"]["type"] == "SCHEDULED"
    assert run["parameters"] == {"label": "default", "n": 5}
    assert run["flow_name"] == "etl"
    assert run["deployment_id"] == deployment["id"]
    assert run["pool"] == "local"
    assert run["expected_start_time"]
    assert run["infrastructure"] == {"provider": None, "id": None, "console_url": None}
    assert api.get(f"/api/flow-runs/{run['id']}").json()["id"] == run["id"]


def test_bad_parameter_is_422_naming_parameter_and_type_and_creates_nothing(api: Any, deployment: dict) -> None:
    response = trigger(api, deployment, parameters={"n": "five"})
    assert response.status_code == 422
    message = response.json()["detail"]
    assert "parameter 'n'" in message and "integer" in message
    assert api.get("/api/flow-runs").json()["items"] == []


def test_unknown_parameter_is_422(api: Any, deployment: dict) -> None:
    response = trigger(api, deployment, parameters={"m": 1})
    assert response.status_code == 422
    assert "'m'" in response.json()["detail"]


def test_invalid_job_variables_are_422(api: Any, deployment: dict) -> None:
    response = trigger(api, deployment, job_variables={"no_such_variable": 1})
    assert response.status_code == 422
    assert "no_such_variable" in response.json()["detail"]


def test_a_deployment_whose_pool_is_gone_is_refused_naming_the_pool_after_its_checks(
    api: Any, deployment: dict
) -> None:
    """The trigger reads its deployment and pool in one query of plain values; without a
    pool row the checks before still answer first, then 404 names the pool."""
    from sqlalchemy import delete

    from control_plane.models import Pool

    with api.app.state.services.engine.begin() as connection:
        connection.execute(delete(Pool.__table__).where(Pool.__table__.c.name == "local"))
    assert trigger(api, deployment, parameters={"n": "five"}).status_code == 422
    response = trigger(api, deployment)
    assert response.status_code == 404
    assert "pool 'local' not found" in response.json()["detail"]
    assert api.get("/api/flow-runs").json()["items"] == []


def test_repeated_idempotency_key_returns_the_same_run(api: Any, deployment: dict) -> None:
    first = trigger(api, deployment, idempotency_key="order-42")
    second = trigger(api, deployment, idempotency_key="order-42")
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert len(api.get("/api/flow-runs").json()["items"]) == 1


def test_an_idempotency_key_another_request_used_first_returns_its_run(
    api: Any, deployment: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the key is not found, then another request's run with it commits before
    ours is inserted. The insert's unique violation (raised by the INSERT itself: runs are
    created with a Core statement, not at the commit's flush) answers that run, 200."""
    from control_plane import runs

    first = trigger(api, deployment, idempotency_key="order-42").json()
    found = runs.find_by_idempotency_key
    calls: list[object] = []

    def first_misses(*args: Any) -> Any:  # as if the other request were still at work
        calls.append(args)
        return None if len(calls) == 1 else found(*args)

    monkeypatch.setattr(runs, "find_by_idempotency_key", first_misses)
    again = trigger(api, deployment, idempotency_key="order-42")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"]
    assert len(api.get("/api/flow-runs").json()["items"]) == 1
    assert len(calls) == 2


def test_unknown_run_is_404(api: Any) -> None:
    assert api.get("/api/flow-runs/nope").status_code == 404
    assert api.get("/api/flow-runs/nope/logs").status_code == 404
    assert api.get("/api/flow-runs/nope/task-runs").status_code == 404


def test_list_pages_newest_first_with_a_cursor(api: Any, deployment: dict) -> None:
    ids = [trigger(api, deployment).json()["id"] for _ in range(5)]
    first = api.get("/api/flow-runs", params={"limit": 2}).json()
    second = api.get("/api/flow-runs", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/api/flow-runs", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    seen = [r["id"] for page in (first, second, third) for r in page["items"]]
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == 5
    assert third["next_cursor"] is None


def test_list_filters_by_state(api: Any, deployment: dict) -> None:
    run = trigger(api, deployment).json()
    api.post(f"/api/flow-runs/{run['id']}/cancel")
    trigger(api, deployment)
    cancelled = api.get("/api/flow-runs", params={"state": "CANCELLED"}).json()["items"]
    assert [r["id"] for r in cancelled] == [run["id"]]


def test_bad_cursor_is_422(api: Any) -> None:
    response = api.get("/api/flow-runs", params={"cursor": "garbage"})
    assert response.status_code == 422
    assert "cursor" in response.json()["detail"]


def test_cancelling_a_scheduled_run_cancels_it_at_once(api: Any, deployment: dict) -> None:
    run = trigger(api, deployment).json()
    response = api.post(f"/api/flow-runs/{run['id']}/cancel")
    assert response.json()["state"]["type"] == "CANCELLED"
    again = api.post(f"/api/flow-runs/{run['id']}/cancel")
    assert again.status_code == 409
    assert "already CANCELLED" in again.json()["detail"]


def test_illegal_state_proposal_is_409_with_the_reason(api: Any, deployment: dict) -> None:
    run = trigger(api, deployment).json()
    response = api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": "COMPLETED"}})
    assert response.status_code == 409
    assert "SCHEDULED" in response.json()["detail"]


def test_a_proposal_with_run_answers_the_run_as_it_is_after_the_change(api: Any, deployment: dict) -> None:
    run = trigger(api, deployment).json()
    pending = api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": "PENDING"}})
    assert pending.json()["run"] is None  # only when asked
    assert api.get(f"/api/flow-runs/{run['id']}").json()["heartbeat_time"] is None
    body = {"state": {"type": "RUNNING"}, "with_run": True, "heartbeat": True}
    running = api.post(f"/api/flow-runs/{run['id']}/state", json=body)
    assert running.status_code == 200
    answered = running.json()["run"]
    assert (answered["id"], answered["state"]["type"], answered["run_count"]) == (run["id"], "RUNNING", 1)
    assert answered["start_time"] and answered["heartbeat_time"] and answered["deployment_name"] == deployment["name"]
    assert answered == api.get(f"/api/flow-runs/{run['id']}").json()


def test_a_proposal_reads_its_run_once_without_loading_a_deferred_column(api: Any, deployment: dict) -> None:
    """A proposal loads only the columns it reads (load_only): through a run's whole life,
    retries and a heartbeat included, no attribute it touches is left to a lazy load (a
    SELECT of the run by its id after the first)."""
    from sqlalchemy import event

    engine = api.app.state.services.engine
    by_id: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        flat = " ".join(statement.split())
        if flat.startswith("SELECT") and "FROM flow_run WHERE flow_run.id =" in flat:
            by_id.append(flat)

    run = trigger(api, deployment).json()
    proposals = [
        {"state": {"type": "PENDING"}},
        {"state": {"type": "RUNNING"}, "heartbeat": True},
        {"state": {"type": "RUNNING"}, "transition_id": "t-1"},
        {"state": {"type": "RUNNING"}, "transition_id": "t-1"},  # a repeat
        {"state": {"type": "COMPLETED", "message": "done"}},
    ]
    event.listen(engine, "before_cursor_execute", remember)
    try:
        for body in proposals:
            by_id.clear()
            response = api.post(f"/api/flow-runs/{run['id']}/state", json=body)
            assert response.status_code in (200, 409), response.text
            assert len(by_id) == 1, by_id
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert api.get(f"/api/flow-runs/{run['id']}").json()["state"]["type"] == "COMPLETED"


def test_a_refused_proposal_with_run_is_409_as_without(api: Any, deployment: dict) -> None:
    run = trigger(api, deployment).json()
    response = api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": "COMPLETED"}, "with_run": True})
    assert response.status_code == 409
    assert "SCHEDULED" in response.json()["detail"]


def test_state_proposal_with_unknown_type_is_422(api: Any, deployment: dict) -> None:
    run = trigger(api, deployment).json()
    response = api.post(f"/api/flow-runs/{run['id']}/state", json={"state": {"type": "DONE"}})
    assert response.status_code == 422


def test_logs_and_task_runs_round_trip(api: Any, deployment: dict) -> None:
    run = trigger(api, deployment).json()
    task_run = {
        "id": "6f1c1c8e-0000-4000-8000-000000000001",
        "name": "extract-0",
        "task_key": "m.extract",
        "state": {"type": "COMPLETED"},
        "start_time": "2026-01-01T00:00:00+00:00",
        "end_time": "2026-01-01T00:00:01+00:00",
    }
    assert api.post(f"/api/flow-runs/{run['id']}/task-runs", json=[task_run]).status_code == 204
    logs = [{"message": f"line {i}", "timestamp": 1_700_000_000 + i} for i in range(3)]
    assert api.post(f"/api/flow-runs/{run['id']}/logs", json=logs).status_code == 204
    read = api.get(f"/api/flow-runs/{run['id']}/logs").json()
    assert [entry["message"] for entry in read] == ["line 0", "line 1", "line 2"]
    after = api.get(f"/api/flow-runs/{run['id']}/logs", params={"after": read[0]["id"]}).json()
    assert [entry["message"] for entry in after] == ["line 1", "line 2"]
    (task,) = api.get(f"/api/flow-runs/{run['id']}/task-runs").json()
    assert task["name"] == "extract-0"
    assert task["state"]["type"] == "COMPLETED"


def test_task_runs_arrive_in_bulk_and_a_repeated_report_updates_only_its_own_run(api: Any, deployment: dict) -> None:
    run, other = trigger(api, deployment).json(), trigger(api, deployment).json()
    batch = [
        {"id": f"6f1c1c8e-0000-4000-8000-{i:012d}", "name": f"t-{i}", "task_key": "m.t", "state": {"type": "RUNNING"}}
        for i in range(300)
    ]
    assert api.post(f"/api/flow-runs/{run['id']}/task-runs", json=batch).status_code == 204
    again = {**batch[7], "state": {"type": "COMPLETED"}, "run_count": 2}
    assert api.post(f"/api/flow-runs/{run['id']}/task-runs", json=[again]).status_code == 204
    stolen = {**batch[8], "name": "not yours", "state": {"type": "FAILED"}}
    assert api.post(f"/api/flow-runs/{other['id']}/task-runs", json=[stolen]).status_code == 204
    tasks = {t["id"]: t for t in api.get(f"/api/flow-runs/{run['id']}/task-runs").json()}
    assert len(tasks) == 300
    assert (tasks[again["id"]]["state"]["type"], tasks[again["id"]]["run_count"]) == ("COMPLETED", 2)
    assert (tasks[stolen["id"]]["name"], tasks[stolen["id"]]["state"]["type"]) == ("t-8", "RUNNING")
    assert api.get(f"/api/flow-runs/{other['id']}/task-runs").json() == []


def test_a_listed_page_is_byte_for_byte_the_validated_models_json(api: Any, deployment: dict) -> None:
    """GET /api/flow-runs writes its page from the rows (FlowRunPage.json_of_rows) without
    building FlowRunPublic models: the same bytes as validating and serialising them, for
    runs with every column filled, masked secrets, odd numbers and text, and none."""
    from datetime import datetime, timedelta, timezone

    from sqlmodel import Session

    from control_plane.models import FlowRun, FlowRunPage
    from control_plane.responses import model_json
    from control_plane.run_listing import RunFilter, RunOrder, page_query
    from runtime.states import StateType

    trigger(api, deployment, parameters={"n": 5, "label": 'é ✓ "quoted" \\ back'})
    at = datetime(2026, 12, 1, 15, 0, 0, 123456, tzinfo=timezone.utc)
    full = FlowRun(
        name="full",
        flow_name="etl",
        deployment_id=None,
        parent_flow_run_id="p-1",
        parent_task_run_id="t-1",
        pool="local",
        entrypoint="flows/etl.py:etl",
        working_dir="sub/dir",
        source={"kind": "git", "url": "https://user:hunter2@example.com/repo.git", "token": "abc"},
        parameters={"big": 123456789012345678901234567890, "x": 0.1, "inf": 1e300, "list": [1, None, True, {"a": []}]},
        job_variables={"env": {"DB_PASSWORD": "s3cret", "PLAIN": "ok"}, "secure_env": {"K": "v"}, "image": "img:1"},
        idempotency_key="key-1",
        state_type=StateType.RUNNING,
        state_name="",  # a State() given no name takes its type's
        state_message="ünïcode\nline two",
        state_timestamp=at,
        state_version=3,
        schedule_id="s-1",
        scheduled_time=at,
        created=at - timedelta(seconds=1),
        expected_start_time=at,
        start_time=at,
        end_time=at + timedelta(minutes=1),
        run_count=2,
        infra_provider="process",
        infra_id="pid-1",
        infra_console_url="http://console",
        heartbeat_time=at.replace(microsecond=0),
        dispatch_count=4,
        infra_retries=1,
    )
    with Session(api.app.state.services.engine) as session:
        session.add(full)
        session.commit()
    with api.app.state.services.engine.connect() as connection:
        rows = connection.execute(page_query(RunFilter(), RunOrder.CREATED_DESC, 50, None)).all()
    assert len(rows) == 2
    for page in (rows, rows[:1], []):
        expected = model_json(FlowRunPage.of_rows(page, "next-cursor")).body
        assert FlowRunPage.json_of_rows(page, "next-cursor") == expected
    assert FlowRunPage.json_of_rows(rows, None) == model_json(FlowRunPage.of_rows(rows, None)).body
    listed = api.get("/api/flow-runs").content
    assert listed == model_json(FlowRunPage.of_rows(rows, None)).body


def test_one_run_is_answered_byte_for_byte_as_its_validated_models_json(api: Any, deployment: dict) -> None:
    """A trigger's answer (FlowRunPublic.json_of, from the run's values as written) and
    GET /api/flow-runs/{id} (json_of_row, from its row) are the bytes the validated
    FlowRunPublic serialised to: odd numbers and text, masked secrets, a time with an
    offset other than UTC, every column filled or none."""
    from datetime import datetime, timedelta, timezone

    from sqlmodel import Session

    from control_plane.models import FlowRun, FlowRunPublic
    from control_plane.responses import model_json
    from runtime.states import StateType

    odd = {"big": 123456789012345678901234567890, "x": 0.1, "inf": 1e300, "text": 'é ✓ "q" \\ b', "none": None}
    answered = trigger(
        api, deployment, parameters={"n": 5, "label": "x"}, scheduled_start_time="2999-01-01T05:30:00+05:30"
    )
    assert answered.status_code == 201
    at = datetime(2026, 12, 1, 15, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    full = FlowRun(
        name="full",
        flow_name="etl",
        deployment_id=deployment["id"],
        parent_flow_run_id="p-1",
        pool="local",
        entrypoint="flows/etl.py:etl",
        source={"kind": "git", "url": "https://user:hunter2@example.com/repo.git"},
        parameters=odd,
        job_variables={"env": {"DB_PASSWORD": "s3cret", "PLAIN": "ok"}, "image": "img:1"},
        state_type=StateType.RUNNING,
        state_name="",
        state_message="ünïcode\nline two",
        state_timestamp=at,
        created=at,
        expected_start_time=at,
        start_time=at,
        run_count=2,
        infra_provider="process",
        infra_id="pid-1",
        heartbeat_time=at,
        dispatch_count=4,
    )
    empty = FlowRun(
        name="empty",
        flow_name="etl",
        deployment_id=None,
        pool=None,
        state_type=StateType.SCHEDULED,
        state_name="Scheduled",
        state_timestamp=at,
        parameters={},
        job_variables={},
    )
    for run in (full, empty):
        assert FlowRunPublic.json_of(run) == model_json(FlowRunPublic.of(run)).body
    with Session(api.app.state.services.engine) as session:
        session.add(full)
        session.commit()
        for run_id, name in ((full.id, deployment["name"]), (answered.json()["id"], deployment["name"])):
            stored = session.get(FlowRun, run_id)
            assert stored is not None
            public = FlowRunPublic.of(stored)
            public.deployment_name = name
            assert api.get(f"/api/flow-runs/{run_id}").content == model_json(public).body


def test_a_triggered_run_is_the_sessions_own_as_if_loaded_from_its_row(api: Any, deployment: dict) -> None:
    """runs.create_flow_run inserts the run's values with one statement and returns it as
    a persistent, unchanged FlowRun: every column as stored (the model's defaults for what
    a trigger leaves out), nothing left for the session to flush."""
    from sqlalchemy import inspect
    from sqlmodel import Session

    from control_plane import runs
    from control_plane.models import Deployment, FlowRun, FlowRunCreate

    engine = api.app.state.services.engine
    with Session(engine, expire_on_commit=False) as session:
        found = session.get(Deployment, deployment["id"])
        assert found is not None
        run = runs.create_flow_run(session, found, FlowRunCreate(parameters={"n": 1}, idempotency_key="k"))
        state = inspect(run)
        assert state.persistent and not session.dirty and not session.new
        assert session.get(FlowRun, run.id) is run
        session.commit()
    with Session(engine) as session:
        stored = session.get(FlowRun, run.id)
        assert stored is not None
        assert stored.model_dump() == run.model_dump()
    assert set(runs.new_run_values(found, when=run.created, now=run.created)) == set(FlowRun.__table__.c.keys())  # type: ignore[attr-defined]


def test_bad_list_parameters_are_one_422_naming_each_in_order(api: Any) -> None:
    """The listing's query parameters are validated as one model (RunListQuery): each bad
    one is still named by its own `loc`, in the parameters' order."""
    response = api.get("/api/flow-runs", params={"limit": 0, "sort": "x", "state": "Q", "expected_after": "1764601200"})
    assert response.status_code == 422
    locs = [tuple(e["loc"]) for e in response.json()["errors"]]
    assert locs == [("query", "state", 0), ("query", "expected_after"), ("query", "sort"), ("query", "limit")]
