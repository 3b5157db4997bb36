"""UI sessions for scoped keys, over real HTTP requests to the app (in-process, SQLite and
PostgreSQL): any key signs in, the session carries its scope (buttons it cannot use are
disabled, and the server refuses the action anyway with a 403 page), a revoked or expired
key ends its session at the next request, and every UI action is in the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from control_plane.columns import utcnow
from control_plane.keys import ApiKey
from control_plane.local import create_local_app
from control_plane.settings import Settings
from tests.conftest import FLOW_SCHEMA

ADMIN = "ui-admin-key"
BEARER = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def app_client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = Settings(
        home=tmp_path / "home", database_url=database_url, api_key=ADMIN, run_loops=False, dispatch_on_trigger=False
    )
    with TestClient(create_local_app(settings), base_url="http://127.0.0.1:4300") as client:
        yield client


@pytest.fixture
def deployment(app_client: TestClient) -> dict:
    app_client.post("/api/pools", json={"name": "local", "type": "process"}, headers=BEARER).raise_for_status()
    body = {"name": "d", "flow_name": "etl", "entrypoint": "etl.py:etl", "pool": "local"}
    body["parameter_schema"] = FLOW_SCHEMA
    response = app_client.post("/api/deployments", json=body, headers=BEARER)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def new_key(client: TestClient, name: str, scope: str) -> str:
    response = client.post("/api/keys", json={"name": name, "scope": scope}, headers=BEARER)
    response.raise_for_status()
    return str(response.json()["key"])


def sign_in(client: TestClient, key: str, target: str = "/ui") -> str:
    """Sign in with `key`; the landing page's CSRF token."""
    response = client.post("/ui/login", data={"api_key": key, "next": target})
    assert response.status_code == 200, response.text
    token = re.search(r'name="csrf" value="([^"]+)"', response.text)
    assert token
    return token.group(1)


def button(html: str, label: str) -> str:
    found = re.search(rf"<button[^>]*>{re.escape(label)}", html)
    assert found, label
    return found.group(0)


def runs_of(client: TestClient, deployment: dict) -> list[dict]:
    response = client.get("/api/flow-runs", params={"deployment_id": deployment["id"]}, headers=BEARER)
    return response.json()["items"]  # type: ignore[no-any-return]


def test_a_read_key_sees_the_ui_but_its_actions_are_disabled_and_refused(
    app_client: TestClient, deployment: dict
) -> None:
    key = new_key(app_client, "viewer", "read")
    csrf = sign_in(app_client, key, f"/ui/deployments/{deployment['id']}")
    page = app_client.get(f"/ui/deployments/{deployment['id']}").text
    assert "Signed in as <strong>viewer</strong>" in page and "(read" in page
    assert "disabled" in button(page, "Run now") and "scope &#39;run&#39;" in button(page, "Run now")
    assert "disabled" in button(page, "Pause deployment")
    assert key not in app_client.cookies.get("pushflow_session", "")  # the cookie names the key, never holds it

    # The server refuses what the disabled button would do: a page saying why, not a traceback.
    refused = app_client.post(f"/ui/deployments/{deployment['id']}/run", data={"csrf": csrf, "param.label": "x"})
    assert refused.status_code == 403
    assert "has scope &#39;read&#39;; this action needs &#39;run&#39;" in refused.text
    assert "Traceback" not in refused.text and "Signed in as" in refused.text
    assert app_client.post("/ui/pools/local/pause", data={"csrf": csrf, "paused": "true"}).status_code == 403
    assert runs_of(app_client, deployment) == []
    assert app_client.get("/api/pools/local", headers=BEARER).json()["paused"] is False


