"""The runtime's HTTP transport and the API client over it, against real local servers:
one kept-alive connection for requests made one after another, a connection the server
closed while idle replaced, the retry and error behaviour of the client, a redirect that
leaves the API without the key, timeouts, and proxies from the environment."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.client import PushflowClient
from runtime.errors import APIError
from runtime.transport import Transport, TransportError


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers from the server's `routes` (path -> (status, headers, body)) and records
    each request with the client port it came from."""

    protocol_version = "HTTP/1.1"  # keep-alive

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server: Any = self.server
        server.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "port": self.client_address[1],
                "headers": dict(self.headers),
                "body": body,
            }
        )
        status, headers, answer = server.routes.get(self.path.split("?")[0], (200, {}, b'{"ok": true}'))
        if callable(answer):
            status, headers, answer = answer(server)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_HEAD = _answer  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Any]:
    srv: Any = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    srv.seen, srv.routes = [], {}
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_requests_one_after_another_share_one_connection(server: Any) -> None:
    with PushflowClient(server.url + "/api", "k", retries=0) as client:
        client.read_flow_run("r1")
        client.send_logs("r1", [{"message": "é"}])
        client.request("POST", "/flow-runs/r1/heartbeat")
    assert [s["path"] for s in server.seen] == [
        "/api/flow-runs/r1",
        "/api/flow-runs/r1/logs",
        "/api/flow-runs/r1/heartbeat",
    ]
    assert len({s["port"] for s in server.seen}) == 1
    assert all(s["headers"]["Authorization"] == "Bearer k" for s in server.seen)
    logs = server.seen[1]
    assert logs["headers"]["Content-Type"] == "application/json"
    assert json.loads(logs["body"]) == [{"message": "é"}]


def test_query_parameters_are_written_as_httpx_wrote_them(server: Any) -> None:
    with PushflowClient(server.url + "/api", retries=0) as client:
        client.request("GET", "/flow-runs", params={"state": ["RUNNING", "FAILED"], "flag": True, "limit": 5})
    assert server.seen[0]["path"] == "/api/flow-runs?state=RUNNING&state=FAILED&flag=true&limit=5"


def test_a_connection_the_server_closed_while_idle_is_replaced(server: Any) -> None:
    transport = Transport(timeout=5)
    try:
        transport.request("GET", server.url + "/a")
        (idle,) = transport._idle[("http", "127.0.0.1", server.server_address[1])]
        assert idle.conn.sock is not None
        idle.conn.sock.shutdown(socket.SHUT_RDWR)  # as if the server's keep-alive timer had closed it
        assert transport.request("GET", server.url + "/b").status_code == 200
    finally:
        transport.close()
    assert len({s["port"] for s in server.seen}) == 2


