"""A private repository over HTTP: the runtime reaches it with the token its `env:NAME`
reference names, and the token appears in no log line or error. The server is git's
"dumb" HTTP protocol (static files after `git update-server-info`) behind Basic auth, on
127.0.0.1; dumb HTTP cannot fetch one commit shallowly, so this also covers the fallback
that fetches the branches and then checks out the deployed commit."""

from __future__ import annotations

import base64
import functools
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from runtime.errors import SourceError
from runtime.sources import checkout_git

TOKEN = "s3cr3t-token-value"


class _AuthHandler(SimpleHTTPRequestHandler):
    expected = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="private"')
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=pushflow tests", "-c", "user.email=tests@pushflow.invalid"]
    return subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def private_repo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "--initial-branch", "main")
    (work / "flows.py").write_text("VALUE = 'private'\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "one")
    commit = git(work, "rev-parse", "HEAD")
    bare = tmp_path / "repo.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    git(bare, "update-server-info")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_AuthHandler, directory=str(bare)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", commit
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_token_reference_opens_a_private_repository(
    private_repo: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, commit = private_repo
    monkeypatch.setenv("PF_GIT_TOKEN", TOKEN)
    logged: list[str] = []
    root = checkout_git(
        {"url": url, "commit": commit, "credentials": "env:PF_GIT_TOKEN"}, lambda level, m: logged.append(m)
    )
    assert (root / "flows.py").read_text() == "VALUE = 'private'\n"
    assert logged and TOKEN not in "\n".join(logged)


def test_a_wrong_token_fails_without_showing_it(private_repo: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, commit = private_repo
    monkeypatch.setenv("PF_GIT_TOKEN", "wrong-token-value")
    with pytest.raises(SourceError, match="cannot check out commit") as failure:
        checkout_git({"url": url, "commit": commit, "credentials": "env:PF_GIT_TOKEN"}, lambda level, m: None)
    assert "wrong-token-value" not in str(failure.value)
