"""ServiceClient against a real local HTTP server: what happens to pooled keep-alive connections."""

import contextlib
import select
import socket
import struct
import threading
import time

import pytest

from library_common.errors import DependencyUnavailable
from library_common.http import ServiceClient


class KeepAliveServer:
    """HTTP/1.1 on a local port. A connection's first request is answered with keep-alive; what happens to the
    next one on that connection is `then`: "reset" or "closed" (dropped unanswered, as a server does when it
    times out a kept-alive connection just as the client reuses it). `then="drop"` resets every connection at
    its first request; `then="silent"` answers nothing.
    """

    def __init__(self, then):
        self.then = then
        self.requests = []  # (connection number, request line)
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.open.append(conn)
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn, number):
        with contextlib.suppress(OSError, ValueError):  # closed by close() at the end of the test
            self._converse(conn, number)

    def _converse(self, conn, number):
        buffer, served = b"", 0
        while True:
            if self.then == "drop" or (served and self.then in ("reset", "closed")):
                select.select([conn], [], [], 10)  # the request has arrived (unread): drop it
                if self.then != "closed":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    conn.close()
                    return
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(buffer) < length:
                buffer += conn.recv(65536)
            buffer = buffer[length:]
            self.requests.append((number, head.split(b"\r\n")[0].decode()))
            if self.then == "silent":
                continue
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n"
                         b"Connection: keep-alive\r\n\r\n{\"ok\": true}")
            served += 1

    def close(self):
        self.listener.close()
        for conn in self.open:
            conn.close()


@pytest.fixture
def server(request):
    server = KeepAliveServer(request.param)
    yield server
    server.close()


def client_for(server, read_timeout=2):
    return ServiceClient("test-service", server.url, connect_timeout=1, read_timeout=read_timeout, retries=2)


@pytest.mark.parametrize("server", ["reset", "closed"], indirect=True)
def test_a_read_sent_on_a_kept_alive_connection_the_server_drops_is_sent_again(server):
    client = client_for(server)
    assert client.get("/books/1").json() == {"ok": True}

    started = time.monotonic()
    assert client.get("/books/1").json() == {"ok": True}  # the pooled connection is dropped under it

    assert time.monotonic() - started < 1
    assert server.requests == [(1, "GET /books/1 HTTP/1.1"), (2, "GET /books/1 HTTP/1.1")]


@pytest.mark.parametrize("server", ["reset", "closed"], indirect=True)
def test_a_change_sent_on_a_dropped_connection_is_never_sent_twice(server):
    client = client_for(server)
    client.get("/books/1")

    with pytest.raises(DependencyUnavailable):
        client.request("POST", "/books", json={"title": "Once"})

    time.sleep(0.2)  # a second copy, if one were sent, would have arrived by now
    assert server.connections == 1
    assert server.requests == [(1, "GET /books/1 HTTP/1.1")]


@pytest.mark.parametrize("server", ["drop"], indirect=True)
def test_a_read_dropped_every_time_is_sent_again_only_as_often_as_retries_allow(server):
    client = client_for(server)

    with pytest.raises(DependencyUnavailable):
        client.get("/books/1")

    time.sleep(0.2)
    assert server.connections == 3  # the first try and retries=2


@pytest.mark.parametrize("server", ["silent"], indirect=True)
def test_a_read_that_times_out_is_not_sent_again(server):
    client = client_for(server, read_timeout=0.3)

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        client.get("/books/1")

    assert time.monotonic() - started < 1
    time.sleep(0.2)
    assert server.requests == [(1, "GET /books/1 HTTP/1.1")]
