"""Delivery channels. Each sends one composed message and says how it failed, if it did:
a transient failure is retried with backoff, a permanent one is not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class TransientError(Exception):
    """Try again later: timeouts, 5xx, 429, connection refused."""


class PermanentError(Exception):
    """Retrying will not help: 4xx, invalid number or address."""


class Suppressed(Exception):
    """Not to be sent at all (the resident opted out)."""


@dataclass(frozen=True)
class Message:
    """A composed notification. ``key`` is the outbox id, sent as the idempotency key."""

    key: str
    to: str
    text: str
    subject: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


def classify_http(status: int, detail: str) -> None:
    """Raise the right error for an HTTP answer that was not a success."""
    if status == 429 or status >= 500:
        raise TransientError(f"HTTP {status}: {detail[:200]}")
    if status >= 400:
        raise PermanentError(f"HTTP {status}: {detail[:200]}")
