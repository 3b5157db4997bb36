"""The UI's session cookie, CSRF protection and security headers, over real HTTP requests
to the app (in-process) and on the session module itself."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from control_plane.local import create_local_app
from control_plane.settings import Settings
from control_plane.ui import session as ui_session

KEY = "ui-test-key"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path / "home", api_key=KEY, run_loops=False)
    with TestClient(create_local_app(settings), base_url="http://127.0.0.1:4300") as client:
        yield client


def signed_in(client: TestClient) -> str:
    """Sign in; return the page's CSRF token."""
    response = client.post("/ui/login", data={"api_key": KEY, "next": "/ui/pools"})
    assert response.status_code == 200, response.text
    token = re.search(r'name="csrf" value="([^"]+)"', response.text)
    assert token
    return token.group(1)


def test_cookie_is_signed_and_expires() -> None:
    cookie, lifetime = ui_session.issue_cookie(KEY)
    assert lifetime == ui_session.LIFETIME_SECONDS
    assert ui_session.read_cookie(KEY, cookie) is not None
    assert ui_session.read_cookie("another-key", cookie) is None  # a new key signs everyone out
    expires, nonce, key_id, signature = cookie.split(".")
    assert ui_session.read_cookie(KEY, f"{int(expires) + 3600}.{nonce}.{key_id}.{signature}") is None  # tampered
    assert ui_session.read_cookie(KEY, f"{expires}.{nonce}.another-key-id.{signature}") is None
    assert ui_session.read_cookie(KEY, cookie, now=time.time() + ui_session.LIFETIME_SECONDS + 1) is None
    assert ui_session.read_cookie(KEY, "garbage") is None


def test_pages_need_a_session_and_a_wrong_key_is_refused(client: TestClient) -> None:
    response = client.get("/ui/runs", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login?next=%2Fui%2Fruns"
    response = client.post("/ui/login", data={"api_key": "wrong"})
    assert response.status_code == 401 and "not valid" in response.text
    assert "pushflow_session" not in response.headers.get("set-cookie", "")
    # The API's bearer key is not a session, and a session is not the API's bearer key.
    assert client.get("/ui/runs", headers={"Authorization": f"Bearer {KEY}"}, follow_redirects=False).status_code == 303
    signed_in(client)
    assert client.get("/api/pools").status_code == 401


def test_sign_in_only_redirects_inside_the_ui(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/ui", "/api/pools"):
        response = client.post("/ui/login", data={"api_key": KEY, "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/ui", target


def test_state_changes_need_the_csrf_token_and_the_same_origin(client: TestClient) -> None:
    csrf = signed_in(client)
    assert client.post("/ui/logout", data={}).status_code == 403
    assert client.post("/ui/logout", data={"csrf": "forged"}).status_code == 403
    cross = {"Origin": "https://evil.example"}
    assert client.post("/ui/logout", data={"csrf": csrf}, headers=cross).status_code == 403
    assert client.post("/ui/login", data={"api_key": KEY}, headers=cross).status_code == 403
    response = client.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/ui/pools", follow_redirects=False).status_code == 303  # signed out


def test_security_headers_on_ui_and_api(client: TestClient) -> None:
    for path in ("/ui/login", "/api/health", "/api/openapi.json", "/api/docs"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        script_src = re.search(r"script-src ([^;]+)", csp)
        assert script_src and script_src.group(1).strip() == "'self'", path
        assert headers["x-content-type-options"] == "nosniff", path


def test_api_docs_load_swagger_ui_from_this_server_only(client: TestClient) -> None:
    page = client.get("/api/docs").text
    assert "<script>" not in page  # no inline script
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/ui/static/") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert "5.35.0" in client.get("/ui/static/swagger-ui/VERSION").text
