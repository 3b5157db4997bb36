from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from control_plane.auth import read_key_file
from control_plane.local import create_local_app, prepare_local
from control_plane.settings import Settings


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
        if path == "/api/health" or path.startswith("/hooks/"):  # incoming webhooks: signed, not keyed
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


def test_local_mode_saves_generated_keys_with_0600_and_reuses_them(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    local = prepare_local(settings)
    assert local.api_key is not None and local.server_secret is not None
    key, secret = local.api_key.get_secret_value(), local.server_secret.get_secret_value()
    assert key != secret  # the admin key never signs run tokens
    for path, value in ((settings.saved_api_key_file, key), (settings.server_secret_file, secret)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() == value
    again = prepare_local(settings)
    assert again.api_key == local.api_key and again.server_secret == local.server_secret
    given = prepare_local(Settings(home=tmp_path / "other", api_key="given", server_secret="also-given"))
    assert given.api_key is not None and given.api_key.get_secret_value() == "given"
    assert not (tmp_path / "other" / "api_key").exists() and not (tmp_path / "other" / "server_secret").exists()


def test_the_admin_key_can_come_from_a_file_instead_of_the_environment(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    key_file = tmp_path / "secret" / "admin_key"
    key_file.parent.mkdir()
    key_file.write_text("key-from-a-mounted-secret\n")
    settings = Settings(
        home=tmp_path / "home",
        api_key_file=key_file,
        run_loops=False,
        dispatch_on_trigger=False,
    )
    with TestClient(create_local_app(settings)) as client:
        good = {"Authorization": "Bearer key-from-a-mounted-secret"}
        assert client.get("/api/pools", headers=good).status_code == 200
        assert client.get("/api/pools", headers={"Authorization": "Bearer other"}).status_code == 401
    assert not (tmp_path / "home" / "api_key").exists()  # nothing generated beside it


def test_a_missing_key_file_stops_the_server_with_its_name(tmp_path: Path) -> None:
    from control_plane.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="PUSHFLOW_API_KEY_FILE=.*nowhere"):
        read_key_file(tmp_path / "nowhere")


def test_the_cli_reads_the_key_file_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime import config

    (tmp_path / "k").write_text("from-file\n")
    monkeypatch.delenv("PUSHFLOW_API_KEY", raising=False)
    monkeypatch.setenv("PUSHFLOW_API_KEY_FILE", str(tmp_path / "k"))
    assert config.api_key() == "from-file"


def test_the_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    settings = Settings(home=tmp_path / "home", api_key="k", run_loops=False, dispatch_on_trigger=False)
    with TestClient(create_local_app(settings), headers={"Authorization": "Bearer k"}) as client:
        client.post("/api/pools", json={"name": "local", "type": "process"}).raise_for_status()
        files = [p for p in (tmp_path / "home").iterdir() if p.name.startswith("pushflow.db")]
        assert files
        for path in files:  # the database and its -wal/-shm files
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
