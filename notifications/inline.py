"""Hooking delivery onto the web app: after a request that may have written outbox rows, hand
them on (enqueue on Redis, or deliver in-process without it) once the response is sent."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request

from .outbox import flush

log = logging.getLogger(__name__)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def install(app: Flask) -> None:
    extension = app.extensions["hotline"]

    @app.after_request
    def _hand_on(response: Any) -> Any:
        if request.method in MUTATING and response.status_code < 400:
            response.call_on_close(_flush_quietly)
        return response

    def _flush_quietly() -> None:
        try:
            flush(extension.settings, extension.db)
        except Exception:
            log.warning("outbox hand-on failed; the scheduler will retry", exc_info=True)
