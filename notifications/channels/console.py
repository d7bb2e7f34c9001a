"""Development channel (``make run`` without an SMS gateway, units without a webhook or
e-mail): the message is printed on the server's output, one line each, so that whoever runs
the demo sees what residents and units would receive. Admins see the latest ones in the
console too (the delivery keeps the text with the outbox row, see jobs.deliver)."""

from __future__ import annotations

import logging
import sys
from datetime import datetime

from . import Message

log = logging.getLogger("hotline.notifications")


def console_line(message: Message, at: datetime) -> str:
    """``[演示通道 11:02:14] → 13812341234（通知 12）：text`` on one line."""
    text = " ".join(message.text.split())  # a multi-line text stays one line
    return f"[演示通道 {at:%H:%M:%S}] → {message.to}（通知 {message.key}）：{text}"


class ConsoleChannel:
    name = "console"

    def send(self, message: Message) -> None:
        # stdout, not a logger: nothing configures logging in `make run`, and gunicorn's
        # workers share the terminal's stdout. Flushed at once, or it waits for a buffer.
        print(console_line(message, datetime.now().astimezone()), file=sys.stdout, flush=True)
        log.info("notify %s (outbox %s): %s", message.to, message.key, message.text)
