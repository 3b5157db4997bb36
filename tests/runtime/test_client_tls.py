"""The runtime's API client loads its certificate store only for https, and still
verifies every https server: a plain-http API works without it, a self-signed https one
is refused."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.client import PushflowClient
from runtime.errors import APIError


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(context: ssl.SSLContext | None) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if context else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def plain_api() -> Iterator[str]:
    yield from _serve(None)


@pytest.fixture
def self_signed_api(tmp_path: Path) -> Iterator[str]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test's certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    yield from _serve(context)


def test_a_plain_http_api_is_reached(plain_api: str) -> None:
    with PushflowClient(plain_api, retries=0) as client:
        assert client.health() == {"status": "ok"}


def test_an_https_api_with_an_untrusted_certificate_is_refused(self_signed_api: str) -> None:
    with (
        PushflowClient(self_signed_api, retries=0) as client,
        pytest.raises(APIError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.health()
