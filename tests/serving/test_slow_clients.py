"""Slow clients must not stop the service: gunicorn as configured in gunicorn.conf.py, real
sockets held open slowly (headers a byte at a time, idle keep-alive, a body trickling in),
and ordinary requests answered meanwhile."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.helpers.servers import gunicorn

# 50 connections held at once (HOTLINE_SLOW_CONNECTIONS=200 to try more): 40% never finish
# their headers, 30% stay idle after one request, 30% trickle a body in.
HELD = int(os.environ.get("HOTLINE_SLOW_CONNECTIONS", "50"))
SLOW_HEADERS, IDLE = HELD * 2 // 5, HELD * 3 // 10
SLOW_BODIES = HELD - SLOW_HEADERS - IDLE


@pytest.fixture
def server(settings, db, tmp_path) -> Iterator[str]:
    """Two workers: far fewer than the slow connections."""
    with gunicorn(settings.database_url, tmp_path, workers=2) as url:
        yield url


class Slow:
    """Sockets that keep the server waiting, each kind as a phone on a bad signal would."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.sockets.append(sock)
        return sock

    def slow_headers(self) -> None:
        sock = self.connect()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hotline\r\n")
        threading.Thread(target=self._drip, args=(sock, b"X-Slow: " + b"a" * 200),
                         daemon=True).start()  # fmt: skip

    def idle_keepalive(self) -> None:
        sock = self.connect()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hotline\r\n\r\n")
        assert b"200" in sock.recv(4096).split(b"\r\n", 1)[0]  # then says nothing more

    def slow_body(self) -> None:
        sock = self.connect()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: hotline\r\nContent-Type: multipart/form-data; "
                     b"boundary=x\r\nContent-Length: 5000000\r\n\r\n--x\r\n")  # fmt: skip
        threading.Thread(target=self._drip, args=(sock, b"y" * 4000), daemon=True).start()

    def _drip(self, sock: socket.socket, data: bytes) -> None:
        for byte in data:
            if self.stop.wait(0.5):
                return
            try:
                sock.send(bytes([byte]))
            except OSError:
                return  # the server closed it: what a bounded server does

    def close(self) -> None:
        self.stop.set()
        for sock in self.sockets:
            sock.close()


def test_slow_connections_do_not_stop_ordinary_requests(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    slow = Slow(port)
    try:
        for _ in range(SLOW_HEADERS):
            slow.slow_headers()
        for _ in range(IDLE):
            slow.idle_keepalive()
        for _ in range(SLOW_BODIES):
            slow.slow_body()
        time.sleep(1.0)  # every slow connection is now holding whatever it can hold
        timings = []
        for path in ("/healthz", "/", "/readyz", "/track/WM20261121-0001?token=x") * 5:
            started = time.monotonic()
            response = requests.get(server + path, timeout=5)
            timings.append(time.monotonic() - started)
            assert response.status_code in (200, 404), path
        print(f"\n{len(slow.sockets)} slow connections held; ordinary requests: "
              f"max {max(timings) * 1000:.0f} ms, median {sorted(timings)[10] * 1000:.0f} ms")
        assert max(timings) < 1.0
    finally:
        slow.close()


def test_slow_headers_and_idle_connections_are_closed_after_the_keepalive(server: str) -> None:
    """A connection that never finishes its headers, or stays idle, is dropped by the server
    (gunicorn.conf.py: keepalive = 5 s), so an attacker must keep paying for each one."""
    port = int(server.rsplit(":", 1)[1])
    slow = Slow(port)
    try:
        slow.slow_headers()
        slow.idle_keepalive()
        held = list(slow.sockets)
        deadline = time.monotonic() + 12
        closed: set[int] = set()
        while len(closed) < len(held) and time.monotonic() < deadline:
            for index, sock in enumerate(held):
                sock.settimeout(0.2)
                try:
                    if sock.recv(4096) == b"":
                        closed.add(index)
                except TimeoutError:
                    pass
                except OSError:
                    closed.add(index)
        assert closed == {0, 1}, "slow or idle connections were kept open beyond the keepalive"
    finally:
        slow.close()