def test_a_run_key_triggers_and_cancels_but_cannot_change_the_deployment(
    app_client: TestClient, deployment: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from control_plane import audit as audit_log

    corrected: list[tuple[int, int]] = []  # a UI post declares the 303 it answers: no correction
    monkeypatch.setattr(audit_log, "_correct_status", lambda _engine, entry, status: corrected.append((entry, status)))
    key = new_key(app_client, "runner", "run")
    csrf = sign_in(app_client, key)
    page = app_client.get(f"/ui/deployments/{deployment['id']}").text
    assert "disabled" not in button(page, "Run now") and "disabled" in button(page, "Pause deployment")

    triggered = app_client.post(
        f"/ui/deployments/{deployment['id']}/run", data={"csrf": csrf, "param.label": "x"}, follow_redirects=False
    )
    assert triggered.status_code == 303, triggered.text
    run_id = triggered.headers["location"].rsplit("/", 1)[1]
    assert app_client.post(f"/ui/runs/{run_id}/cancel", data={"csrf": csrf}).status_code == 200
    state = app_client.get(f"/api/flow-runs/{run_id}", headers=BEARER).json()["state"]["type"]
    assert state in ("CANCELLING", "CANCELLED")
    paused = app_client.post(f"/ui/deployments/{deployment['id']}/pause", data={"csrf": csrf, "paused": "true"})
    assert paused.status_code == 403 and "needs &#39;deploy&#39;" in paused.text

    audit = app_client.get("/api/audit", headers=BEARER).json()
    ui_rows = [
        (e["actor"], e["scope"], e["method"], e["route"], e["status"]) for e in audit if e["path"].startswith("/ui")
    ]
    assert ui_rows[:4] == [
        ("runner", "run", "POST", "/ui/deployments/{deployment_id}/pause", 403),
        ("runner", "run", "POST", "/ui/runs/{run_id}/cancel", 303),
        ("runner", "run", "POST", "/ui/deployments/{deployment_id}/run", 303),
        ("runner", "run", "POST", "/ui/login", 303),
    ]
    assert key not in str(audit)
    assert corrected == []


def test_the_bootstrap_admin_key_still_signs_in_and_its_actions_are_audited(
    app_client: TestClient, deployment: dict
) -> None:
    csrf = sign_in(app_client, ADMIN)
    page = app_client.get("/ui/pools/local").text
    assert "Signed in as <strong>admin</strong>" in page and "disabled" not in button(page, "Pause pool")
    assert app_client.post("/ui/pools/local/pause", data={"csrf": csrf, "paused": "true"}).status_code == 200
    assert app_client.get("/api/pools/local", headers=BEARER).json()["paused"] is True
    newest = app_client.get("/api/audit", headers=BEARER).json()[0]
    assert (newest["actor"], newest["path"], newest["status"]) == ("admin", "/ui/pools/local/pause", 303)


def test_a_revoked_key_ends_its_session_at_the_next_request(app_client: TestClient, deployment: dict) -> None:
    key = new_key(app_client, "temp", "deploy")
    csrf = sign_in(app_client, key)
    assert app_client.get("/ui/runs", follow_redirects=False).status_code == 200
    app_client.delete("/api/keys/temp", headers=BEARER).raise_for_status()

    page = app_client.get("/ui/runs", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/ui/login?next=%2Fui%2Fruns&ended=revoked"
    assert "its API key was revoked" in app_client.get(page.headers["location"]).text
    posted = app_client.post(f"/ui/deployments/{deployment['id']}/pause", data={"csrf": csrf, "paused": "true"})
    assert posted.status_code == 401
    assert app_client.get(f"/api/deployments/{deployment['id']}", headers=BEARER).json()["paused"] is False
    again = app_client.post("/ui/login", data={"api_key": key})
    assert again.status_code == 401 and "was revoked" in again.text
    wrong = app_client.post("/ui/login", data={"api_key": "pfk_not-a-key"})
    assert wrong.status_code == 401
    refused = app_client.get("/api/audit", params={"status": 401}, headers=BEARER).json()
    assert [(e["actor"], e["method"], e["path"]) for e in refused[:2]] == [
        ("(unknown key)", "POST", "/ui/login"),  # failed sign-ins are in the audit log
        ("temp", "POST", "/ui/login"),
    ]


def test_an_expired_key_ends_its_session_and_cannot_sign_in(app_client: TestClient) -> None:
    key = new_key(app_client, "short", "read")
    sign_in(app_client, key)
    engine = app_client.app.state.services.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:  # as if its --expires had passed
        conn.execute(update(ApiKey).where(ApiKey.name == "short").values(expires=utcnow() - timedelta(seconds=1)))

    page = app_client.get("/ui/pools", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].endswith("&ended=expired")
    again = app_client.post("/ui/login", data={"api_key": key})
    assert again.status_code == 401 and "expired at" in again.text


def test_a_session_lasts_no_longer_than_its_key(app_client: TestClient) -> None:
    response = app_client.post("/api/keys", json={"name": "day", "scope": "read", "expires_in_days": 1}, headers=BEARER)
    response = app_client.post("/ui/login", data={"api_key": response.json()["key"]}, follow_redirects=False)
    max_age = int(re.search(r"Max-Age=(\d+)", response.headers["set-cookie"]).group(1))  # type: ignore[union-attr]
    assert 0 < max_age <= 12 * 3600
    short = app_client.post("/api/keys", json={"name": "x", "scope": "read"}, headers=BEARER).json()["key"]
    assert app_client.post("/ui/login", data={"api_key": short}, follow_redirects=False).status_code == 303
    bogus = app_client.post("/ui/login", data={"api_key": "pfr_" + "0" * 36 + "_run-token-like"})
    assert bogus.status_code == 401 and "not valid" in bogus.text
