"""A scripted HTTP receiver on 127.0.0.1 standing in for SMS gateways and units' systems,
and a Redis server of a test's own, to stop and start."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class Receiver:
    def __init__(self) -> None:
        self.script: list[int] = []  # statuses to answer, then 200
        self.delays: list[float] = []  # seconds to wait before answering, per request
        self.requests: list[dict] = []
        self.accepted_keys: set[str] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def _handler(self):  # type: ignore[no-untyped-def]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.script.pop(0) if receiver.script else 200
                key = self.headers.get("Idempotency-Key", "")
                if status == 200:
                    receiver.accepted_keys.add(key)  # taken before answering, as real ones do
                receiver.requests.append({"status": status, "key": key,
                                          "signature": self.headers.get("X-Hotline-Signature"),
                                          "body": body, "at": time.monotonic()})  # fmt: skip
                if receiver.delays:
                    time.sleep(receiver.delays.pop(0))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps({"ok": status == 200}).encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender died while we took our time

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def fresh_templates():
    """Each test sees the templates as it set them, not as an earlier test left them cached."""
    from notifications.compose import forget_templates

    forget_templates()
    yield
    forget_templates()


class RedisServer:
    """A real ``redis-server`` on a free port, without persistence: stopped with
    ``shutdown nosave`` it comes back empty, as a Redis restarted without its data does."""

    def __init__(self, log: Path) -> None:
        with socket.socket() as probe:  # a free port (free again once closed)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--daemonize", "no"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while self._cli("ping") != "PONG":
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.05)

    def stop(self) -> None:
        """``shutdown nosave``: the data is gone, every client's connection drops."""
        if self.process is None:
            return
        self._cli("shutdown", "nosave")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _cli(self, *command: str) -> str:
        done = subprocess.run(["redis-cli", "-p", str(self.port), *command],
                              capture_output=True, text=True, timeout=10)  # fmt: skip
        return done.stdout.strip()


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own (the shared one must not be stopped)."""
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server and redis-cli are required under CI=true")
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    yield server
    server.stop()
