"""Input the probe found turning into 500s: NUL characters, booleans as integers, huge or
time-zone-less cursors. Each is a 4xx saying what was wrong, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from typing import Any

import pytest


def _run(api: Any, deployment: dict) -> dict:
    response = api.post(f"/api/deployments/{deployment['id']}/runs", json={"parameters": {"label": "x"}})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_nul_in_a_log_line_is_kept_escaped_and_the_batch_is_stored(api: Any, deployment: dict) -> None:
    run = _run(api, deployment)
    batch = [
        {"message": "before", "timestamp": 1.0},
        {"message": "bad\x00byte", "name": "flow\x00logger", "timestamp": 2.0},
        {"message": "after", "timestamp": 3.0},
    ]
    response = api.post(f"/api/flow-runs/{run['id']}/logs", json=batch)
    assert response.status_code == 204, response.text
    logs = api.get(f"/api/flow-runs/{run['id']}/logs").json()
    assert [line["message"] for line in logs] == ["before", "bad\\x00byte", "after"]
    assert logs[1]["name"] == "flow\\x00logger"


def test_a_nul_in_a_deployment_name_is_a_422(api: Any, deployment: dict) -> None:
    body = {"name": "night\x00ly", "flow_name": "etl", "entrypoint": "flows/etl.py:etl", "pool": "local"}
    response = api.post("/api/deployments", json=body)
    assert response.status_code == 422, response.text
    assert "name" in response.json()["detail"]
    # and a NUL reaching the database elsewhere (a path lookup) is a 422, not a 500
    response = api.get("/api/deployments/by-name/etl/night%00ly")
    assert response.status_code in (404, 422), response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/pools", {"name": "p2", "type": "process", "concurrency_limit": False}),
        ("patch", "/api/pools/local", {"concurrency_limit": False}),
        ("patch", "/api/deployments/{id}", {"concurrency_limit": True}),
        ("patch", "/api/deployments/{id}", {"retries": "3"}),
        ("patch", "/api/deployments/{id}", {"retry_delay_seconds": True}),
    ],
)
def test_booleans_and_strings_are_not_integers(api: Any, deployment: dict, method: str, path: str, body: dict) -> None:
    response = getattr(api, method)(path.format(id=deployment["id"]), json=body)
    assert response.status_code == 422, response.text
    assert "integer" in response.json()["detail"] or "number" in response.json()["detail"]
    assert api.get("/api/pools/local").json()["concurrency_limit"] is None  # nothing changed


def test_a_concurrency_limit_beyond_the_column_is_a_422(api: Any, deployment: dict) -> None:
    response = api.patch("/api/pools/local", json={"concurrency_limit": 10**12})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("after", [str(10**30), str(2**63), "-1"])
def test_a_log_cursor_out_of_range_is_a_422(api: Any, deployment: dict, after: str) -> None:
    run = _run(api, deployment)
    response = api.get(f"/api/flow-runs/{run['id']}/logs", params={"after": after})
    assert response.status_code == 422, response.text


def test_an_event_cursor_out_of_range_is_a_422(api: Any) -> None:
    response = api.get("/api/events", params={"after": str(10**30)})
    assert response.status_code == 422, response.text


def test_a_run_cursor_without_a_time_zone_is_a_422(api: Any, deployment: dict) -> None:
    _run(api, deployment)
    cursor = base64.urlsafe_b64encode(b"2026-01-01T00:00:00|00000000-0000-0000-0000-000000000000").decode()
    response = api.get("/api/flow-runs", params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert "cursor" in response.json()["detail"]
    response = api.get("/api/flow-runs", params={"expected_before": "2026-01-01T00:00:00"})
    assert response.status_code == 422, response.text
    assert "expected_before" in response.json()["detail"]


_STATE = {"type": "COMPLETED", "name": "Completed", "timestamp": "2026-12-01T15:00:00Z"}
_TASK_RUN = {"id": "t-0", "name": "add-0", "task_key": "add", "state": _STATE}


@pytest.mark.parametrize(
    ("kind", "batch", "loc", "words"),
    [
        (
            "logs",
            [{"message": "a", "timestamp": 1.0}, {"message": "b", "timestamp": 2.0, "level": True}],
            [1, "level"],
            "integer",
        ),
        ("logs", [{"message": "a", "timestamp": 1.0}, {"timestamp": 2.0}], [1, "message"], "required"),
        ("logs", [{"message": "a", "timestamp": "1.0"}], [0, "timestamp"], "number"),
        ("task-runs", [_TASK_RUN, {**_TASK_RUN, "id": "t-1", "run_count": "3"}], [1, "run_count"], "integer"),
        (
            "task-runs",
            [_TASK_RUN, {**_TASK_RUN, "id": "t-1", "state": {**_STATE, "type": "DONE"}}],
            [1, "state", "type"],
            "COMPLETED",
        ),
        ("task-runs", [{**_TASK_RUN, "start_time": "2026-12-01T15:00:00"}], [0, "start_time"], "time zone"),
        ("task-runs", [{**_TASK_RUN, "start_time": 1764601200}], [0, "start_time"], "RFC 3339"),
        ("task-runs", {"id": "t-0"}, [], "list"),
    ],
)
def test_a_bad_record_in_a_runtime_batch_is_a_422_naming_it_and_nothing_is_stored(
    api: Any, deployment: dict, kind: str, batch: Any, loc: list, words: str
) -> None:
    # Batches are validated from their bytes in one pass (control_plane/json_batches.py);
    # a refused batch still gets FastAPI's own answer: the record's index and field.
    run = _run(api, deployment)
    response = api.post(f"/api/flow-runs/{run['id']}/{kind}", json=batch)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", *loc]
    assert words in response.json()["detail"]
    assert api.get(f"/api/flow-runs/{run['id']}/{kind}").json() == []


@pytest.mark.parametrize(
    ("content", "content_type", "words"),
    [(b'[{"id": ', "application/json", "JSON"), (b"", "application/json", "required"), (b"[]", "text/plain", "list")],
)
def test_a_runtime_batch_that_is_not_a_json_list_is_a_422(
    api: Any, deployment: dict, content: bytes, content_type: str, words: str
) -> None:
    run = _run(api, deployment)
    response = api.post(
        f"/api/flow-runs/{run['id']}/task-runs", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
