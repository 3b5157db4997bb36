from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from control_plane.auth import ensure_api_key


def test_health_needs_no_key(api: Any) -> None:
    response = api.get("/api/health", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_missing_key_is_401_and_reveals_nothing(api: Any, deployment: dict) -> None:
    response = api.get(f"/api/deployments/{deployment['id']}", headers={"Authorization": ""})
    assert response.status_code == 401
    assert "nightly" not in response.text
    assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_key_is_401(api: Any) -> None:
    response = api.get("/api/pools", headers={"Authorization": "Bearer not-the-key"})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid API key"}


def test_every_route_but_health_requires_a_key(api: Any) -> None:
    spec = api.get("/api/openapi.json").json()
    for path, methods in spec["paths"].items():
        if path == "/api/health":
            continue
        for method in methods:
            url = path.replace("{", "").replace("}", "")
            response = api.request(method.upper(), url, headers={"Authorization": ""})
            assert response.status_code == 401, f"{method.upper()} {path} answered {response.status_code}"


def test_run_token_reads_and_reports_only_its_own_run(api: Any, deployment: dict) -> None:
    from sqlmodel import Session

    from control_plane.auth import mint_run_token
    from control_plane.models import FlowRun

    first = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    second = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    token, token_hash = mint_run_token(first["id"])
    engine = api.app.state.services.engine
    with Session(engine) as session:
        run = session.get(FlowRun, first["id"])
        run.token_hash = token_hash
        session.add(run)
        session.commit()
    as_run = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/api/flow-runs/{first['id']}", headers=as_run).status_code == 200
    assert api.get(f"/api/flow-runs/{second['id']}", headers=as_run).status_code == 403
    assert api.get("/api/pools", headers=as_run).status_code == 403
    assert api.post(f"/api/deployments/{deployment['id']}/runs", json={}, headers=as_run).status_code == 403
    # A token for a run that exists but with the wrong secret is refused outright.
    forged = token[:-4] + "xxxx"
    assert api.get(f"/api/flow-runs/{first['id']}", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_run_responses_never_carry_the_token_hash(api: Any, deployment: dict) -> None:
    run = api.post(f"/api/deployments/{deployment['id']}/runs", json={}).json()
    assert "token" not in str(api.get(f"/api/flow-runs/{run['id']}").json())


def test_generated_key_is_saved_with_0600_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "home" / "api_key"
    key = ensure_api_key(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == key
    assert ensure_api_key(None, key_file) == key
    assert ensure_api_key("given", key_file) == "given"
