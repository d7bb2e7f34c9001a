"""A scripted HTTP receiver on 127.0.0.1 standing in for SMS gateways and units' systems."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    def __init__(self) -> None:
        self.script: list[int] = []  # statuses to answer, then 200
        self.delays: list[float] = []  # seconds to wait before answering, per request
        self.requests: list[dict] = []
        self.accepted_keys: set[str] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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
                                          "body": body})  # fmt: skip
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