def test_concurrent_requests_each_get_a_connection(server: Any) -> None:
    gate = threading.Barrier(2, timeout=5)

    def slow(_: Any) -> tuple[int, dict, bytes]:
        gate.wait()  # both requests are inside the server at once
        return 200, {}, b"{}"

    server.routes["/slow"] = (200, {}, slow)
    with PushflowClient(server.url, retries=0) as client:
        threads = [threading.Thread(target=client.request, args=("GET", "/slow")) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
    assert len(server.seen) == 2


def test_5xx_and_429_are_retried_then_explained(server: Any) -> None:
    calls = iter([(503, {}, b'{"detail": "busy"}'), (429, {"Retry-After": "0"}, b"{}"), (200, {}, b'{"n": 1}')])
    server.routes["/api/x"] = (0, {}, lambda _: next(calls))
    with PushflowClient(server.url + "/api", retries=2, backoff=0.01) as client:
        assert client.request("GET", "/x") == {"n": 1}
    server.routes["/api/x"] = (503, {}, b'{"detail": "still busy"}')
    with PushflowClient(server.url + "/api", retries=1, backoff=0.01) as client, pytest.raises(APIError) as caught:
        client.request("GET", "/x")
    assert (caught.value.status_code, str(caught.value)) == (503, "503: still busy")


def test_a_4xx_is_not_retried_and_carries_the_servers_reason(server: Any) -> None:
    detail = [{"loc": ["body", "state", "type"], "msg": "bad type"}]
    server.routes["/api/x"] = (422, {}, json.dumps({"detail": detail}).encode())
    with PushflowClient(server.url + "/api", retries=5) as client, pytest.raises(APIError) as caught:
        client.request("POST", "/x", json={})
    assert (caught.value.status_code, str(caught.value)) == (422, "422: state.type: bad type")
    assert len(server.seen) == 1


def test_an_api_that_is_not_there_is_explained_after_the_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    reach = f"cannot reach the pushflow API at http://127.0.0.1:{port}/api: .*refused"
    with (
        PushflowClient(f"http://127.0.0.1:{port}/api", retries=2, backoff=0.01) as client,
        pytest.raises(APIError, match=reach),
    ):
        client.health()
    assert time.monotonic() - started < 5


def test_a_server_that_does_not_answer_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts the connection, never answers
        client = PushflowClient(f"http://127.0.0.1:{listener.getsockname()[1]}", retries=0, timeout=0.3)
        with client, pytest.raises(APIError, match="timed out"):
            client.health()


def test_a_download_follows_a_redirect_and_the_key_stays_home(server: Any) -> None:
    other: Any = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    other.seen, other.routes = [], {"/signed": (200, {}, b"bundle bytes")}
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        where = f"http://127.0.0.1:{other.server_address[1]}/signed?sig=abc"
        server.routes["/api/bundle"] = (307, {"Location": where}, b"")
        with PushflowClient(server.url + "/api", "secret", retries=0) as client:
            assert client.download("/bundle") == b"bundle bytes"
    finally:
        other.shutdown()
        other.server_close()
    assert server.seen[0]["headers"]["Authorization"] == "Bearer secret"
    assert other.seen[0]["path"] == "/signed?sig=abc"
    assert "Authorization" not in other.seen[0]["headers"]


def test_head_answers_without_a_body(server: Any) -> None:
    with PushflowClient(server.url, retries=0) as client:
        assert client.request("HEAD", "/bundles/x") is None
        assert client.request("GET", "/after") == {"ok": True}  # the connection is still usable
    assert len({s["port"] for s in server.seen}) == 1


def test_an_http_proxy_from_the_environment_is_used(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The recording server stands in for the proxy: it sees the absolute target and the proxy's credentials.
    monkeypatch.setenv("HTTP_PROXY", f"http://user:p%40ss@127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with PushflowClient("http://api.example:4300/api", "k", retries=0) as client:
        client.health()
    (seen,) = server.seen
    assert seen["path"] == "http://api.example:4300/api/health"
    assert seen["headers"]["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_no_proxy_is_honoured(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with PushflowClient(server.url, retries=0) as client:
        assert client.health() == {"ok": True}


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(TransportError, match="not an http"):
        Transport(timeout=1).request("GET", "ftp://example.com/x")


def _connect_proxy(seen: list[str], opened: list[socket.socket]) -> str:
    """A CONNECT-only proxy: records each request line, then pipes bytes both ways (its
    sockets go in `opened`, for the caller to close)."""
    listener = socket.create_server(("127.0.0.1", 0))
    opened.append(listener)

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                opened.append(client)
                head = b""
                while b"\r\n\r\n" not in head:
                    head += client.recv(4096)
                line = head.split(b"\r\n")[0].decode()
                seen.append(line)
                host, port = line.split()[1].rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                opened.append(upstream)
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
                threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_an_https_api_is_reached_through_a_proxy_with_connect_and_still_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    api: Any = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    api.seen, api.routes = [], {}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    api.socket = context.wrap_socket(api.socket, server_side=True)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    tunnels: list[str] = []
    opened: list[socket.socket] = []
    proxy_url = _connect_proxy(tunnels, opened)
    url = f"https://127.0.0.1:{api.server_address[1]}/api"
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy_url)
        for name in ("NO_PROXY", "no_proxy", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        with PushflowClient(url, retries=0) as client, pytest.raises(APIError, match="CERTIFICATE_VERIFY_FAILED"):
            client.health()  # through the tunnel, and the certificate is still checked
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now trusted
        with PushflowClient(url, "k", retries=0) as client:
            assert client.health() == {"ok": True}
    finally:
        for sock in opened:
            sock.close()
        api.shutdown()
        api.server_close()
    assert [line.rsplit(" ", 1)[0] for line in tunnels] == [f"CONNECT 127.0.0.1:{api.server_address[1]}"] * 2
    assert api.seen[0]["path"] == "/api/health"
    assert api.seen[0]["headers"]["Authorization"] == "Bearer k"
