"""HTTP/1.1 for the runtime's API client, on the standard library's `http.client`.

`pushflow execute` is a new interpreter for every run, and httpx with httpcore (and the
trio and anyio backends httpcore loads whenever they are installed) were most of its
imports (docs/performance.md). The client needs little: JSON over keep-alive
connections, timeouts, verified TLS, the environment's proxies and, for a bundle, one
redirect to a signed URL. That is this module.

Connections are kept per origin in a list of idle ones: a request takes one (or opens
one) and gives it back once its response is read, so requests made one after another
share one connection and concurrent ones (the heartbeat, the log reporter) get one each.
A connection the server closed while it was idle is dropped before it is used. Every
failure to connect, send or read a complete response is a `TransportError`; whether to
retry is the caller's decision.

TLS is verified against certifi's store, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (as
httpx did), loaded on the first https connection. Proxies come from `HTTP_PROXY`,
`HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (lower case too); only `http://` proxies are
supported (an https target goes through them with CONNECT).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import ssl
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin:
    """(scheme, host, port) of `url`, the port filled in from the scheme: what keep-alive
    connections are shared by, and what decides whether a redirect stays with the API."""
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)


class TransportError(Exception):
    """No complete response: the connection could not be made, timed out, or was closed."""


class Response:
    def __init__(self, status_code: int, headers: http.client.HTTPMessage, content: bytes, url: str) -> None:
        self.status_code = status_code
        self.headers = headers  # case-insensitive .get()
        self.content = content
        self.url = url

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _Connection:
    """One connection, and how requests on it name their target (absolute through a
    plain-http proxy)."""

    def __init__(self, conn: http.client.HTTPConnection, absolute: bool, proxy_headers: dict[str, str]) -> None:
        self.conn = conn
        self.absolute = absolute
        self.proxy_headers = proxy_headers

    def is_dropped(self) -> bool:
        """Closed by the server while idle: an idle socket that is readable is at its end."""
        sock = self.conn.sock
        if sock is None:
            return True
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))


class Transport:
    def __init__(self, *, timeout: float, headers: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self.headers = {"Accept": "*/*", "User-Agent": "pushflow", **(headers or {})}
        self._idle: dict[Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self._closed = False

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise TransportError(f"cannot request {parts.scheme}://{parts.hostname or ''}: not an http(s) URL")
        origin = origin_of(url)
        connection = self._checkout(origin)
        target = url if connection.absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.conn.request(
                method, target, body=body, headers={**self.headers, **connection.proxy_headers, **(headers or {})}
            )
            raw = connection.conn.getresponse()
            content = raw.read()
        except (OSError, http.client.HTTPException) as exc:  # timeouts and TLS errors are OSErrors
            connection.conn.close()
            raise TransportError(str(exc) or type(exc).__name__) from exc
        if raw.will_close:
            connection.conn.close()
        else:
            self._checkin(origin, connection)
        return Response(raw.status, raw.headers, content, url)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [c for conns in self._idle.values() for c in conns]
            self._idle.clear()
        for connection in idle:
            connection.conn.close()

    def _checkout(self, origin: Origin) -> _Connection:
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                connection = idle.pop()
                if not connection.is_dropped():
                    return connection
                connection.conn.close()
        return self._connect(origin)

    def _checkin(self, origin: Origin, connection: _Connection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.setdefault(origin, []).append(connection)
                return
        connection.conn.close()

    def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        proxy = _proxy_for(scheme, host)
        if proxy is None:
            return _Connection(self._open(scheme, host, port), absolute=False, proxy_headers={})
        proxy_url = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if proxy_url.scheme != "http" or not proxy_url.hostname:
            where = f"{proxy_url.scheme}://{proxy_url.hostname or ''}"
            raise TransportError(f"proxy {where} is not supported: use an http:// proxy")
        auth = {}
        if proxy_url.username is not None:
            pair = f"{unquote(proxy_url.username)}:{unquote(proxy_url.password or '')}"
            auth = {"Proxy-Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        if scheme == "https":  # a CONNECT tunnel through the proxy, then TLS with the target
            tunnel = self._open("https", proxy_url.hostname, proxy_url.port or 80)
            tunnel.set_tunnel(host, port, headers=auth)
            return _Connection(tunnel, absolute=False, proxy_headers={})
        return _Connection(
            self._open("http", proxy_url.hostname, proxy_url.port or 80), absolute=True, proxy_headers=auth
        )

    def _open(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._tls_context())
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def _tls_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._tls is None:
                self._tls = _verifying_context()
            return self._tls


def _verifying_context() -> ssl.SSLContext:
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    try:
        import certifi
    except ImportError:  # the system's store
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _proxy_for(scheme: str, host: str) -> str | None:
    """The proxy the environment names for `scheme://host`, or None (urllib's reading of
    *_PROXY and NO_PROXY; urllib.request loads only when such a variable is set)."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    if urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]  # not in typeshed
        return None
    return proxies.get(scheme) or proxies.get("all")
