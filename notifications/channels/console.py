"""Development channel: the message goes to the log."""

from __future__ import annotations

import logging

from . import Message

log = logging.getLogger("hotline.notifications")


class ConsoleChannel:
    name = "console"

    def send(self, message: Message) -> None:
        log.info("notify %s (outbox %s): %s", message.to, message.key, message.text)
