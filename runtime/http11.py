"""HTTP/1.1 on one socket: what runtime/transport.py needs of `http.client`, without it.

`http.client` parses headers with the `email` package and imports `ssl` whatever the URL;
together they were the largest import left in `pushflow execute` (docs/performance.md).
This speaks the part of HTTP/1.1 a JSON API client uses: a request with a
Content-Length body, a response framed by Content-Length, chunked transfer coding or the
connection's end, informational (1xx) answers skipped, HEAD/204/304 without a body,
keep-alive unless either side says close, and a CONNECT tunnel through a proxy. `ssl` is
imported for https only. Errors are OSError (the socket's, timeouts included) or
ProtocolError.
"""

from __future__ import annotations

import socket
from typing import Any

_MAX_LINE = 65536
_MAX_HEADERS = 100


class ProtocolError(Exception):
    """The peer's answer was not HTTP/1.x as expected (or ended early)."""


class Headers(dict[str, str]):
    """Response headers by lower-cased name; a repeated header's values joined by ', '."""

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


class Response:
    def __init__(self, status: int, headers: Headers, body: bytes, will_close: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.will_close = will_close


class Connection:
    """One connection to `host:port`, opened on the first request: plain, TLS (`context`
    given), or TLS through a proxy's CONNECT tunnel (`tunnel` = target host, port and the
    headers the proxy wants)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        context: Any = None,
        tunnel: tuple[str, int, dict[str, str]] | None = None,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.context = context
        self.tunnel = tunnel
        self.sock: socket.socket | None = None
        self._reader: Any = None

    def request(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> Response:
        if self.sock is None:
            self._open()
        if target.startswith(("http://", "https://")):  # absolute, to a proxy: the target's host
            host = target.split("/", 3)[2]
        else:
            name, port = (self.tunnel[0], self.tunnel[1]) if self.tunnel else (self.host, self.port)
            host = name if port == (443 if self.context is not None else 80) else f"{name}:{port}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        if any("\r" in text or "\n" in text for text in (target, *headers.values())):
            raise ProtocolError("a request target or header value holds a line break")
        head = "\r\n".join(lines) + "\r\n\r\n"
        assert self.sock is not None
        self.sock.sendall(head.encode("latin-1") + (body or b""))
        return self._read_response(method)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self.sock is not None:
            self.sock.close()
        self.sock, self._reader = None, None

    def _open(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        try:
            if self.tunnel is not None:
                self.sock, self._reader = sock, sock.makefile("rb")
                host, port, headers = self.tunnel
                extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
                sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode("latin-1"))
                status, _ = self._read_head()
                if status != 200:
                    raise ProtocolError(f"the proxy refused the tunnel to {host}:{port}: HTTP {status}")
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=self.tunnel[0] if self.tunnel else self.host)
        except BaseException:
            sock.close()
            raise
        self.sock, self._reader = sock, sock.makefile("rb")

    def _read_response(self, method: str) -> Response:
        status, headers = self._read_head()
        while 100 <= status < 200:  # informational: the real answer follows
            status, headers = self._read_head()
        close = "close" in headers.get("connection", "").lower()
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif headers.get("content-length") is not None:
            body = self._read_exactly(int(headers["content-length"]))
        else:  # framed by the end of the connection
            body, close = self._reader.read(), True
        return Response(status, headers, body, close)

    def _read_head(self) -> tuple[int, Headers]:
        parts = self._readline().split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {b' '.join(parts)[:100]!r}")
        headers = Headers()
        for _ in range(_MAX_HEADERS):
            line = self._readline()
            if not line:
                if parts[0] == b"HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower():
                    headers["connection"] = "close"
                return int(parts[1]), headers
            name, _, value = line.decode("latin-1").partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        raise ProtocolError(f"more than {_MAX_HEADERS} headers")

    def _readline(self) -> bytes:
        line = self._reader.readline(_MAX_LINE + 1)
        if not line:
            raise ProtocolError("the connection closed before a complete answer")
        if len(line) > _MAX_LINE:
            raise ProtocolError("a header line is too long")
        return bytes(line.rstrip(b"\r\n"))

    def _read_exactly(self, size: int) -> bytes:
        data = self._reader.read(size)
        if len(data) != size:
            raise ProtocolError(f"the connection closed after {len(data)} of {size} bytes")
        return bytes(data)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_text = self._readline().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"a bad chunk size: {size_text[:20]!r}") from None
            if size == 0:
                while self._readline():  # trailers, up to the empty line
                    pass
                return b"".join(chunks)
            chunks.append(self._read_exactly(size))
            self._readline()  # the CRLF after the chunk
