"""Webhooks to a unit's own system: JSON, signed with HMAC-SHA256 over the raw body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests

from . import Message, TransientError, classify_http

TIMEOUT = (3.05, 10)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC of "<t>." + body>``: the receiver recomputes it and
    refuses old timestamps, so a captured request cannot be replayed later."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, secret: str, session: requests.Session | None = None) -> None:
        self.url, self.secret = url, secret
        self.http = session or requests.Session()

    def send(self, message: Message) -> None:
        body = json.dumps(
            {"id": message.key, "text": message.text, **message.data}, ensure_ascii=False
        ).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.key,
            "X-Hotline-Signature": signature(self.secret, int(time.time()), body),
        }
        try:
            response = self.http.post(self.url, data=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if not response.ok:
            classify_http(response.status_code, response.text)
