"""Hooking delivery onto the web app: after a request that may have written outbox rows, hand
them on (enqueue on Redis, or deliver in-process without it) once the response is sent."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request

from .imports import flush_imports
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

    @app.after_request
    def _start_imports(response: Any) -> Any:
        # Uploads too large to import within their request go to the "imports" queue at
        # once; without Redis the scheduler runs them (a web worker must not).
        if (request.path == "/api/v1/imports" and response.status_code == 202
                and extension.settings.redis_url):  # fmt: skip
            response.call_on_close(_start_imports_quietly)
        return response

    def _flush_quietly() -> None:
        try:
            flush(extension.settings, extension.db)
        except Exception:
            log.warning("outbox hand-on failed; the scheduler will retry", exc_info=True)

    def _start_imports_quietly() -> None:
        try:
            flush_imports(extension.settings, extension.db)
        except Exception:
            log.warning("import hand-on failed; the scheduler will retry", exc_info=True)
