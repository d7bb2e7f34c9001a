"""Stored photos as responses, for the resident's tracking page and the staff ticket page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, send_file


def private_file(path: Path, mimetype: str) -> Any:
    """A stored photo, never kept by shared caches (it belongs to one ticket's viewers)."""
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
