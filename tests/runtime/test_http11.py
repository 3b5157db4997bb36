"""runtime/http11.py against a server that answers scripted bytes: the framings of a
response body, informational answers, who closes the connection, and what is refused."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from runtime.http11 import Connection, ProtocolError


@pytest.fixture
def scripted() -> Iterator[tuple[list[bytes], list[bytes], int]]:
    """(answers, requests, port): each accepted connection reads a request's head and
    answers with the next scripted bytes, as long as answers are left."""
    answers: list[bytes] = []
    requests: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while answers:
                    head = b""
                    while b"\r\n\r\n" not in head:
                        data = conn.recv(4096)
                        if not data:
                            break
                        head += data
                    if not head:
                        break
                    requests.append(head)
                    conn.sendall(answers.pop(0))
                    if not answers:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield answers, requests, listener.getsockname()[1]
    listener.close()


def test_bodies_framed_by_length_by_chunks_and_after_informational_answers(
    scripted: tuple[list[bytes], list[bytes], int],
) -> None:
    answers, requests, port = scripted
    answers += [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\nx-a: 2\r\n\r\nhi",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ]
    conn = Connection("127.0.0.1", port, timeout=5)
    try:
        first = conn.request("GET", "/a", {"Accept": "*/*"}, None)
        assert (first.status, first.body, first.headers.get("X-A"), first.will_close) == (200, b"hi", "1, 2", False)
        second = conn.request("POST", "/b", {}, b"{}")
        assert (second.status, second.body) == (200, b"abcde")
        third = conn.request("GET", "/c", {}, None)
        assert (third.status, third.body) == (204, b"")
    finally:
        conn.close()
    assert requests[0].startswith(b"GET /a HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Content-Length: 2\r\n" in requests[1]
    assert len(requests) == 3  # one connection for all three


def test_the_server_closing_is_understood(scripted: tuple[list[bytes], list[bytes], int]) -> None:
    answers, _, port = scripted
    answers += [b"HTTP/1.0 200 OK\r\n\r\nuntil the end"]
    conn = Connection("127.0.0.1", port, timeout=5)
    try:
        answer = conn.request("GET", "/", {}, None)
    finally:
        conn.close()
    assert (answer.body, answer.will_close) == (b"until the end", True)


def test_an_answer_cut_short_is_an_error(scripted: tuple[list[bytes], list[bytes], int]) -> None:
    answers, _, port = scripted
    answers += [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"]
    conn = Connection("127.0.0.1", port, timeout=5)
    try:
        with pytest.raises(ProtocolError, match="5 of 10 bytes"):
            conn.request("GET", "/", {}, None)
    finally:
        conn.close()


def test_a_line_break_in_a_header_or_target_is_refused() -> None:
    conn = Connection("127.0.0.1", 9, timeout=1)
    conn.sock = socket.socket()  # never used: the request is refused before it is sent
    try:
        for target, headers in (("/x\r\nEvil: 1", {}), ("/x", {"A": "b\r\nEvil: 1"})):
            with pytest.raises(ProtocolError, match="line break"):
                conn.request("GET", target, headers, None)
    finally:
        conn.close()
